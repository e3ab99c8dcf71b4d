"""Typescript-like page images drawn from a page's transcription, for pages with no facsimile.

A viewer needs something to paint on every Canvas. Where a record names no scan, the server draws
the transcribed text on a letter-size sheet in a monospace face, the way a typist would have set it,
and the manifest says plainly that the image is a rendering of the transcription, not a facsimile.
Layout is computed without drawing, so manifests and `info.json` know the size of an image that
has not been rendered yet.

Every sheet keeps letter proportions (8.5 × 11) and one Canvas per transcribed page: a page whose
text does not fit at 150 dpi is set on a larger sheet of the same proportions (finer type: the
glyphs keep their pixel size, so the text stays legible when zoomed, and longer lines are wrapped
later). Continuing a page onto further sheets would change canvas counts, ids and annotation
targets that viewers and links depend on; the finer sheet changes only the image.

Across the top of every sheet runs a dark band saying the image is a rendering, not a facsimile:
it is part of the sheet, so it scales with the image and shows at every size a viewer asks for,
where viewers' own controls cover the bottom edge.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
              "/usr/share/fonts/dejavu/DejaVuSansMono.ttf")
BAND_FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                   "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf") + FONT_PATHS
FONT_SIZE = 24
COLUMNS = 68
LINE_HEIGHT = 34
"""Type and line spacing in pixels, the same on every sheet (a larger sheet has finer type, not smaller glyphs)."""
WIDTH = 1275
HEIGHT = 1650
"""A letter sheet (8.5 × 11 inches) at 150 dpi: the smallest sheet, and the proportions of every sheet."""
MARGIN = 120
BAND_HEIGHT = 84
BAND_FONT_SIZE = 30
TEXT_TOP = BAND_HEIGHT + 60
"""Sheet measures at 150 dpi; a larger sheet scales them with its width."""
MAX_SCALE = 2
"""The largest letter sheet is 2 × 150 dpi (136 columns, 81 lines: some 160 lines of the smallest sheet).
A page longer still is set as before this limit existed, on the smallest sheet's width grown taller,
rather than lose text or cost a sheet of many megapixels."""
BAND_TEXT = "RENDERING OF THE TRANSCRIPTION \u2014 NOT A FACSIMILE"
PAPER = 250
INK = 35
BAND_PAPER = 45
BAND_INK = 250


@dataclass(frozen=True)
class Layout:
    """Where a page's text goes: the columns it is wrapped at, its lines and the sheet's size."""

    columns: int
    lines: tuple[str, ...]
    width: int
    height: int

    @property
    def scale(self) -> float:
        """The sheet's size relative to a 150 dpi letter sheet."""
        return self.columns / COLUMNS

    def px(self, measure: int) -> int:
        """A sheet measure (margin, band) on this sheet."""
        return round(measure * self.scale)


@lru_cache(maxsize=4096)
def wrapped_lines(text: str, columns: int = COLUMNS) -> tuple[str, ...]:
    """The page's lines as typed: each source line wrapped at `columns`, blank lines kept."""
    lines: list[str] = []
    for line in text.expandtabs(4).splitlines() or [""]:
        pieces = textwrap.wrap(line, columns, break_long_words=True, replace_whitespace=False,
                               drop_whitespace=True) if line.strip() else [""]
        lines.extend(pieces or [""])
    return tuple(_printable(line) for line in lines)


def _printable(line: str) -> str:
    """Control and bidi-override characters are not drawn (they would garble the line)."""
    return "".join(ch for ch in line if ch.isprintable() and not 0x202A <= ord(ch) <= 0x202E
                   and not 0x2066 <= ord(ch) <= 0x2069)


def _sheet(columns: int) -> tuple[int, int]:
    """(width, height) of the letter sheet on which `columns` columns of type fill the line."""
    scale = columns / COLUMNS
    return round(WIDTH * scale), round(HEIGHT * scale)


def _capacity(columns: int) -> int:
    """How many lines the sheet for `columns` holds between the band and the bottom margin."""
    scale = columns / COLUMNS
    return (_sheet(columns)[1] - round(TEXT_TOP * scale) - round(MARGIN * scale)) // LINE_HEIGHT


def _fits(text: str, columns: int) -> bool:
    return len(wrapped_lines(text, columns)) <= _capacity(columns)


@lru_cache(maxsize=4096)
def layout(text: str) -> Layout:
    """The smallest letter sheet that holds the whole page (found by bisection: a wider sheet holds
    more lines and wraps fewer); past MAX_SCALE the smallest sheet, grown as tall as the text needs."""
    low, high = COLUMNS, COLUMNS * MAX_SCALE
    if not _fits(text, high):
        lines = wrapped_lines(text, COLUMNS)
        return Layout(COLUMNS, lines, WIDTH, TEXT_TOP + len(lines) * LINE_HEIGHT + MARGIN)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if _fits(text, middle) else (middle + 1, high)
    return Layout(low, wrapped_lines(text, low), *_sheet(low))


def page_size(text: str) -> tuple[int, int]:
    """(width, height) of the image `render` draws for this text."""
    found = layout(text)
    return found.width, found.height


@lru_cache(maxsize=16)
def _font(size: int = FONT_SIZE, paths: tuple[str, ...] = FONT_PATHS) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in paths:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _band_font(sheet: Layout) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """The band's face at the sheet's scale, made smaller if a fallback face would overrun the margins."""
    size = sheet.px(BAND_FONT_SIZE)
    room = sheet.width - 2 * sheet.px(MARGIN)
    font = _font(size, BAND_FONT_PATHS)
    while size > 8 and font.getlength(BAND_TEXT) > room:
        size -= 1
        font = _font(size, BAND_FONT_PATHS)
    return font


def draw_sheet(text: str) -> Image.Image:
    """The whole sheet at full size: the band, then the text in its lines."""
    sheet = layout(text)
    image = Image.new("L", (sheet.width, sheet.height), PAPER)
    draw = ImageDraw.Draw(image)
    band = sheet.px(BAND_HEIGHT)
    draw.rectangle((0, 0, sheet.width, band - 1), fill=BAND_PAPER)
    draw.text((sheet.px(MARGIN), band // 2), BAND_TEXT, fill=BAND_INK, font=_band_font(sheet), anchor="lm")
    font = _font()
    y = sheet.px(TEXT_TOP)
    for line in sheet.lines:
        if line:
            draw.text((sheet.px(MARGIN), y), line, fill=INK, font=font)
        y += LINE_HEIGHT
    return image


def render(text: str, size: tuple[int, int] | None = None, image_format: str = "PNG",
           region: tuple[int, int, int, int] | None = None) -> bytes:
    """The page as PNG (or JPEG) bytes: the `region` (x, y, w, h) of the sheet, else all of it,
    scaled to `size` (width, height) when given."""
    image = draw_sheet(text)
    if region and region != (0, 0, image.width, image.height):
        x, y, w, h = region
        image = image.crop((x, y, x + w, y + h))
    if size and size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image_format == "PNG":
        image.save(out, format="PNG", compress_level=6)
    else:
        image.save(out, format=image_format, quality=85)
    return out.getvalue()


def text_box(text: str, start: int, end: int) -> tuple[int, int, int, int] | None:
    """Where `text[start:end]` is drawn on its sheet, as (x, y, w, h) pixels: the renderer knows where
    every character stands, so a search hit can be boxed on the page. A match running over a line
    break is boxed on its first line; None where the layout cannot be followed (tabs, characters
    the renderer leaves out)."""
    sheet = layout(text)
    advance = _font().getlength("M")
    row, offset = 0, 0
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if "\t" in line or _printable(line) != line:
            if offset <= start < offset + len(line) + 1:
                return None
            row += len(wrapped_lines(line, sheet.columns))
            offset += len(line) + 1
            continue
        pieces = textwrap.wrap(line, sheet.columns, break_long_words=True, replace_whitespace=False,
                               drop_whitespace=True) if line.strip() else [""]
        cursor = 0
        for piece in pieces or [""]:
            at = line.find(piece, cursor) if piece else cursor
            if piece and offset + at <= start < offset + at + len(piece):
                column = start - offset - at
                width = min(end, offset + at + len(piece)) - start
                x = sheet.px(MARGIN) + round(column * advance)
                y = sheet.px(TEXT_TOP) + row * LINE_HEIGHT
                return x, y, max(1, round(width * advance)), LINE_HEIGHT
            cursor = at + len(piece)
            row += 1
        offset += len(line) + 1
    return None
