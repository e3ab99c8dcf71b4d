"""Qualified Dublin Core (`oai_dcterms`): the fifteen elements with DCMI's refinements and encoding
schemes, so a harvester learns what simple DC flattens (when created, which refinement of a
relation, W3CDTF dates, an ISO 639-2 language, URIs as URIs).

`dcterms_xml(record, urls)` returns an `oai_dcterms:qualifieddc` element whose content model is
DCMI's `qualifieddc.xsd` (`dcterms:elementOrRefinementContainer`): the elements are `dc:` and the
refinements `dcterms:`, as that schema declares them. qualifieddc.xsd has no target namespace and
expects an application to give its container one (OAI-PMH requires a namespaced payload); ours is
`OAI_DCTERMS_NS`. The mapping is tabled in the README ("Metadata formats").
"""

from __future__ import annotations

import re

from lxml import etree

from catalog import facts
from catalog.languages import iso639_2b
from catalog.model import DocumentDate
from catalog.model import Record
from catalog.oai.dublin_core import DC_NS
from catalog.oai.dublin_core import dc_elements
from catalog.oai.xml import XSI_NS
from catalog.oai.xml import xml_text
from catalog.urls import Urls

OAI_DCTERMS_NS = "http://www.openarchives.org/OAI/2.0/oai_dcterms/"
DCTERMS_NS = "http://purl.org/dc/terms/"
SCHEMA_NAME = "oai_dcterms.xsd"
APPLICATION_SCHEMA = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{OAI_DCTERMS_NS}" elementFormDefault="qualified">
  <xs:include schemaLocation="http://dublincore.org/schemas/xmls/qdc/2008/02/11/qualifieddc.xsd"/>
</xs:schema>
"""
"""The format's schema, published at /schemas/oai_dcterms.xsd. DCMI's qualifieddc.xsd declares the
container without a target namespace and expects "an application schema which includes this schema"
to give it one (OAI-PMH requires a namespaced payload): this chameleon include is that schema."""

RELATION_TERMS = {"encloses": "hasPart", "has part": "hasPart", "enclosed in": "isPartOf", "part of": "isPartOf",
                  "reply to": "references", "refers to": "references", "referred to by": "isReferencedBy",
                  "replied to by": "isReferencedBy", "same document as": "hasVersion"}
"""Relation types as DCMI refinements of `relation`; 'related' stays `dc:relation`."""

_W3CDTF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _date_value(date: DocumentDate) -> tuple[str, str | None]:
    """The date and its encoding scheme: W3CDTF for a plain date, DCMI Period for a range, EDTF as is."""
    value = facts.iso_date(date)
    if _W3CDTF.fullmatch(value):
        return value, "W3CDTF"
    if date.end_date and not date.edtf:
        return f"start={date.date.isoformat()}; end={date.end_date.isoformat()}; scheme=W3C-DTF", "Period"
    return value, None


def dcterms_terms(record: Record, urls: Urls) -> list[tuple[str, str, str | None]]:
    """(qualified name, value, encoding scheme) triples: `dc:x` elements, `dcterms:x` refinements."""
    prov = record.provenance
    simple = dc_elements(record, urls)
    out: list[tuple[str, str, str | None]] = [("dc:title", record.title, None)]
    out += [("dc:creator", p.with_office(), None) for p in facts.creators(record)]
    out += [("dc:contributor", p.with_office(), None) for p in facts.recipients(record)]
    out += [("dc:subject", s, None) for s in record.description.subjects]
    out += [("dc:subject", p.name, None) for p in record.persons_mentioned]
    if record.description.summary:
        out.append(("dcterms:abstract", record.description.summary, None))
    out += [("dc:description", value, None) for element, value in simple
            if element == "description" and value != record.description.summary]
    out.append(("dc:publisher", prov.repository.name, None))
    created, scheme = _date_value(record.date)
    out.append(("dcterms:created", created, scheme))
    for date in record.dates[1:]:
        value, scheme = _date_value(date)
        out.append(("dc:date", value, scheme))
    out.append(("dc:type", "Text", "DCMIType"))
    out += [("dc:type", kind, None) for kind in facts.document_types(record)]
    pages = len(record.all_pages())
    out.append(("dcterms:extent", f"{pages} page{'s' if pages != 1 else ''}", None))
    out.append(("dc:identifier", urls.record(record.id), "URI"))
    out += [("dc:identifier", number, None) for number in facts.file_numbers(record)]
    out.append(("dc:language", iso639_2b(record.language), "ISO639-2"))
    out.append(("dcterms:isPartOf", ", ".join(p for p in (prov.collection.name, prov.collection.series,
                                                           prov.collection.file) if p), None))
    out.append(("dcterms:isPartOf", urls.collection(facts.collection_slug(record)), "URI"))
    for edition in prov.editions:
        out.append(("dcterms:isReferencedBy", facts.edition_text(edition), None))
        if edition.url:
            out.append(("dcterms:hasVersion", edition.url, "URI"))
    for relation in facts.relations(record):
        term = "dcterms:" + RELATION_TERMS[relation.type] if relation.type in RELATION_TERMS else "dc:relation"
        if relation.target or relation.uri:
            out.append((term, urls.record(relation.target) if relation.target else relation.uri, "URI"))
        else:
            out.append((term, relation.as_printed or "", None))
    out += [("dcterms:spatial", name, None) for name in facts.place_names(record)]
    out.append(("dcterms:temporal", facts.decade(record), None))
    out.append(("dcterms:provenance", ", ".join(facts.archival_location(record)), None))
    access = "Open for research." if record.access.status == "open" else f"Restricted: {record.access.reason}"
    out.append(("dcterms:accessRights", access, None))
    out.append(("dc:rights", record.rights.statement, None))
    if record.rights.uri:
        out.append(("dcterms:license", record.rights.uri, "URI"))
    if record.rights.holder:
        out.append(("dcterms:rightsHolder", record.rights.holder, None))
    seen: set[tuple[str, str, str | None]] = set()
    unique = []
    for name, value, scheme in out:
        value = xml_text(value).strip()
        if value and (name, value, scheme) not in seen:
            seen.add((name, value, scheme))
            unique.append((name, value, scheme))
    return unique


def dcterms_xml(record: Record, urls: Urls) -> etree._Element:
    """The record's `oai_dcterms:qualifieddc` element (for `<metadata>`, or to validate on its own)."""
    namespaces = {"oai_dcterms": OAI_DCTERMS_NS, "dc": DC_NS, "dcterms": DCTERMS_NS, "xsi": XSI_NS}
    root = etree.Element(f"{{{OAI_DCTERMS_NS}}}qualifieddc", nsmap=namespaces)
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DCTERMS_NS} {urls.published_schema(SCHEMA_NAME)}")
    for name, value, scheme in dcterms_terms(record, urls):
        prefix, local = name.split(":")
        element = etree.SubElement(root, f"{{{namespaces[prefix]}}}{local}")
        element.text = value
        if scheme:
            element.set(f"{{{XSI_NS}}}type", f"dcterms:{scheme}")
    return root
