"""How the publisher laid the transcription out: a FRUS source note and heading, a library's item
title and citation, or a digital archive's web page with its metadata labels.

Each reader returns the body span (what is the document's text) and what the layout itself tells:
title, holding collection and repository, date, summary, rights. Source notes and the repositories
collections imply are read by `source_notes`, the FRUS importer's, so both importers agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field

from catalog.importing import source_notes
from catalog.importing.draft_fields import FULL_DATE
from catalog.importing.draft_fields import HEADING_BY
from catalog.importing.draft_fields import HEADING_TO
from catalog.importing.draft_fields import ITEM_TITLE

FRUS_RIGHTS = ("Foreign Relations of the United States is a work of the United States Government and is in the "
               "public domain in the United States.")
DECLASSIFIED_RIGHTS = ("Declassified United States Government record; a work of the United States Government, "
                       "in the public domain in the United States.")
PUBLIC_DOMAIN_MARK = "http://creativecommons.org/publicdomain/mark/1.0/"
DOCUMENT_TYPES = {"telegram": "telegram", "cable": "cable", "memorandum": "memorandum", "letter": "letter",
                  "despatch": "dispatch", "dispatch": "dispatch", "report": "report", "note": "note",
                  "message": "message", "minutes": "minutes", "memorandum of conversation": "memorandum of conversation"}
WEB_LABELS = ("Document Information", "Original Archive", "Original Uploaded Date", "Record ID",
              "Original Classification", "Skip to content")


@dataclass
class Found:
    """One value the layout gives, with the source text it was read from."""

    value: object
    source: str
    offset: int


@dataclass
class Layout:
    kind: str
    body: tuple[int, int]
    values: dict[str, Found] = field(default_factory=dict)

    def add(self, name: str, value: object, source: str, offset: int) -> None:
        self.values[name] = Found(value, source, offset)


def lines_of(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
    """(offset, line) for each line of text[start:end], without its newline."""
    end = len(text) if end is None else end
    return [(start + m.start(), m.group()) for m in re.finditer(r"[^\n]*", text[start:end])][:-1] or [(start, "")]


def document_type(word: str) -> str | None:
    return DOCUMENT_TYPES.get(word.strip().lower())


def repository_for(collection: str, file_number: bool = False) -> tuple[str, str | None] | None:
    """(repository, division) that holds a collection, where the source-note rules tell."""
    note = source_notes.SourceNote(collection, file_number=collection if file_number else None,
                                   collection=None if file_number else collection)
    found = note.repository()
    return (found["name"], found.get("division")) if found else None


def read_layout(text: str) -> Layout:
    """The first layout that fits: web page, item title, FRUS, else the whole text as the body."""
    return web_page(text) or item_title(text) or frus(text) or Layout("plain", (0, len(text)))


def web_page(text: str) -> Layout | None:
    """A digital archive's document page: date and title first, then the document, then its summary
    and labelled metadata ("Original Archive", "Original Classification"...), each value above or
    below its label as the page prints them."""
    lines = [(o, line.strip()) for o, line in lines_of(text) if line.strip()]
    labels = {line: i for i, (_, line) in enumerate(lines) if line in WEB_LABELS}
    if "Document Information" not in labels or "Original Archive" not in labels:
        return None
    start = 1 if lines[0][1] == "Skip to content" else 0
    date_at, title_at = start, start + 1
    if not FULL_DATE.fullmatch(lines[date_at][1]):
        return None
    info = labels["Document Information"]
    summary = lines[info - 1]
    layout = Layout("web page", (lines[title_at][0] + len(lines[title_at][1]), summary[0]))
    layout.add("date", lines[date_at][1], lines[date_at][1], lines[date_at][0])
    layout.add("title", lines[title_at][1], lines[title_at][1], lines[title_at][0])
    layout.add("summary", summary[1], summary[1], summary[0])
    archive = lines[labels["Original Archive"] - 1]
    if labels["Original Archive"] - 1 > info:
        name, _, holder = archive[1].rstrip(".").rpartition(", ")
        layout.add("collection", name or holder, archive[1], archive[0])
        if name:
            layout.add("repository", holder, archive[1], archive[0])
    after = [i for i in labels.values() if i > labels["Original Archive"]]
    rights = lines[labels["Original Archive"] + 1:min(after, default=len(lines))]
    if rights:
        statement = "\n\n".join(re.sub(r"\s+at \[email(?:&#160;|\s)protected\]", "", line) for _, line in rights)
        layout.add("rights", statement, rights[0][1], rights[0][0])
    if "Original Classification" in labels and labels["Original Classification"] + 1 < len(lines):
        offset, marked = lines[labels["Original Classification"] + 1]
        layout.add("classification", marked, marked, offset)
    layout.add("summary_source", "the web page's summary", summary[1], summary[0])
    return layout


def item_title(text: str) -> Layout | None:
    """A library's item title and citation as the first line, the document after it."""
    first = next(((o, line) for o, line in lines_of(text) if line.strip()), None)
    if first is None:
        return None
    match = ITEM_TITLE.match(first[1].strip())
    if not match:
        return None
    offset, line = first
    layout = Layout("item title", (offset + len(line), len(text)))
    layout.add("title", match.group("title"), line, offset)
    layout.add("date", match.group("date"), line, offset)
    layout.add("from", match.group("from"), line, offset)
    layout.add("to", match.group("to"), line, offset)
    kind = document_type(match.group("type"))
    if kind:
        layout.add("document_type", kind, line, offset)
    citation = match.group("citation").strip().rstrip(".")
    if citation:
        series, _, collection = citation.rpartition(", ")
        layout.add("collection", collection, line, offset)
        if series:
            layout.add("series", series, line, offset)
    return layout


def frus(text: str) -> Layout | None:
    """FRUS: a source note (collection or decimal file number, with the channel after a colon), then
    the heading ("The Ambassador ... (Harriman) to the President"), both kept in the page text."""
    lines = [(o, line.strip()) for o, line in lines_of(text) if line.strip()][:2]
    if len(lines) < 2:
        return None
    (note_at, note), (heading_at, heading) = lines
    parsed = source_notes.parse(note)
    if not (parsed.file_number or re.search(r"\b(?:Papers|Files)\b", parsed.collection or "")):
        return None
    bare_heading = re.sub(r"(?<=[a-z)])\d{1,3}[a-z]?$", "", heading)
    if not (HEADING_TO.match(bare_heading) or HEADING_BY.match(bare_heading)):
        return None
    layout = Layout("frus", (0, len(text)))
    layout.add("source_note", note, note, note_at)
    layout.add("heading", bare_heading, heading, heading_at)
    if parsed.document_type:
        layout.add("document_type", parsed.document_type, note, note_at)
    if parsed.file_number:
        layout.add("file_number", parsed.file_number, note, note_at)
    else:
        layout.add("collection", parsed.collection, note, note_at)
        if parsed.file:
            layout.add("file", parsed.file, note, note_at)
    layout.add("rights", FRUS_RIGHTS, note, note_at)
    return layout
