"""The typescript layout is measured fast and lands exactly where textwrap put it.

The sheet sizes (canvas sizes in every manifest), the typed lines (the drawn image) and the word
boxes (Content Search hits, footnote targets) were first computed with `textwrap` character by
character; the fast measure must give the same answers. `reference_*` below is that original code,
kept here as the oracle: the fixture corpus, synthetic records and texts made to hit textwrap's
corners (hyphens, long words, runs of spaces, indents, tabs, control characters) are laid out both ways.
"""

from __future__ import annotations

import json
import random
import textwrap
from functools import cache

import pytest

from manifests import typescript
from tests.conftest import FIXTURE_RECORDS

# -- the original layout, character by character (the oracle) ---------------------------------


def reference_wrapped_lines(text: str, columns: int) -> tuple[str, ...]:
    lines: list[str] = []
    for line in text.expandtabs(4).splitlines() or [""]:
        pieces = textwrap.wrap(line, columns, break_long_words=True, replace_whitespace=False,
                               drop_whitespace=True) if line.strip() else [""]
        lines.extend(pieces or [""])
    return tuple(reference_printable(line) for line in lines)


def reference_printable(line: str) -> str:
    return "".join(ch for ch in line if ch.isprintable() and not 0x202A <= ord(ch) <= 0x202E
                   and not 0x2066 <= ord(ch) <= 0x2069)


@cache
def reference_layout(text: str) -> tuple[int, tuple[str, ...], int, int]:
    def fits(columns: int) -> bool:
        return len(reference_wrapped_lines(text, columns)) <= typescript._capacity(columns)

    low, high = typescript.COLUMNS, typescript.COLUMNS * typescript.MAX_SCALE
    if not fits(high):
        lines = reference_wrapped_lines(text, typescript.COLUMNS)
        return (typescript.COLUMNS, lines, typescript.WIDTH,
                typescript.TEXT_TOP + len(lines) * typescript.LINE_HEIGHT + typescript.MARGIN)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle + 1, high)
    return (low, reference_wrapped_lines(text, low), *typescript._sheet(low))


def reference_text_box(text: str, start: int, end: int):
    columns = reference_layout(text)[0]
    scale = columns / typescript.COLUMNS
    advance = typescript._font().getlength("M")
    row, offset = 0, 0
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if "\t" in line or reference_printable(line) != line:
            if offset <= start < offset + len(line) + 1:
                return None
            row += len(reference_wrapped_lines(line, columns))
            offset += len(line) + 1
            continue
        pieces = textwrap.wrap(line, columns, break_long_words=True, replace_whitespace=False,
                               drop_whitespace=True) if line.strip() else [""]
        cursor = 0
        for piece in pieces or [""]:
            at = line.find(piece, cursor) if piece else cursor
            if piece and offset + at <= start < offset + at + len(piece):
                column = start - offset - at
                width = min(end, offset + at + len(piece)) - start
                x = round(typescript.MARGIN * scale) + round(column * advance)
                y = round(typescript.TEXT_TOP * scale) + row * typescript.LINE_HEIGHT
                return x, y, max(1, round(width * advance)), typescript.LINE_HEIGHT
            cursor = at + len(piece)
            row += 1
        offset += len(line) + 1
    return None


# -- the texts ----------------------------------------------------------------------------------

def fixture_texts() -> list[str]:
    texts = []
    for path in sorted(FIXTURE_RECORDS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for holder in [record, *record.get("parts", [])]:
            texts += [page["text"] for page in holder.get("pages", [])]
    return texts


def synthetic_texts(synthetic, count: int) -> list[str]:
    texts = []
    for n in range(count):
        record = synthetic(n)
        for holder in [record, *record.get("parts", [])]:
            texts += [page["text"] for page in holder.get("pages", [])]
    return texts


PIECES = ["word", "the", "telegram", "-", "--", "two-thirds", "re-examined", "x" * 70, "y" * 140, " ", "   ",
          " " * 70, "\t", "\u00a0", "\u3000", "\x0b", "\x1f", "\u202e", "\u2066", "\x07", "Molotóv", "—",
          "PAGE 2", "-2-", "\u2028", "\r\n", "\n", "\n\n", "740.0011 Moscow/10–3043", "a-b-c-d-e", "----", "ab-"]


def corner_texts(count: int) -> list[str]:
    """Texts that mix textwrap's corners at random, with long and short lines (deterministic)."""
    rng = random.Random(1943)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 400)):
            parts.append(rng.choice(PIECES) if rng.random() < 0.3 else rng.choice(["word", "memorandum", "a"]))
            parts.append(rng.choice([" ", " ", " ", "  ", "\n", " " * rng.randint(1, 90)]))
        indent = " " * rng.choice([0, 0, 2, 5, 30, 67, 68, 69, 150])
        texts.append(indent + "".join(parts))
    return texts + [
        "", " ", "\n", "A\n" * 3, "A\n" * 500, " " * 150 + "word", " " * 60 + "x" * 9 + " more words here" * 20,
        ("The Ambassador in the Soviet Union (Harriman) to the President " * 40).strip(),
        "word " * 2000, ("x" * 68 + " ") * 30, ("x" * 69 + " ") * 30, "ab" + " " * 100 + "cd", "ab" + " " * 100,
    ]


def assert_same_layout(text: str) -> None:
    columns, lines, width, height = reference_layout(text)
    found = typescript.layout(text)
    assert (found.columns, found.lines, found.width, found.height) == (columns, lines, width, height), text[:80]
    assert typescript.page_size(text) == (width, height)


# -- the checks -------------------------------------------------------------------------------

def test_fixture_corpus_pages_are_laid_out_as_before():
    texts = fixture_texts()
    assert len(texts) > 10
    for text in texts:
        assert_same_layout(text)


def test_synthetic_pages_are_laid_out_as_before(synthetic):
    texts = synthetic_texts(synthetic, 120)
    assert len(texts) > 300
    for text in texts:
        assert_same_layout(text)
    wider = [t for t in texts if typescript.layout(t).columns > typescript.COLUMNS]
    assert wider, "some synthetic pages need a larger sheet: the bisection is exercised"


def test_textwrap_corners_are_laid_out_as_before():
    for text in corner_texts(300):
        assert_same_layout(text)


@pytest.mark.parametrize("columns", [68, 69, 75, 90, 102, 119, 136])
def test_lines_wrap_as_textwrap_wraps_them_at_every_sheet_width(columns):
    for text in corner_texts(150) + fixture_texts():
        assert typescript.wrapped_lines(text, columns) == reference_wrapped_lines(text, columns), text[:80]


def test_word_boxes_are_where_they_were():
    """Every word's box (what Content Search hits and footnote targets name) is unchanged."""
    texts = fixture_texts() + corner_texts(40)
    rng = random.Random(1945)
    checked = 0
    for text in texts:
        starts = [0] + [i + 1 for i, ch in enumerate(text) if ch in " \n-"]
        for start in rng.sample(starts, min(len(starts), 40)):
            end = min(len(text), start + 7)
            assert typescript.text_box(text, start, end) == reference_text_box(text, start, end), (text[:60], start)
            checked += 1
    assert checked > 1000, checked


def test_printable_keeps_what_it_kept():
    for line in ["plain", "Molotóv — “quoted”", "bell\x07", "rtl\u202eoverride", "iso\u2066late", "\x00\x1f", ""]:
        assert typescript._printable(line) == reference_printable(line)
