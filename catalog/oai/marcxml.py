"""MARC 21 in MARCXML (`marc21`): a record as an archival item, the form WorldCat and ILSs take.

The leader says what it is: `t` (manuscript language material), bibliographic level `d` (a subunit
of a collection: one item described within its collection, linked to it by 773) and type of control
`a` (archival). `marc_fields(record, urls)` is the mapping as (tag, indicators, subfields) rows;
`marc_xml` renders them as a `marc:record` that validates on its own against MARC21slim.xsd.
Values come from `catalog.facts`, links from the URL builder; the README ("Metadata formats") tables the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from catalog import facts
from catalog.languages import iso639_2b
from catalog.model import DocumentDate
from catalog.model import Record
from catalog.oai.mods import relators
from catalog.oai.xml import XSI_NS
from catalog.oai.xml import xml_text
from catalog.urls import Urls

MARC_NS = "http://www.loc.gov/MARC21/slim"
MARC_SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"

LEADER = "00000ntdaa2200000 c 4500"
"""Length and base address are the binary format's; MARCXML leaves them zero. `c`: no ISBD punctuation."""

NONFILING = {"the ": "4", "an ": "3", "a ": "2"}


@dataclass(frozen=True)
class Field:
    tag: str
    value: str = ""
    """A control field's content (tags 001–009)."""
    indicators: str = "  "
    subfields: tuple[tuple[str, str], ...] = ()


def _year(date) -> str:
    return f"{date.year:04d}"


def fixed_008(record: Record) -> str:
    """The 40 fixed positions (Books configuration, which manuscript language material `t` uses):
    when cataloged, the date type and years (`s` single, `q` questionable or approximate, `i` a range),
    no place (`xx`), and the language as ISO 639-2."""
    date: DocumentDate = record.date
    if date.end_date and date.end_date.year != date.date.year:
        kind, first, second = "i", _year(date.date), _year(date.end_date)
    elif date.how_sure in ("approximate", "questionable"):
        low = date.not_before or date.date
        high = date.not_after or date.end_date or date.date
        kind, first, second = "q", _year(low), _year(high)
    else:
        kind, first, second = "s", _year(date.date), "    "
    entered = record.cataloging.created.strftime("%y%m%d")
    books = "    " + " " + " " + "    " + "|" + "0" + "0" + "0" + " " + "0" + " "  # 18–34
    value = entered + kind + first + second + "xx " + books + iso639_2b(record.language) + " " + "d"
    return value


def _name_field(tag: str, person: facts.Person) -> Field:
    parts = facts.split_name(person.name)
    personal = "family" in parts
    subfields: list[tuple[str, str]] = [("a", person.name)]
    if person.agent.office:
        subfields.append(("c", person.agent.office) if personal else ("b", person.agent.office))
    subfields += [("e", term) for _, term in relators(person)]
    subfields += [("4", code) for code, _ in relators(person)]
    subfields += [("0", link.uri) for link in person.agent.authority]
    if personal:
        return Field(tag.replace("X", "0"), indicators="1 ", subfields=tuple(subfields))
    return Field(tag.replace("X", "1"), indicators="2 ", subfields=tuple(subfields))


def _subject_name(person) -> Field:
    personal = "family" in facts.split_name(person.name)
    subfields = [("a", person.name), *(("0", link.uri) for link in person.authority)]
    return Field("600" if personal else "610", indicators="14" if personal else "24", subfields=tuple(subfields))


def marc_fields(record: Record, urls: Urls) -> list[Field]:
    """The record's MARC fields in tag order (the leader apart)."""
    prov = record.provenance
    out: list[Field] = [
        Field("001", record.id),
        Field("005", record.cataloging.modified.strftime("%Y%m%d%H%M%S.0")),
        Field("008", fixed_008(record)),
    ]
    for number in facts.file_numbers(record):
        out.append(Field("024", indicators="8 ", subfields=(("a", number), ("q", "decimal file number"))))
    languages = [("a", iso639_2b(record.language))]
    if record.original_language and record.original_language != record.language:
        languages.append(("h", iso639_2b(record.original_language)))
    out.append(Field("041", indicators=("1 " if len(languages) > 1 else "0 "), subfields=tuple(languages)))
    people = [*facts.creators(record), *facts.recipients(record)]
    main = people[0] if people and people[0].side == facts.CREATOR else None
    if main is not None:
        out.append(_name_field("1X0", main))
    title = record.title
    skip = next((n for prefix, n in NONFILING.items() if title.lower().startswith(prefix)), "0")
    out.append(Field("245", indicators=("1" if main else "0") + skip,
                     subfields=(("a", title), ("f", facts.cited_date(record.date)))))
    production: list[tuple[str, str]] = [("a", place.place.name) for place in facts.places(record)
                                         if place.part is None and place.place.role in
                                         ("written at", "sent from", "meeting place")][:1]
    production.append(("c", facts.cited_date(record.date)))
    out.append(Field("264", indicators=" 0", subfields=tuple(production)))
    pages = len(record.all_pages())
    extent = f"{pages} page{'s' if pages != 1 else ''}" + (f" in {len(record.parts)} parts" if record.parts else "")
    out.append(Field("300", subfields=(("a", extent),)))
    out.append(Field("336", subfields=(("a", "text"), ("b", "txt"), ("2", "rdacontent"))))
    notes = [note.text for note in record.description.notes]
    notes.append(facts.classification_text(prov.classification))
    notes += [f"Marked ({m.kind}): {m.text}" for m in prov.markings]
    notes += [f"Also filed under {n}." for n in facts.file_numbers(record)[1:]]
    if record.dateline:
        notes.append(f"Dateline: {record.dateline}")
    if record.signature:
        notes.append(f"Signature: {record.signature}")
    if prov.paraphrase:
        notes.append("A paraphrase, not the text as sent.")
    out += [Field("500", subfields=(("a", text),)) for text in notes]
    if record.access.status == "open":
        out.append(Field("506", indicators="0 ", subfields=(("a", "Open for research."),)))
    else:
        out.append(Field("506", indicators="1 ", subfields=(("a", f"Restricted: {record.access.reason}"),)))
    if record.description.summary:
        out.append(Field("520", subfields=(("a", record.description.summary),)))
    rights = [("a", record.rights.statement)]
    if record.rights.holder:
        rights.append(("d", record.rights.holder))
    if record.rights.uri:
        rights.append(("u", record.rights.uri))
    out.append(Field("540", subfields=tuple(rights)))
    if record.translation_note:
        out.append(Field("546", subfields=(("a", record.translation_note),)))
    out.append(Field("555", indicators="8 ", subfields=(
        ("a", f"Other items of the collection are described in the catalog: {prov.collection.name}."),
        ("u", urls.collection(facts.collection_slug(record))))))
    if prov.repository.note:
        out.append(Field("561", subfields=(("a", prov.repository.note),)))
    for edition in prov.editions:
        out.append(Field("581", subfields=(("a", facts.printed_in(edition) + f" ({edition.publisher}"
                                            + (f", {edition.year}" if edition.year else "") + ")."),)))
    for found in facts.declassifications(record):
        action = [("a", "Declassified")]
        if found.action.date:
            action.append(("c", found.action.date.isoformat()))
        elif found.action.date_as_printed:
            action.append(("c", found.action.date_as_printed))
        if found.authority:
            action.append(("f", found.authority))
        if found.action.agency_letter:
            action.append(("k", found.action.agency_letter))
        if found.part:
            action.insert(0, ("3", f"Part {found.part}"))
        out.append(Field("583", indicators="1 ", subfields=tuple(action)))
    out += [_subject_name(person) for person in record.persons_mentioned]
    out += [Field("650", indicators=" 4", subfields=(("a", subject),)) for subject in record.description.subjects]
    out += [Field("651", indicators=" 4", subfields=(("a", name),)) for name in facts.place_names(record)]
    out += [Field("655", indicators=" 4", subfields=(("a", kind),)) for kind in facts.document_types(record)]
    out += [_name_field("7X0", person) for person in people if person is not main]
    host = [("t", prov.collection.name)]
    position = [prov.collection.series, prov.collection.file,
                prov.collection.box and f"Box {prov.collection.box}",
                prov.collection.folder and f"Folder {prov.collection.folder}"]
    if any(position):
        host.append(("g", ", ".join(p for p in position if p)))
    out.append(Field("773", indicators="0 ", subfields=tuple(host)))
    holding = [("a", prov.repository.name)]
    if prov.repository.division:
        holding.append(("b", prov.repository.division))
    if prov.repository.location:
        holding.append(("e", prov.repository.location))
    if prov.file_number:
        holding.append(("h", prov.file_number))
    out.append(Field("852", indicators="8 ", subfields=tuple(holding)))
    out.append(Field("856", indicators="40", subfields=(("u", urls.record(record.id)),
                                                        ("z", "Catalog record, transcription and images"))))
    out.append(Field("856", indicators="41", subfields=(("u", urls.manifest(record.id)),
                                                        ("q", "application/ld+json"), ("z", "IIIF manifest"))))
    for edition in prov.editions:
        if edition.url:
            out.append(Field("856", indicators="42", subfields=(("3", edition.title), ("u", edition.url))))
    for relation in facts.relations(record):
        url = urls.record(relation.target) if relation.target else relation.uri
        label = relation.as_printed or relation.target or relation.uri or ""
        if url:
            out.append(Field("856", indicators="42", subfields=(("3", f"{relation.type.capitalize()}: {label}"),
                                                                ("u", url))))
        else:
            out.append(Field("500", subfields=(("a", f"{relation.type.capitalize()}: {label}"),)))
    return sorted(out, key=lambda field: field.tag)


def marc_xml(record: Record, urls: Urls) -> etree._Element:
    """The record's `marc:record` element (for `<metadata>`, or to validate on its own)."""
    return marc_xml_from(marc_fields(record, urls))


def marc_xml_from(fields: list[Field]) -> etree._Element:
    root = etree.Element(f"{{{MARC_NS}}}record", nsmap={"marc": MARC_NS, "xsi": XSI_NS}, type="Bibliographic")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MARC_NS} {MARC_SCHEMA}")
    etree.SubElement(root, f"{{{MARC_NS}}}leader").text = LEADER
    for field in fields:
        if field.tag < "010":
            etree.SubElement(root, f"{{{MARC_NS}}}controlfield", tag=field.tag).text = xml_text(field.value)
            continue
        element = etree.SubElement(root, f"{{{MARC_NS}}}datafield", tag=field.tag, ind1=field.indicators[0],
                                   ind2=field.indicators[1])
        for code, value in field.subfields:
            etree.SubElement(element, f"{{{MARC_NS}}}subfield", code=code).text = xml_text(value)
    return root

