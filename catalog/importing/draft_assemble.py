"""A draft record assembled from the layout, the segments and each document's readings."""

from __future__ import annotations

import datetime as dt

from catalog.importing.draft_document import LEVEL_ORDER
from catalog.importing.draft_document import Document
from catalog.importing.draft_document import read_document
from catalog.importing.draft_fields import FULL_DATE
from catalog.importing.draft_fields import HEADING_BY
from catalog.importing.draft_fields import HEADING_TO
from catalog.importing.draft_fields import agent
from catalog.importing.draft_fields import classification_level
from catalog.importing.draft_fields import inverted
from catalog.importing.draft_fields import parse_date
from catalog.importing.draft_fill import footnote_facts
from catalog.importing.draft_fill import record_id
from catalog.importing.draft_fill import required
from catalog.importing.draft_review import Review
from catalog.importing.draft_sources import Layout
from catalog.importing.draft_sources import document_type
from catalog.importing.draft_sources import read_layout
from catalog.importing.draft_sources import repository_for
from catalog.importing.draft_text import LETTERHEADS
from catalog.importing.draft_text import Segments
from catalog.importing.draft_text import find_marks
from catalog.importing.draft_text import footnote_list
from catalog.importing.draft_text import line_at
from catalog.importing.draft_text import split_pages
from catalog.importing.draft_text import split_parts


def draft_record(text: str, source: str = "transcription.txt", now: dt.datetime | None = None) -> dict:
    """The draft record (with its `_review` list) for one raw transcription."""
    text = text.lstrip("\ufeff")
    review = Review(text)
    layout = read_layout(text)
    found = layout.values
    body_end, notes = footnote_list(text, *layout.body)
    segments = Segments(text, footnotes=notes)
    segments.part_spans = split_parts(text, layout.body[0], body_end)
    segments.parts = [split_pages(text, *span) for span in segments.part_spans]
    find_marks(segments, (layout.body[0], body_end))
    record: dict = {"id": "", "title": "", "document_type": "", "language": "en"}

    def take(name: str, path: str, value: object | None = None) -> object | None:
        if name not in found:
            return None
        item = found[name]
        return review.propose(path, item.value if value is None else value, item.source, item.offset)

    context = _item_date(found)
    _heading(record, review, layout, segments)
    documents = [read_document(segments, span, number if len(segments.parts) > 1 else None, context)
                 for number, span in enumerate(segments.part_spans, 1)]
    provenance = _provenance(review, found, take)
    record["provenance"] = provenance
    if len(documents) > 1:
        record["parts"] = [_part(segments, review, doc, number, context)
                           for number, doc in enumerate(documents, 1)]
        _item_classification(record, review)
    else:
        _simple(record, review, documents[0], segments)
    footnote_facts(record, review, segments)
    if context is not None and found.get("date"):
        record.setdefault("dates", []).insert(0, {"type": "dated", "date": context.isoformat(),
                                                  "as_printed": found["date"].value})
        review.propose("dates[0]", record["dates"][0], found["date"].source, found["date"].offset)
    required(record, review, found, take)
    record["id"] = review.propose("id", record_id(record, source), "made from the names and date above", None)
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["cataloging"] = {"created": stamp, "modified": stamp, "sources": [source]}
    record["_review"] = review.entries
    return ordered(record)


def _item_date(found: dict) -> dt.date | None:
    if "date" not in found:
        return None
    match = FULL_DATE.search(found["date"].value)
    return parse_date(match) if match else None


def _heading(record: dict, review: Review, layout: Layout, segments: Segments) -> None:
    """Title, type and the agents a FRUS heading or an item title names."""
    found = layout.values
    if "heading" in found:
        heading = found["heading"]
        record["title"] = review.propose("title", heading.value, heading.source, heading.offset)
        to = HEADING_TO.match(heading.value)
        by = HEADING_BY.match(heading.value)
        if to:
            record["creators"] = [_agent(review, "creators[0]", to.group("from"), "sender", heading)]
            record["recipients"] = [_agent(review, "recipients[0]", to.group("to"), "addressee", heading)]
        elif by:
            kind = document_type(by.group("type")) or "memorandum"
            record["document_type"] = review.propose("document_type", kind, heading.source, heading.offset)
            record["creators"] = [_agent(review, "creators[0]", by.group("from"), "author", heading)]
    elif "title" in found:
        title = found["title"]
        record["title"] = review.propose("title", title.value, title.source, title.offset)
        for side, key, role in (("creators", "from", "sender"), ("recipients", "to", "addressee")):
            if key in found:
                named = {"name": inverted(found[key].value), "role": role, "as_printed": found[key].value}
                record[side] = [review.propose(f"{side}[0]", named, found[key].source, found[key].offset)]
        first_word = title.value.split(",")[0]
        if document_type(first_word) and not record["document_type"]:
            record["document_type"] = review.propose("document_type", document_type(first_word), title.source,
                                                     title.offset)
    if "document_type" in found and not record["document_type"]:
        item = found["document_type"]
        record["document_type"] = review.propose("document_type", item.value, item.source, item.offset)


def _agent(review: Review, path: str, printed: str, role: str, heading) -> dict:
    read = agent(printed)
    office_only = read.pop("office_only", False)
    value = {"name": read["name"], "role": role, **{k: v for k, v in read.items() if k != "name"}}
    why = "only an office is printed: put the person's name here" if office_only else (
        "only the surname is printed: complete the name, family name first")
    return review.propose(path, value, heading.source, heading.offset, why=why)


def _provenance(review: Review, found: dict, take) -> dict:
    provenance: dict = {}
    file_number = take("file_number", "provenance.file_number")
    collection: dict = {}
    if file_number:
        provenance["file_number"] = file_number
        collection["name"] = review.propose("provenance.collection.name", "Department of State Central Decimal File",
                                            found["file_number"].source, found["file_number"].offset)
    elif "collection" in found:
        collection["name"] = take("collection", "provenance.collection.name")
        for key in ("series", "file"):
            if key in found:
                collection[key] = take(key, f"provenance.collection.{key}")
    if collection:
        provenance["collection"] = collection
    holder = None
    if "repository" in found:
        holder = (found["repository"].value, None)
        source = found["repository"]
    elif collection:
        holder = repository_for(collection["name"], bool(file_number))
        source = found.get("file_number") or found.get("collection")
    if holder:
        repository = {"name": holder[0], **({"division": holder[1]} if holder[1] else {})}
        provenance["repository"] = review.propose("provenance.repository", repository, source.source, source.offset)
    if "classification" in found:
        marked = found["classification"]
        level = classification_level(marked.value) or "unclassified"
        provenance["classification"] = review.propose(
            "provenance.classification", {"level": level, "as_marked": [marked.value]}, marked.source, marked.offset)
    return provenance


def _simple(record: dict, review: Review, doc: Document, segments: Segments) -> None:
    """A single document: its fields go on the record, its pages on `pages`."""
    review.take(doc, "")
    data = doc.data
    provenance = record["provenance"]
    for key in ("dates", "places", "dateline", "signature"):
        if key in data:
            record[key] = data[key] if key not in record else record[key] + data[key]
    if "classification" in data and "classification" not in provenance:
        provenance["classification"] = data["classification"]
    for key in ("markings", "transmission", "declassification"):
        if key in data:
            provenance[key] = data[key]
    _paraphrase(provenance, data)
    _signer(record, review, data)
    record["pages"] = _pages(segments, segments.parts[0], review, "pages")


def _part(segments: Segments, review: Review, doc: Document, number: int, context: dt.date | None) -> dict:
    prefix = f"parts[{number - 1}]."
    review.take(doc, prefix)
    data = doc.data
    start = segments.part_spans[number - 1][0]
    head = LETTERHEADS.match(segments.text, start)
    letterhead = " ".join(head.group().split()) if head else "Document"
    part: dict = {"title": "", "document_type": "telegram"}
    for key in ("dates", "places", "classification", "markings", "transmission", "declassification", "signature"):
        if key in data:
            part[key] = data[key]
    number_printed = data.get("transmission", {}).get("telegram_number")
    sent_from = next((p["as_printed"] for p in data.get("places", []) if p["role"] == "sent from"), None)
    first_date = next((d for d in data.get("dates", []) if d.get("date")), None)
    title = letterhead.replace("DEPARTMENT OF STATE", "Department of State").replace(" Incoming T", " incoming t")
    title = title.replace(" Outgoing T", " outgoing t") + (" message" if letterhead.startswith("Signal") else "")
    title += f" {number_printed}" if number_printed else ""
    title += f", from {sent_from}" if sent_from else ""
    if first_date:
        title += f", {_long(first_date['date'])}"
    part["title"] = review.propose(f"{prefix}title", title, line_at(segments.text, start), start)
    review.propose(f"{prefix}document_type", "telegram", line_at(segments.text, start), start,
                   why="the letterhead's usual document type")
    if "DEPARTMENT OF STATE" in letterhead and "Incoming" in letterhead:
        recipient = {"name": "United States. Department of State", "role": "recipient",
                     "as_printed": "DEPARTMENT OF STATE"}
        routing = next((m["text"] for m in data.get("markings", []) if m["kind"] == "routing"), "")
        if "SECSTATE" in routing:
            recipient["routed_as"] = "SECSTATE"
        part["recipients"] = [review.propose(f"{prefix}recipients[0]", recipient, line_at(segments.text, start),
                                             start)]
    _signer(part, review, data, prefix)
    part["pages"] = _pages(segments, segments.parts[number - 1], review, f"{prefix}pages")
    return part


def _long(iso: str) -> str:
    date = dt.date.fromisoformat(iso)
    return f"{date:%B} {date.day}, {date.year}"


def _paraphrase(provenance: dict, data: dict) -> None:
    if "_paraphrase" in data:
        provenance["paraphrase"] = data["_paraphrase"]


def _signer(target: dict, review: Review, data: dict, prefix: str = "") -> None:
    """A signature names the sender: marks a heading's agent as signed (supplied, "[Harriman]") or
    adds the signer when no heading named one."""
    signer = data.get("_signer")
    if not signer:
        return
    for index, creator in enumerate(target.get("creators", [])):
        if creator["name"].split(",")[0] == signer["name"].split(",")[0]:
            if signer["supplied"]:
                creator["signature_supplied"] = True
                review.propose(f"{prefix}creators[{index}].signature_supplied", True, signer["as_printed"], None)
            return
    value = {"name": signer["name"], "role": signer["role"], "as_printed": signer["as_printed"]}
    if signer["supplied"]:
        value["signature_supplied"] = True
    target.setdefault("creators", []).append(value)
    review.propose(f"{prefix}creators[{len(target['creators']) - 1}]", value, signer["as_printed"], None,
                   why="named by the signature only: complete the name, family name first")


def _pages(segments: Segments, pages, review: Review, prefix: str) -> list[dict]:
    out = []
    for index, page in enumerate(pages):
        entry = {"label": page.label, **({"label_supplied": True} if page.label_supplied else {}),
                 "text": segments.page_text(page)}
        review.propose(f"{prefix}[{index}].label", page.label, page.label_from, page.start)
        out.append(entry)
    return out


def _item_classification(record: dict, review: Review) -> None:
    """A compound item's classification is the highest of its parts', with every marking."""
    marked = [m for part in record["parts"] for m in part.get("classification", {}).get("as_marked", [])]
    levels = [part["classification"]["level"] for part in record["parts"] if "classification" in part]
    if levels and "classification" not in record["provenance"]:
        value = {"level": min(levels, key=LEVEL_ORDER.index), "as_marked": marked}
        record["provenance"]["classification"] = review.propose(
            "provenance.classification", value, "the parts' classification markings", None)


ORDER = ("id", "title", "document_type", "language", "dates", "creators", "recipients", "places", "provenance",
         "description", "footnotes", "rights", "access", "dateline", "signature", "pages", "parts", "cataloging",
         "_review")
PROVENANCE_ORDER = ("repository", "collection", "file_number", "classification", "markings", "paraphrase",
                    "transmission", "declassification", "declassification_unrecorded")


PART_ORDER = ("title", "document_type", "dates", "creators", "recipients", "places", "classification", "markings",
              "transmission", "declassification", "signature", "pages")


def _in_order(entry: dict, order: tuple[str, ...]) -> dict:
    return {key: entry[key] for key in sorted(entry, key=lambda k: order.index(k) if k in order else 99)}


def ordered(record: dict) -> dict:
    """Keys in the order the fixture records use, so a draft reads like a finished record."""
    record = _in_order(record, ORDER)
    record["provenance"] = _in_order(record["provenance"], PROVENANCE_ORDER)
    if "parts" in record:
        record["parts"] = [_in_order(part, PART_ORDER) for part in record["parts"]]
    return record
