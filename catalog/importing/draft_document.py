"""What one document (a simple item, or one part of a compound item) says about itself: markings,
classification, stamps, dates, places, signature and the agents a signature names.

Results are proposals: (path, value, the text it came from, its offset), which the drafter puts into
the record and its review list alike.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field

from catalog.importing import draft_fields as fields
from catalog.importing.draft_sources import lines_of
from catalog.importing.draft_text import PROSE_WORDS
from catalog.importing.draft_text import Segments

LEVEL_ORDER = ("top secret", "secret", "confidential", "restricted")


@dataclass
class Proposal:
    path: str
    value: object
    source: str
    offset: int


@dataclass
class Document:
    """The fields one document's text gives, each with its proposals."""

    data: dict = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)

    def put(self, path: str, value: object, source: str, offset: int, append: bool = False) -> None:
        """Set (or append to) a dotted field and note where the value came from."""
        *parents, last = path.split(".")
        node = self.data
        for name in parents:
            node = node.setdefault(name, {})
        if append:
            items = node.setdefault(last, [])
            self.proposals.append(Proposal(f"{path}[{len(items)}]", value, source, offset))
            items.append(value)
        else:
            node[last] = value
            self.proposals.append(Proposal(path, value, source, offset))


def read_document(segments: Segments, span: tuple[int, int], part: int | None,
                  context: dt.date | None) -> Document:
    """Everything the text of one document gives; `context` (the item's date) supplies a month and
    year where the text prints only a day ("160900", "RECEIVED 0603552")."""
    doc = Document()
    text = segments.text
    lines = [(o, line.strip()) for o, line in lines_of(text, *span) if line.strip()]
    stamps = _stamps(doc, segments, lines, part)
    for offset, line in lines:
        if offset in stamps:
            continue
        level = fields.classification_level(line) if len(line.split()) <= 3 else None
        if level:
            doc.put("classification.as_marked", line, line, offset, append=True)
            doc.data.setdefault("_levels", []).append(level)
            continue
        marking = fields.standalone_marking(line)
        if marking:
            kind, marked = marking
            value = {"kind": kind, "text": marked}
            if part is not None:
                value["located_at"] = _where(segments, offset)
            doc.put("markings", value, line, offset, append=True)
            if kind == "paraphrase":
                doc.put("_paraphrase", marked.startswith("[") or marked == "Paraphrase", line, offset)
    levels = doc.data.pop("_levels", [])
    if levels:
        doc.put("classification.level", min(levels, key=LEVEL_ORDER.index), ", ".join(
            doc.data["classification"]["as_marked"]), lines[0][0])
    _dates(doc, lines, context)
    _signature(doc, lines)
    return doc


def _where(segments: Segments, offset: int) -> dict:
    part, page = segments.locate(offset)
    where = {"part": part} if part else {}
    if page is not None:
        where["page"] = page.label
    return where


def _stamps(doc: Document, segments: Segments, lines: list[tuple[int, str]], part: int | None) -> set[int]:
    """Declassification stamps: a DECLASSIFIED line and the stamp lines under it; a stamp with
    nothing but a catchword after it on its page sits at the foot of the page."""
    used: set[int] = set()
    for index, (offset, line) in enumerate(lines):
        if offset in used or not fields.STAMP_HEAD.match(line):
            continue
        block = [(offset, line)]
        for later in lines[index + 1:]:
            if not fields.STAMP_LINE.match(later[1]):
                break
            block.append(later)
        used |= {o for o, _ in block}
        start, end = block[0][0], block[-1][0] + len(block[-1][1])
        stamp = fields.declassification(segments.text[start:end].strip())
        where = _where(segments, start)
        if part is not None:
            where["part"] = part
        _, page = segments.locate(start)
        if page is not None and len(segments.text[end:page.end].split()) <= 3:
            where["position"] = "foot of the page"
        stamp["located_at"] = where
        doc.put("declassification", stamp, stamp["as_printed"], start, append=True)
    return used


def _dates(doc: Document, lines: list[tuple[int, str]], context: dt.date | None) -> None:
    """Datelines, a telegram's station and number lines, a date-time group, a receipt stamp."""
    year = context.year if context else None
    for offset, line in lines[:12]:
        dateline = fields.DATELINE.match(line)
        if dateline:
            date = fields.parse_date(fields.FULL_DATE.search(dateline.group("date")))
            if date:
                entry = {"type": "sent", "date": date.isoformat(), "as_printed": line}
                if fields.time_of(dateline.group("time")):
                    entry["time"] = fields.time_of(dateline.group("time"))
                doc.put("dates", entry, line, offset, append=True)
                doc.put("places", {"name": dateline.group("place"), "role": "sent from",
                                   "as_printed": dateline.group("place")}, line, offset, append=True)
                doc.put("dateline", line, line, offset)
                year = date.year
        received = fields.RECEIVED.match(line)
        if received and year:
            found = fields.FULL_DATE.search(received.group("date") if "," in received.group("date")
                                            else f"{received.group('date')}, {year}")
            date = fields.parse_date(found) if found else None
            if date:
                entry = {"type": "received", "date": date.isoformat(), "as_printed": line}
                if fields.time_of(received.group("time")):
                    entry["time"] = fields.time_of(received.group("time"))
                doc.put("dates", entry, line, offset, append=True)
        station = fields.STATION_LINE.match(line)
        if station:
            _station(doc, station, line, offset, lines)
            year = int(station.group("date")[-4:])
    dtg = next(((o, m) for o, line in lines[:12] if (m := fields.DTG_PARAGRAPH.match(line + " "))), None)
    if dtg and not doc.data.get("dates"):
        offset, match = dtg
        day, hour, minute = (int(g) for g in match.groups())
        doc.put("transmission.date_time_group", match.group(0).strip(" ."), match.group(0), offset)
        entry = {"type": "sent", "date": None, "certainty": "inferred", "time": f"{hour:02d}:{minute:02d}",
                 "as_printed": match.group(0).strip(" .")}
        if context:
            try:
                entry["date"] = context.replace(day=day).isoformat()
            except ValueError:
                pass
        doc.put("dates", entry, match.group(0), offset, append=True)
    for offset, line in lines:
        stamp = fields.RECEIVED_STAMP.match(line)
        if stamp and context:
            doc.put("transmission.date_time_group", stamp.group("dtg"), line, offset)
            for entry in fields.received_stamp(stamp, context.month, context.year):
                doc.put("dates", entry, line, offset, append=True)


def _station(doc: Document, station: re.Match, line: str, offset: int, lines: list[tuple[int, str]]) -> None:
    dated = fields.parse_date(fields.FULL_DATE.search(station.group("date")))
    place = station.group("place").strip()
    printed = f"{place} {station.group('route')}" if station.group("route") else place
    doc.put("places", {"name": place, "role": "sent from", "as_printed": printed}, line, offset, append=True)
    if station.group("route"):
        doc.put("transmission.route", station.group("route"), line, offset)
    if dated is None:
        return
    sent = {"type": "sent", "date": dated.isoformat(), "as_printed": f"Dated {station.group('date')}"}
    sent_from, sent_at = line, offset
    for number_at, number_line in lines[:12]:
        numbered = fields.TELEGRAM_LINE.match(number_line)
        if numbered:
            doc.put("transmission.telegram_number", numbered.group("number"), number_line, number_at)
            sent.update(time=fields.time_of(numbered.group("time")), as_printed=number_line)
            sent_from, sent_at = number_line, number_at
            break
    doc.put("dates", sent, sent_from, sent_at, append=True)
    if station.group("received"):
        received = {"type": "received", "date": dated.isoformat(), "certainty": "inferred",
                    "time": fields.time_of(station.group("received")[station.group("received").index(" ") + 1:]),
                    "as_printed": station.group("received"),
                    "note": "Only the time of receipt is printed; the day is taken to be the dated day."}
        doc.put("dates", received, line, offset, append=True)


SIGNATURE = re.compile(r"^(?:\[(?P<supplied>[A-Z][a-z]+(?: [A-Z][a-z]+)*)\]|(?P<typed>(?:[A-Z]\. ?)*[A-Z]{4,}))$")
CLOSING = re.compile(r"^(?:SINCERELY YOURS|Sincerely yours|Respectfully yours|Faithfully yours|Yours sincerely),?$")


def _signature(doc: Document, lines: list[tuple[int, str]]) -> None:
    """The signature at the foot: "[Harriman]" (supplied by the editors) or a typed "SMITH", below
    the last paragraph and above any initials, markings and stamps."""
    stamped = {o for o, line in lines if fields.STAMP_HEAD.match(line) or fields.STAMP_LINE.match(line)}
    for index in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
        offset, line = lines[index]
        if offset in stamped:
            continue
        if len(line.split()) >= PROSE_WORDS:
            return
        match = SIGNATURE.match(line)
        if (not match or fields.classification_level(line)
                or fields.standalone_marking(line)):
            continue
        doc.put("signature", line, line, offset)
        closing = index > 0 and CLOSING.match(lines[index - 1][1])
        doc.put("_signer", {"name": fields.inverted(match.group("supplied") or match.group("typed")),
                            "as_printed": line, "supplied": bool(match.group("supplied")),
                            "role": "signer" if closing else "sender"}, line, offset)
        return
