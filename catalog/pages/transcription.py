"""The transcription as HTML: verbatim page text, escaped, with footnote marks linked to the notes.

A footnote says where its mark is (`referenced_at.page` and the text it follows); the mark goes
right after the first unused occurrence of that text on that page, or at the end of the page when
the text is not found. When the verbatim text already prints the number there (FRUS: "last
night63"), those characters become the link, so nothing is added to or removed from the text.
Marks link to `#fn-<number>` and the note links back to the mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup
from markupsafe import escape

from catalog.model import Footnote
from catalog.model import Record


def anchor(number: str) -> str:
    """`fn-<number>`, with anything unsafe in an id or URL fragment replaced."""
    return "fn-" + re.sub(r"[^A-Za-z0-9_-]", "-", number)


@dataclass
class Mark:
    footnote: Footnote
    anchor: str
    placed: bool = False


def footnote_anchors(record: Record) -> list[Mark]:
    """One mark per footnote, with ids made unique if numbers repeat."""
    marks, seen = [], set()
    for footnote in record.footnotes:
        name = anchor(footnote.number)
        while name in seen:
            name += "-x"
        seen.add(name)
        marks.append(Mark(footnote, name))
    return marks


def page_html(text: str, marks: list[Mark]) -> Markup:
    """The page text, escaped, with a linked mark after each footnote's `after` text."""
    insertions: list[tuple[int, Mark]] = []
    used_from: dict[str, int] = {}
    for mark in marks:
        after = mark.footnote.referenced_at.after if mark.footnote.referenced_at else None
        position = -1
        if after:
            found = text.find(after, used_from.get(after, 0))
            if found >= 0:
                position = found + len(after)
                used_from[after] = position
        insertions.append((len(text) if position < 0 else position, mark))
    insertions.sort(key=lambda item: item[0])
    out, cursor = [], 0
    for position, mark in insertions:
        position = max(position, cursor)
        out.append(escape(text[cursor:position]))
        number = mark.footnote.number
        printed = text.startswith(number, position)
        out.append(Markup('<sup class="fn-ref" id="ref-{0}"><a href="#{0}" aria-label="Note {1}">{1}</a></sup>')
                   .format(mark.anchor, number))
        mark.placed = True
        cursor = position + (len(number) if printed else 0)
    out.append(escape(text[cursor:]))
    return Markup("").join(out)


def render(record: Record) -> tuple[list[dict], list[dict]]:
    """(parts, notes): every part in turn (a simple record is one untitled part) with its rendered
    pages, and the footnotes, each saying whether a mark in the text links to it."""
    marks = footnote_anchors(record)
    unplaced = list(marks)
    groups: list[dict] = []
    number = 0
    sources = [(part, part.pages) for part in record.parts] if record.parts else [(None, record.pages or [])]
    for part_index, (part, part_pages) in enumerate(sources, start=1):
        rendered = []
        for page in part_pages:
            number += 1
            here = [m for m in unplaced if m.footnote.referenced_at and m.footnote.referenced_at.page == page.label]
            unplaced = [m for m in unplaced if m not in here]
            rendered.append({"label": page.label, "label_supplied": page.label_supplied, "number": number,
                             "anchor": f"page-{number}", "text": page.text,
                             "text_html": page_html(page.text, here)})
        groups.append({"part": part, "index": part_index, "pages": rendered})
    notes = [{"number": m.footnote.number, "anchor": m.anchor, "text": m.footnote.text,
              "page": m.footnote.referenced_at.page if m.footnote.referenced_at else None,
              "referenced": m.placed} for m in marks]
    return groups, notes
