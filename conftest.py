"""Settings for every test, doctests of README.md, docs/ and src/ included."""

import os

os.environ["CONVOLIB_CALIBRATION"] = "off"  # plans must not depend on the machine
