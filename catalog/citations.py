"""How to cite a record: Chicago notes-bibliography, BibTeX and CSL-JSON, as pure functions of a record.

A record is an archival document, so citations follow Chicago's form for manuscript collections
(who to whom, what, when, then the collection and the repository), add the published edition the
transcription comes from (FRUS, a digital archive), and end with the catalog record's URL.
Chicago text has italics, so it is built as runs of (text, italic) that HTML and plain text render.
"""

from __future__ import annotations

import re

from catalog.facts import archival_location
from catalog.facts import cited_date
from catalog.facts import correspondents
from catalog.facts import creator_names
from catalog.facts import display_name
from catalog.facts import edition
from catalog.facts import editor_names
from catalog.facts import is_printed
from catalog.facts import join_names
from catalog.facts import printed_in
from catalog.facts import recipient_names
from catalog.facts import split_name
from catalog.model import Edition
from catalog.model import Record

Run = tuple[str, bool]
"""A piece of citation text and whether it is set in italics."""

BIBTEX_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
CORRESPONDENCE = {"telegram", "cable", "letter", "message", "note"}


def _online(record: Record, found: Edition) -> str:
    """'; online at <publisher>' unless the publisher is the repository itself."""
    if found.publisher == record.provenance.repository.name:
        return ""
    return f"; online at {found.publisher}" + (f", record {found.record_id}" if found.record_id else "")


def _editors(editors: list[str]) -> str:
    return join_names(editors) if len(editors) <= 3 else f"{editors[0]} et al."


def _description(record: Record) -> str:
    """'W. Averell Harriman to Harry S. Truman' or, without people, the title in quotation marks."""
    return correspondents(record) or f"“{record.title}”"


def chicago_note(record: Record, url: str) -> list[Run]:
    """The first full note."""
    runs: list[Run] = [(", ".join([_description(record), record.document_type, cited_date(record.date),
                                   *archival_location(record)]), False)]
    found = edition(record)
    if found is not None and not is_printed(found):
        runs.append((_online(record, found), False))
    elif found is not None:
        runs += [("; printed in ", False), (found.title, True)]
        details = []
        if found.editors:
            details.append(f", ed. {_editors(editor_names(found))}")
        imprint = ", ".join(str(x) for x in (found.publisher, found.year) if x)
        details.append(f" ({imprint})")
        if found.pages:
            details.append(f", {found.pages}")
        if found.document_number:
            details.append(f", doc. {found.document_number}")
        runs.append(("".join(details), False))
    runs.append((f", {url}.", False))
    return runs


def chicago_bibliography(record: Record, url: str) -> list[Run]:
    """The bibliography entry, under the (first) creator's inverted name."""
    creators, recipients = creator_names(record), recipient_names(record)
    lead = f"{creators[0]}. " if creators else ""
    what = record.document_type[:1].upper() + record.document_type[1:]
    if recipients:
        what += " to " + join_names([display_name(n) for n in recipients])
    if not creators:
        what = f"“{record.title}.” {what}"
    runs: list[Run] = [(f"{lead}{what}, {cited_date(record.date)}. " + ". ".join(archival_location(record)) + ".",
                        False)]
    found = edition(record)
    if found is not None and not is_printed(found) and _online(record, found):
        online = _online(record, found)[2:]
        runs.append((" " + online[:1].upper() + online[1:] + ".", False))
    elif found is not None and is_printed(found):
        runs += [(" Printed in ", False), (found.title, True)]
        tail = f", edited by {join_names(editor_names(found))}" if found.editors else ""
        tail += ". " + ", ".join(str(x) for x in (found.publisher, found.year) if x)
        if found.pages:
            tail += f", {found.pages}"
        runs.append((tail + ".", False))
    runs.append((f" {url}.", False))
    return runs


def plain(runs: list[Run]) -> str:
    return "".join(text for text, _italic in runs)


# -- BibTeX ----------------------------------------------------------------------------------

BIBTEX_SPECIAL = re.compile(r"[\\{}%&$#_^~]")
BIBTEX_REPLACEMENTS = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}


def bibtex_escape(text: str) -> str:
    """Text safe inside a braced BibTeX field: specials escaped, so braces always balance."""
    text = " ".join(text.split())
    return BIBTEX_SPECIAL.sub(lambda m: BIBTEX_REPLACEMENTS.get(m.group(), "\\" + m.group()), text)


def bibtex(record: Record, url: str) -> str:
    """A biblatex/BibTeX `@misc` entry keyed by the record id."""
    creators, recipients = creator_names(record), recipient_names(record)
    date = record.date.date
    fields: list[tuple[str, str]] = [("title", "{" + bibtex_escape(record.title) + "}")]
    if creators:
        fields.append(("author", " and ".join("{" + bibtex_escape(n) + "}" if "," not in n else bibtex_escape(n)
                                              for n in creators)))
    fields += [("date", date.isoformat()), ("year", str(date.year)), ("month", BIBTEX_MONTHS[date.month - 1])]
    fields.append(("type", bibtex_escape(record.document_type)))
    howpublished = ", ".join(archival_location(record))
    fields.append(("howpublished", bibtex_escape(howpublished)))
    note = []
    if recipients:
        note.append("To " + join_names([display_name(n) for n in recipients]))
    found = edition(record)
    if found is not None and is_printed(found):
        note.append(printed_in(found))
    if note:
        fields.append(("note", bibtex_escape(". ".join(note))))
    fields += [("language", record.language), ("url", url)]
    body = ",\n".join(f"  {name} = {{{value}}}" if name != "month" else f"  {name} = {value}"
                      for name, value in fields)
    return f"@misc{{{record.id},\n{body}\n}}\n"


# -- CSL-JSON --------------------------------------------------------------------------------

def csl_item(record: Record, url: str) -> dict:
    """One CSL-JSON item (citeproc, Zotero and pandoc read a list of these)."""
    creators, recipients = creator_names(record), recipient_names(record)
    date = record.date.date
    item: dict = {
        "id": record.id,
        "type": "personal_communication" if record.document_type in CORRESPONDENCE else "manuscript",
        "title": record.title,
        "genre": record.document_type,
        "issued": {"date-parts": [[date.year, date.month, date.day]]},
        "archive": record.provenance.repository.name,
        "archive_location": ", ".join(p for p in archival_location(record)
                                      if p not in (record.provenance.repository.name,
                                                   record.provenance.repository.location)),
        "language": record.language,
        "URL": url,
    }
    if record.date.how_sure in ("approximate", "inferred", "questionable"):
        item["issued"]["circa"] = True
    if creators:
        item["author"] = [split_name(n) for n in creators]
    if recipients:
        item["recipient"] = [split_name(n) for n in recipients]
    if record.provenance.repository.location:
        item["archive-place"] = record.provenance.repository.location
    if record.provenance.collection.name:
        item["collection-title"] = record.provenance.collection.name
    if record.provenance.file_number:
        item["number"] = record.provenance.file_number
    if record.description.summary:
        item["abstract"] = record.description.summary
    found = edition(record)
    if found is not None and is_printed(found):
        item["note"] = printed_in(found)
    return item


def csl_json(record: Record, url: str) -> list[dict]:
    return [csl_item(record, url)]
