"""The rest of a draft: what a FRUS transmission footnote tells, stand-ins for required fields the text
does not give (marked as placeholders in the review list), and the record's id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from catalog.importing.draft_fields import FOOTNOTE_CHANNEL
from catalog.importing.draft_fields import FOOTNOTE_RECEIVED
from catalog.importing.draft_fields import FOOTNOTE_SECTIONS
from catalog.importing.draft_fields import FOOTNOTE_SENT
from catalog.importing.draft_fields import FOOTNOTE_SENT_FROM
from catalog.importing.draft_fields import FULL_DATE
from catalog.importing.draft_fields import NUMBER_WORDS
from catalog.importing.draft_fields import date_code
from catalog.importing.draft_fields import month_number
from catalog.importing.draft_fields import parse_date
from catalog.importing.draft_review import Review
from catalog.importing.draft_sources import DECLASSIFIED_RIGHTS
from catalog.importing.draft_sources import PUBLIC_DOMAIN_MARK
from catalog.importing.draft_text import Segments
from catalog.importing.draft_text import anchor_text
from catalog.model import slugify

PLACEHOLDER_DATE = "0001-01-01"
"""A required date where the text gives none (or no month and year): obviously not a real one."""
DRAFT_REASON = "Draft made by catalog draft from a raw transcription; not yet reviewed."


def footnote_facts(record: dict, review: Review, segments: Segments) -> None:
    """Footnotes with their marks, and what a FRUS transmission footnote tells: when and how sent,
    and the date (or bound) and place of receipt."""
    compound = "parts" in record
    for note in segments.footnotes:
        entry = {"number": note.number, "text": note.text}
        if note.mark is not None:
            part, page = segments.locate(note.mark)
            if page is not None:
                after, occurrence = anchor_text(segments, note.mark, page)
                where = {"page": page.label, **({"part": part} if compound and part else {})}
                if after:
                    where["after"] = after
                if occurrence:
                    where["occurrence"] = occurrence
                entry["referenced_at"] = where
        path = f"footnotes[{len(record.setdefault('footnotes', []))}]"
        record["footnotes"].append(review.propose(path, entry, note.text, note.start))
        _sent_received(record, review, note)


def _sent_received(record: dict, review: Review, note) -> None:
    sent = FOOTNOTE_SENT.search(note.text)
    if not sent or record.get("dates"):
        return
    date = parse_date(FULL_DATE.search(sent.group(1)))
    if date is None:
        return
    dates = [{"type": "sent", "date": date.isoformat(), "as_printed": sent.group(1)}]
    received = FOOTNOTE_RECEIVED.search(note.text)
    places = []
    sent_from = FOOTNOTE_SENT_FROM.search(note.text)
    if sent_from:
        places.append({"name": sent_from.group("place"), "role": "sent from", "as_printed": sent_from.group("place")})
    if received:
        year = int(received.group("year") or date.year)
        try:
            when = dt.date(year, month_number(received.group("month")), int(received.group("day")))
        except ValueError:
            when = None
        if when:
            bound = {"not_after": when.isoformat(), "edtf": f"../{when.isoformat()}"} if received.group("by") == "by" else {}
            dates.append({"type": "received", "date": when.isoformat(), "certainty": "inferred", **bound,
                          "as_printed": received.group(1)})
            places.append({"name": received.group("place"), "role": "received at",
                           "as_printed": received.group("place")})
    transmission = {}
    channel = FOOTNOTE_CHANNEL.search(note.text)
    if channel:
        transmission["channel"] = channel.group(1)
    sections = FOOTNOTE_SECTIONS.search(note.text)
    if sections:
        transmission["sections"] = NUMBER_WORDS.index(sections.group(1)) + 2
    for key, values in (("dates", dates), ("places", places)):
        for value in values:
            path = f"{key}[{len(record.setdefault(key, []))}]"
            record[key].append(review.propose(path, value, note.text, note.start))
    if transmission and "transmission" not in record["provenance"]:
        record["provenance"]["transmission"] = review.propose("provenance.transmission", transmission, note.text,
                                                              note.start)


def required(record: dict, review: Review, found: dict, take) -> None:
    """What the text gives beyond the heading, and marked stand-ins for required fields it does not."""
    provenance = record["provenance"]
    if not record.get("dates") and provenance.get("file_number"):
        code = date_code(provenance["file_number"])
        if code:
            kind = "written" if record["document_type"].startswith("memorandum") else "sent"
            record["dates"] = [review.propose("dates[0]", {
                "type": kind, "date": code.isoformat(), "certainty": "inferred",
                "note": "No date is printed; read from the file number's date code."},
                found["file_number"].source, found["file_number"].offset)]
    for date in record.get("dates", []) + [d for p in record.get("parts", []) for d in p.get("dates", [])]:
        if not date.get("date"):
            date["date"] = PLACEHOLDER_DATE
            date["note"] = "PLACEHOLDER date: the text gives no month and year; supply the date."
            review.mark_placeholder(date, "no month and year are printed: supply the date")
    if not record.get("dates"):
        record["dates"] = [{"type": "written", "date": PLACEHOLDER_DATE,
                            "note": "PLACEHOLDER date: no date could be read from the text; supply it."}]
        review.propose("dates[0]", record["dates"][0], "", None, placeholder=True)
    stand_ins = {
        "title": "[Untitled draft]",
        "document_type": "telegram",
    }
    for key, value in stand_ins.items():
        if not record.get(key):
            record[key] = review.propose(key, value, "", None, placeholder=True)
    if "repository" not in provenance:
        provenance["repository"] = review.propose(
            "provenance.repository", {"name": "[Repository to be identified]"}, "", None, placeholder=True)
    if "collection" not in provenance:
        provenance["collection"] = review.propose(
            "provenance.collection", {"name": "[Collection to be identified]"}, "", None, placeholder=True)
    if "classification" not in provenance:
        provenance["classification"] = review.propose(
            "provenance.classification", {"level": "unmarked", "as_marked": []}, "no classification marking found",
            None)
    declassified = provenance.get("declassification") or any(p.get("declassification") for p in record.get("parts", []))
    if provenance["classification"]["level"] not in ("unmarked", "unclassified") and not declassified:
        provenance["declassification_unrecorded"] = review.propose(
            "provenance.declassification_unrecorded", "The source text prints no declassification action.",
            "no declassification stamp found", None)
    if "summary" in found:
        record["description"] = {"summary": take("summary", "description.summary")}
    if "rights" in found:
        item = found["rights"]
        rights = {"statement": item.value}
        if item.value.startswith("Foreign Relations"):
            rights["uri"] = PUBLIC_DOMAIN_MARK
        record["rights"] = review.propose("rights", rights, item.source, item.offset)
    elif declassified:
        record["rights"] = review.propose("rights", {"statement": DECLASSIFIED_RIGHTS, "uri": PUBLIC_DOMAIN_MARK},
                                          "a declassification stamp", None)
    else:
        record["rights"] = review.propose("rights", {"statement": "[Rights to be determined]"}, "", None,
                                          placeholder=True)
    record["access"] = {"status": "restricted", "reason": DRAFT_REASON}
    review.propose("access", record["access"], "", None,
                   why="a draft stays closed until reviewed: set status to open when done")


def record_id(record: dict, source: str) -> str:
    """'harriman-truman-1945-06-16': sender's and recipient's surnames (or the type), and the date."""
    def surname(side: str) -> str | None:
        for person in record.get(side, []):
            if person.get("office") != person["name"] and "United States" not in person["name"]:
                return person["name"].split(",")[0]
        return None

    date = record["dates"][0]["date"]
    words = [surname("creators"), surname("recipients") or record["document_type"].split()[0],
             date if date != PLACEHOLDER_DATE else "undated"]
    slug = slugify(" ".join(w for w in words if w))
    return slug[:100].strip("-") or slugify(Path(source).stem)
