"""The demo's HTML report: one self-contained page (images inlined, no network).

`Report` collects sections (a title, paragraphs, preformatted text, images, tables)
and writes them as one HTML file, atomically; each image is also written next to it
as a PNG.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em;
       color: #1d1d1f; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
pre { background: #f6f6f4; padding: 0.8em; overflow-x: auto; font-size: 13px; line-height: 1.35; }
img { max-width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 14px; }
td, th { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; }
th { background: #f3f3f0; }
.muted { color: #666; font-size: 13px; }
"""


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so a failure never leaves a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (and the figure closed)."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


@dataclass
class Report:
    """Sections of HTML, built in order; `write` saves the page and its images."""

    title: str
    parts: list[str] = field(default_factory=list)
    images: dict[str, bytes] = field(default_factory=dict)

    def section(self, title: str) -> None:
        self.parts.append(f"<h2>{html.escape(title)}</h2>")

    def text(self, words: str) -> None:
        self.parts.append(f"<p>{html.escape(words)}</p>")

    def pre(self, block: str) -> None:
        self.parts.append(f"<pre>{html.escape(block)}</pre>")

    def image(self, name: str, png: bytes, alt: str) -> None:
        self.images[name] = png
        data = base64.b64encode(png).decode("ascii")
        self.parts.append(
            f'<p><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
            f'data-name="{html.escape(name)}"></p>'
        )

    def table(self, head: list[str], rows: list[list[str]]) -> None:
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        self.parts.append(f"<table><tr>{cells}</tr>{body}</table>")

    def html(self) -> str:
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{html.escape(self.title)}</h1>{''.join(self.parts)}</body></html>\n"
        )

    def write(self, folder: Path, name: str = "report.html") -> Path:
        """Write the images and the page into ``folder``; the page's absolute path."""
        for image, png in self.images.items():
            write_atomically(folder / image, png)
        path = (folder / name).absolute()
        write_atomically(path, self.html().encode("utf-8"))
        return path
