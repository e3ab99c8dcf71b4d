"""Simple Dublin Core (`oai_dc`) for a record: a pure mapping, then its XML.

`dc_elements(record, urls)` says what a harvester learns about a record, as (element, value) pairs
using only the fifteen Dublin Core elements; `dc_xml(record, urls)` renders them as an
`oai_dc:dc` element that validates on its own against the oai_dc schema.
"""

from __future__ import annotations

from lxml import etree

from catalog import facts
from catalog.languages import iso639_2b
from catalog.model import Record
from catalog.oai.xml import XSI_NS
from catalog.oai.xml import xml_text
from catalog.urls import Urls

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"

DC_ELEMENTS = ("title", "creator", "subject", "description", "publisher", "contributor", "date", "type",
               "format", "identifier", "source", "language", "relation", "coverage", "rights")
"""The fifteen elements of simple Dublin Core, in their canonical order (the order we emit)."""

def _declassifications(record: Record) -> list[str]:
    out = []
    for found in facts.declassifications(record):
        details = found.details()
        if details:
            out.append("Declassified: " + "; ".join(details) + ".")
        elif found.action.as_printed:
            out.append(f"Declassification stamp: {found.action.as_printed}")
    return out


def _source(record: Record) -> str:
    prov = record.provenance
    pieces = [*facts.file_numbers(record), prov.collection.name, prov.collection.series, prov.collection.file,
              prov.repository.division, prov.repository.name]
    return ", ".join(p for p in pieces if p)


def _editions(record: Record) -> list[str]:
    out = []
    for edition in record.provenance.editions:
        pieces = [edition.publisher, edition.title, edition.series, edition.volume_id,
                  f"document {edition.document_number}" if edition.document_number else None,
                  f"pp. {edition.pages}" if edition.pages else None,
                  str(edition.year) if edition.year else None]
        out.append("Published in: " + ", ".join(p for p in pieces if p))
        if edition.url:
            out.append(edition.url)
    return out


def dc_elements(record: Record, urls: Urls) -> list[tuple[str, str]]:
    """(element, value) pairs for `record`; `urls` builds its absolute URLs."""
    prov = record.provenance
    parts = record.parts or []
    description = [record.description.summary or ""]
    if parts:
        description.append("Compound item: " + "; ".join(
            f"{n}. {part.title} ({part.document_type})" for n, part in enumerate(parts, 1)) + ".")
    description += [facts.classification_text(prov.classification), *_declassifications(record)]
    rights = [record.rights.statement, record.rights.uri or "",
              f"Rights holder: {record.rights.holder}" if record.rights.holder else ""]
    collection = ", ".join(p for p in (prov.collection.name, prov.collection.series) if p)
    values = {
        "title": [record.title],
        "creator": [person.with_office() for person in facts.creators(record)],
        "subject": list(record.description.subjects),
        "description": description,
        "publisher": [prov.repository.name],
        "contributor": [person.with_office() for person in facts.recipients(record)],
        "date": [facts.iso_date(record.date)],
        "type": ["Text", *facts.document_types(record)],
        "identifier": [urls.record(record.id), urls.manifest(record.id)],
        "source": [_source(record)],
        "language": [iso639_2b(record.language)],
        "relation": [f"Collection: {collection}", *_editions(record),
                     *(f"{r.type.capitalize()}: {urls.record(r.target) if r.target else r.uri or r.as_printed}"
                       for r in record.relations)],
        "coverage": [*facts.place_names(record), facts.decade(record)],
        "rights": rights,
    }
    pairs = []
    for element in DC_ELEMENTS:
        for value in dict.fromkeys(values.get(element, [])):
            value = xml_text(value).strip()
            if value:
                pairs.append((element, value))
    return pairs


def dc_xml(record: Record, urls: Urls) -> etree._Element:
    """The record's `oai_dc:dc` element (for `<metadata>`, or to validate on its own)."""
    return dc_xml_from(dc_elements(record, urls))


def dc_xml_from(pairs) -> etree._Element:
    """The `oai_dc:dc` element for (element, value) pairs that `dc_elements` made."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    for element, value in pairs:
        etree.SubElement(root, f"{{{DC_NS}}}{element}").text = value
    return root


def dc_bytes(record: Record, urls: Urls) -> bytes:
    """`dc_xml` as a standalone UTF-8 document."""
    return etree.tostring(dc_xml(record, urls), xml_declaration=True, encoding="UTF-8")
