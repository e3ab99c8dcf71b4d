"""Where a raw transcription's pieces are: parts, pages, the footnote list and the footnote marks.

Everything here works on spans (start, end) of the original text, so every proposal the drafter makes
can say which line it came from, and page texts are exact slices of the source (OCR slips and all).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from dataclasses import field

FRUS_PAGE_BREAK = re.compile(r"[ \t]*\[Page (\d+)\][ \t]*")
"""FRUS's "[Page 906]": where the printed page turns; the marker is a break, not text."""
PAGE_HEADER = re.compile(r"^(?:(PAGE \d+)\s*$|(-\d+-)(?=#|\s|$))", re.MULTILINE)
"""A page number printed at the head of a typed page: "PAGE 2", "-2-#1053, April 5, ..."; kept as text."""
LETTERHEADS = re.compile(
    r"^Signal Corps, United States Army\s*$"
    r"|(?:^|(?<=[ \t]))DEPARTMENT OF STATE\s*\n\s*\n?\s*(?:Incoming|Outgoing) (?:Telegram|Airgram)"
    r"|^(?:WAR|NAVY) DEPARTMENT\s*$|^THE WHITE HOUSE\s*$",
    re.MULTILINE)
"""Letterheads that open one document of a compound item (an OCR run may glue one to the line before)."""
FOOTNOTE_ITEM = re.compile(r"^[ \t]{2,}(\d+)\.[ \t]+(\S.*)$")
"""A footnote in the list at the end of a FRUS web page: "  1. Supra."."""
FOOTNOTE_MARK = re.compile(
    r"(?:(?<=[A-Za-z”’)\]])|(?<=[A-Za-z ]\.))(\d{1,3}[a-z]?)(?=\s|$)")
"""A footnote mark glued to a word or a full stop: "night63", "reply.64", "here.50a", ". . .2"."""
PROSE_WORDS = 10


@dataclass
class Page:
    label: str
    start: int
    end: int
    label_supplied: bool = False
    label_from: str = ""
    """The marker the label was read from, or why it was supplied."""


@dataclass
class Footnote:
    number: str
    text: str
    start: int
    """Where the footnote's line starts in the source."""
    mark: int | None = None
    """Where its mark is in the source text, when one was found."""


@dataclass
class Segments:
    """The transcription cut up: the body's parts (each a list of pages) and the footnotes."""

    text: str
    parts: list[list[Page]] = field(default_factory=list)
    part_spans: list[tuple[int, int]] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)

    def page_text(self, page: Page) -> str:
        return self.text[page.start:page.end]

    def locate(self, offset: int) -> tuple[int | None, Page | None]:
        """The part number (1-based, None for a simple item) and the page holding an offset."""
        for number, pages in enumerate(self.parts, 1):
            for page in pages:
                if page.start <= offset <= page.end:
                    return (number if len(self.parts) > 1 else None), page
        return None, None


def line_number(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start:end if end >= 0 else len(text)].strip()


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the whitespace at its ends."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def footnote_list(text: str, start: int, end: int) -> tuple[int, list[Footnote]]:
    """The numbered list closing the text, if any: where the body ends, and the footnotes."""
    lines = [(m.start(), m.group()) for m in re.finditer(r"[^\n]*", text[start:end])]
    found: list[Footnote] = []
    body_end = end
    for offset, line in reversed(lines):
        if not line.strip():
            continue
        item = FOOTNOTE_ITEM.match(line)
        if not item:
            break
        found.insert(0, Footnote(item.group(1), item.group(2).strip(), start + offset))
        body_end = start + offset
    numbers = [int(f.number) for f in found]
    if not found or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return end, []
    return body_end, found


def split_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """One span per document of a compound item: a new part at each letterhead (two or more)."""
    heads = [m.start() for m in LETTERHEADS.finditer(text, start, end)]
    if len(heads) < 2:
        return [trimmed(text, start, end)]
    bounds = [start, *heads[1:], end]
    return [trimmed(text, a, b) for a, b in itertools.pairwise(bounds) if text[a:b].strip()]


def _has_prose(text: str) -> bool:
    return any(len(line.split()) >= PROSE_WORDS for line in text.splitlines())


def split_pages(text: str, start: int, end: int) -> list[Page]:
    """Pages of one part. A "[Page N]" marker is a break (the page before is N-1); a typed page header
    ("PAGE 2", "-2-") starts its page, or names the page it heads when no prose comes before it."""
    pages: list[Page] = []
    current = Page("[1]", start, end, label_supplied=True, label_from="no page number printed")
    events = [(m.start(), m.end(), "break", m.group(1)) for m in FRUS_PAGE_BREAK.finditer(text, start, end)]
    events += [(m.start(), m.start(), "header", m.group(1) or m.group(2))
               for m in PAGE_HEADER.finditer(text, start, end)]
    for at, after, kind, label in sorted(events):
        if kind == "header" and not _has_prose(text[current.start:at]):
            current.label, current.label_supplied, current.label_from = label, False, label
            continue
        current.end = at
        pages.append(current)
        if kind == "break" and len(pages) == 1 and pages[0].label_supplied and int(label) > 1:
            pages[0].label, pages[0].label_supplied = str(int(label) - 1), False
            pages[0].label_from = f"[Page {label}] (the page before it)"
        current = Page(label, after, end, label_from=f"[Page {label}]" if kind == "break" else label)
    pages.append(current)
    for page in pages:
        page.start, page.end = trimmed(text, page.start, page.end)
    return [page for page in pages if page.end > page.start]


def find_marks(segments: Segments, body: tuple[int, int]) -> None:
    """Tie each listed footnote to its mark in the body, in order. FRUS prints the volume's numbers at
    the marks ("night63") while its web list counts from 1, so the mark's number is the footnote's."""
    notes = segments.footnotes
    if not notes:
        return
    candidates = [m for m in FOOTNOTE_MARK.finditer(segments.text, *body)]
    chosen = _same_numbers(candidates, notes) or _consecutive(candidates, len(notes)) or candidates[:len(notes)]
    for note, mark in zip(notes, chosen, strict=False):
        note.mark = mark.start(1)
        note.number = mark.group(1)


def _same_numbers(candidates: list[re.Match], notes: list[Footnote]) -> list[re.Match]:
    wanted = [n.number for n in notes]
    picked: list[re.Match] = []
    for mark in candidates:
        if len(picked) < len(wanted) and mark.group(1) == wanted[len(picked)]:
            picked.append(mark)
    return picked if len(picked) == len(wanted) else []


def _consecutive(candidates: list[re.Match], count: int) -> list[re.Match]:
    """A run of marks whose numbers go up by one (a letter suffix, "50a", may follow its number)."""
    def number(mark: re.Match) -> int:
        return int(re.match(r"\d+", mark.group(1)).group())

    for first in range(len(candidates) - count + 1):
        run = candidates[first:first + count]
        steps = [number(b) - number(a) for a, b in itertools.pairwise(run)]
        if all(step in (0, 1) for step in steps):
            return run
    return []


def anchor_text(segments: Segments, mark: int, page: Page) -> tuple[str, int | None]:
    """The text a footnote mark follows: back to the start of its sentence, line or page (a row of dots
    is kept whole), and which occurrence of that text on the page it is when it repeats."""
    text = segments.text
    start = max(page.start, text.rfind("\n", 0, mark) + 1)
    before = text[start:mark]
    if before.strip(" .") or not before.strip():
        ends = [m.end() for m in re.finditer(r"[.?!][”’\"]?\s+(?=\S)", before.rstrip())]
        if ends:
            before = before[ends[-1]:]
    after = before.strip()
    page_text = text[page.start:mark]
    count = page_text.count(after)
    total = text[page.start:page.end].count(after)
    return after, (count if total > 1 else None)
