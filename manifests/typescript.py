"""Typescript-like page images drawn from a page's transcription, for pages with no facsimile.

A viewer needs something to paint on every Canvas. Where a record names no scan, the server draws
the transcribed text on a letter-size sheet in a monospace face, the way a typist would have set it,
and the manifest says plainly that the image is a rendering of the transcription, not a facsimile.
Layout is computed without drawing, so manifests and `info.json` know the size of an image that
has not been rendered yet.
"""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache
from pathlib import Path

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
              "/usr/share/fonts/dejavu/DejaVuSansMono.ttf")
FONT_SIZE = 24
COLUMNS = 68
LINE_HEIGHT = 34
MARGIN = 120
WIDTH = 1275
"""8.5 inches at 150 dpi; the height grows past 11 inches when a page's text needs it."""
MIN_HEIGHT = 1650
FOOTER = "Rendering of the catalog's transcription; not a facsimile of the original."
PAPER = 250
INK = 35
FOOTER_INK = 110


@lru_cache(maxsize=4096)
def wrapped_lines(text: str) -> tuple[str, ...]:
    """The page's lines as typed: each source line wrapped at COLUMNS, blank lines kept."""
    lines: list[str] = []
    for line in text.expandtabs(4).splitlines() or [""]:
        pieces = textwrap.wrap(line, COLUMNS, break_long_words=True, replace_whitespace=False,
                               drop_whitespace=True) if line.strip() else [""]
        lines.extend(pieces or [""])
    return tuple(_printable(line) for line in lines)


def _printable(line: str) -> str:
    """Control and bidi-override characters are not drawn (they would garble the line)."""
    return "".join(ch for ch in line if ch.isprintable() and not 0x202A <= ord(ch) <= 0x202E
                   and not 0x2066 <= ord(ch) <= 0x2069)


def page_size(text: str) -> tuple[int, int]:
    """(width, height) of the image `render` draws for this text."""
    needed = 2 * MARGIN + len(wrapped_lines(text)) * LINE_HEIGHT + LINE_HEIGHT * 2
    return WIDTH, max(MIN_HEIGHT, needed)


@lru_cache(maxsize=1)
def _font(size: int = FONT_SIZE) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


@lru_cache(maxsize=1)
def _footer_font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, 16)
    return ImageFont.load_default(16)


def render(text: str, size: tuple[int, int] | None = None, image_format: str = "PNG") -> bytes:
    """The page as PNG (or JPEG) bytes, scaled to `size` (width, height) when given."""
    width, height = page_size(text)
    image = Image.new("L", (width, height), PAPER)
    draw = ImageDraw.Draw(image)
    font = _font()
    y = MARGIN
    for line in wrapped_lines(text):
        if line:
            draw.text((MARGIN, y), line, fill=INK, font=font)
        y += LINE_HEIGHT
    draw.text((MARGIN, height - MARGIN // 2 - 16), FOOTER, fill=FOOTER_INK, font=_footer_font())
    if size and size != (width, height):
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image_format == "PNG":
        image.save(out, format="PNG", compress_level=6)
    else:
        image.save(out, format=image_format, quality=85)
    return out.getvalue()
