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
import re
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


def wrapped_lines(text: str, columns: int = COLUMNS) -> tuple[str, ...]:
    """The page's lines as typed: each source line wrapped at `columns`, blank lines kept."""
    return tuple(_printable(piece) for line in _source(text).lines for piece in _wrap_line(line, columns))


def _printable(line: str) -> str:
    """Control and bidi-override characters are not drawn (they would garble the line)."""
    if line.isprintable():  # the bidi controls are not printable either: nothing to take out
        return line
    return "".join(ch for ch in line if ch.isprintable() and not 0x202A <= ord(ch) <= 0x202E
                   and not 0x2066 <= ord(ch) <= 0x2069)


# -- measuring without drawing -------------------------------------------------------------------
# The wrap is `textwrap.wrap(line, columns, break_long_words=True, replace_whitespace=False,
# drop_whitespace=True)`, which a manifest needs some ten times per page (the bisection below) and
# which walks the line word by word in Python. Most lines are words between plain spaces, with no
# hyphen (textwrap may break after one) and no word wider than the narrowest sheet: for those the
# greedy wrap is one regular expression per width, run in C, with the same breaks. Any other line
# goes to textwrap itself. tests/test_iiif_typescript_layout.py holds both to the same output.

_OTHER_WHITESPACE = re.compile(r"[^\S ]")


@lru_cache(maxsize=512)
def _line_pattern(columns: int) -> re.Pattern:
    """A typed line at `columns`: from a word's start, the most characters that end before a space or the end."""
    return re.compile(rf"[^ ].{{0,{columns - 1}}}(?= |\Z)", re.DOTALL)


@lru_cache(maxsize=65536)
def _simple_form(line: str) -> tuple[str, int] | None:
    """The line as the fast wrap reads it (leading spaces joined to the first word, which textwrap never
    separates from it on a sheet's width) and its widest word; None when only textwrap's own rules
    give its breaks (a hyphen, whitespace other than spaces, a word wider than the narrowest sheet)."""
    if "-" in line or not (line.isascii() and line.isprintable()) and _OTHER_WHITESPACE.search(line):
        return None
    body = line.lstrip(" ")
    indent = len(line) - len(body)
    form = "x" * indent + body if indent else line
    widest = max(map(len, form.split()), default=0)
    return None if widest > COLUMNS else (form, widest)


@lru_cache(maxsize=65536)
def _textwrap(line: str, columns: int) -> tuple[str, ...]:
    return tuple(textwrap.wrap(line, columns, break_long_words=True, replace_whitespace=False,
                               drop_whitespace=True))


def _wrap_line(line: str, columns: int) -> list[str] | tuple[str, ...]:
    """One source line as typed at `columns` (before `_printable`): textwrap's pieces, [""] for a blank line."""
    if not line.strip():
        return [""]
    simple = _simple_form(line) if columns >= COLUMNS else None
    if simple is None:
        return _textwrap(line, columns) or [""]
    return [line[m.start():m.end()].rstrip(" ") for m in _line_pattern(columns).finditer(simple[0])]


def _line_count(line: str, columns: int) -> int:
    simple = _simple_form(line) if columns >= COLUMNS else None
    if simple is None:
        return len(_textwrap(line, columns)) or 1
    return len(_line_pattern(columns).findall(simple[0]))


@dataclass(frozen=True)
class _Long:
    """A source line longer than the narrowest sheet's line, with what bounds its typed lines: its
    length to its last word, its widest word and its widest run of spaces (the simple form's)."""

    line: str
    form: str | None
    length: int
    widest_word: int
    widest_gap: int

    def bounds(self, columns: int) -> tuple[int, int]:
        """(fewest, most) typed lines at `columns`. Each typed line but the last ends because the next
        word did not fit, so it takes more than `columns - widest_word` characters, and at most
        `columns + widest_gap` up to the next line's start."""
        if self.form is None:
            exact = _line_count(self.line, columns)
            return exact, exact
        fewest = 1 + max(0, -(-(self.length - columns) // (columns + self.widest_gap)))
        most = 1 + (self.length - 1) // (columns - self.widest_word + 1)
        return fewest, most


@dataclass(frozen=True)
class _Source:
    """A page's source lines, measured once: those that make one typed line on every sheet, and the rest."""

    lines: tuple[str, ...]
    single: int
    long: tuple[_Long, ...]


def _long(line: str) -> _Long:
    simple = _simple_form(line)
    if simple is None:
        return _Long(line, None, 0, 0, 0)
    form, widest_word = simple[0].rstrip(" "), simple[1]
    widest_gap = 1 if "  " not in form else max(map(len, _SPACES.findall(form)))
    return _Long(line, form, len(form), widest_word, widest_gap)


_SPACES = re.compile(" +")


@lru_cache(maxsize=4096)
def _source(text: str) -> _Source:
    lines = tuple(text.expandtabs(4).splitlines() or [""])
    long = tuple(_long(line) for line in lines if len(line) > COLUMNS and line.strip())
    return _Source(lines, len(lines) - len(long), long)


def _typed_lines(text: str, columns: int) -> int:
    """How many lines `wrapped_lines(text, columns)` has, without building them."""
    source = _source(text)
    return source.single + sum(_line_count(long.line, columns) for long in source.long)


def _sheet(columns: int) -> tuple[int, int]:
    """(width, height) of the letter sheet on which `columns` columns of type fill the line."""
    scale = columns / COLUMNS
    return round(WIDTH * scale), round(HEIGHT * scale)


@lru_cache(maxsize=512)
def _capacity(columns: int) -> int:
    """How many lines the sheet for `columns` holds between the band and the bottom margin."""
    scale = columns / COLUMNS
    return (_sheet(columns)[1] - round(TEXT_TOP * scale) - round(MARGIN * scale)) // LINE_HEIGHT


def _fits(text: str, columns: int) -> bool:
    """Whether the page's typed lines fit the sheet: settled by the bounds where they can, else counted."""
    source, room = _source(text), _capacity(columns)
    fewest = most = source.single
    for long in source.long:
        low, high = long.bounds(columns)
        fewest, most = fewest + low, most + high
    if fewest > room:
        return False
    return most <= room or _typed_lines(text, columns) <= room


@lru_cache(maxsize=16384)
def _measure(text: str) -> tuple[int, int, int]:
    """(columns, width, height): the smallest letter sheet that holds the whole page (found by
    bisection: a wider sheet holds more lines and wraps fewer); past MAX_SCALE the smallest sheet,
    grown as tall as the text needs."""
    low, high = COLUMNS, COLUMNS * MAX_SCALE
    if _fits(text, low):  # most pages: the letter sheet itself, settled in one test instead of eight
        return (low, *_sheet(low))
    if not _fits(text, high):
        return COLUMNS, WIDTH, TEXT_TOP + _typed_lines(text, COLUMNS) * LINE_HEIGHT + MARGIN
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if _fits(text, middle) else (middle + 1, high)
    return (low, *_sheet(low))


@lru_cache(maxsize=256)
def layout(text: str) -> Layout:
    """Where the page's text goes (see `_measure` for the sheet it is set on)."""
    columns, width, height = _measure(text)
    return Layout(columns, wrapped_lines(text, columns), width, height)


def page_size(text: str) -> tuple[int, int]:
    """(width, height) of the image `render` draws for this text."""
    _, width, height = _measure(text)
    return width, height


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
        cursor = 0
        for piece in _wrap_line(line, sheet.columns):
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
