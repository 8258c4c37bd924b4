"""``python -m convolib``: the ``convolib`` command (`convolib.cli`)."""

from .cli import main

main(prog_name="convolib")
