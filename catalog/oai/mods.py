"""MODS 3.8 (`mods`) for a record: the description libraries and DPLA hubs take, with who sent and
who received, dates with their certainty, the file number, the holding and the printed edition.

`mods_xml(record, urls)` returns a `mods:mods` element that validates on its own against
mods-3-8.xsd. Every value comes from `catalog.facts` (people, dates, file numbers, edition) and
every link from the URL builder; the mapping is tabled in the README ("Metadata formats").
"""

from __future__ import annotations

import re

from lxml import etree

from catalog import facts
from catalog.languages import iso639_2b
from catalog.model import AuthorityLink
from catalog.model import DocumentDate
from catalog.model import Record
from catalog.model import Relation
from catalog.oai.xml import XSI_NS
from catalog.oai.xml import xml_text
from catalog.urls import Urls

MODS_NS = "http://www.loc.gov/mods/v3"
MODS_SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"
XLINK_NS = "http://www.w3.org/1999/xlink"

AUTHORITY_CODES = {"viaf": "viaf", "wikidata": "wikidata", "snac": "snac", "lcnaf": "naf", "isni": "isni",
                   "orcid": "orcid", "other": "local"}
"""Our authority schemes as the source codes MODS and MARC use (LC's Name Authority File is `naf`)."""

SIDE_RELATORS = {facts.CREATOR: ("cre", "creator"), facts.RECIPIENT: ("rcp", "addressee")}
"""The side an agent is on, as a MARC relator: the list decides it (see catalog.facts)."""

ROLE_RELATORS = {"author": ("aut", "author"), "signer": ("sgn", "signer")}
"""Roles that say more than the side, where MARC has a relator for them."""

RELATED_ITEM_TYPES = {"encloses": "constituent", "has part": "constituent", "enclosed in": "host",
                      "part of": "host", "reply to": "references", "refers to": "references",
                      "referred to by": "isReferencedBy", "replied to by": "isReferencedBy",
                      "same document as": "otherVersion"}
"""Relation types as MODS relatedItem types; 'related' has none (its displayLabel says it)."""

CREATION_DATES = ("written", "dated", "sent")


def relators(person: facts.Person) -> list[tuple[str, str]]:
    """(code, term) MARC relators for a person: the side first, then the role where one fits."""
    found = [SIDE_RELATORS[person.side]]
    if person.agent.role in ROLE_RELATORS:
        found.append(ROLE_RELATORS[person.agent.role])
    return list(dict.fromkeys(found))


def preferred_authority(links: list[AuthorityLink]) -> AuthorityLink | None:
    """The link a single-URI slot (MODS valueURI) carries: LC's file first, then as cataloged."""
    for link in links:
        if link.scheme == "lcnaf":
            return link
    return links[0] if links else None


def _el(parent: etree._Element, tag: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{MODS_NS}}}{tag}")
    for name, value in attributes.items():
        if value is not None:
            key = f"{{{XLINK_NS}}}href" if name == "href" else name
            element.set(key, xml_text(value))
    if text is not None:
        element.text = xml_text(text)
    return element


def _name(parent: etree._Element, name: str, links: list[AuthorityLink], roles: list[tuple[str, str]],
          office: str | None = None, tag: str = "name") -> None:
    link = preferred_authority(links)
    parts = facts.split_name(name)
    element = _el(parent, tag, type="personal" if "family" in parts else None,
                  authority=AUTHORITY_CODES[link.scheme] if link else None, valueURI=link.uri if link else None)
    if "family" in parts:
        _el(element, "namePart", parts["family"], type="family")
        _el(element, "namePart", parts["given"], type="given")
    else:
        _el(element, "namePart", parts["literal"])
    _el(element, "displayForm", facts.display_name(name))
    if office:
        _el(element, "affiliation", office)
    for code, term in roles:
        role = _el(element, "role")
        _el(role, "roleTerm", term, type="text", authority="marcrelator")
        _el(role, "roleTerm", code, type="code", authority="marcrelator")
    for other in links:
        _el(element, "nameIdentifier", other.uri, type=AUTHORITY_CODES[other.scheme])


def _date(parent: etree._Element, tag: str, date: DocumentDate, key: bool = False, **attributes: str) -> None:
    """A MODS date with its certainty: EDTF where cataloged, else W3CDTF, a range as start and end."""
    qualifier = date.how_sure
    if date.edtf:
        _el(parent, tag, date.edtf, encoding="edtf", qualifier=qualifier, keyDate="yes" if key else None,
            **attributes)
        return
    ranged = date.end_date is not None and date.end_date != date.date
    _el(parent, tag, date.date.isoformat(), encoding="w3cdtf", qualifier=qualifier, keyDate="yes" if key else None,
        point="start" if ranged else None, **attributes)
    if ranged:
        _el(parent, tag, date.end_date.isoformat(), encoding="w3cdtf", qualifier=qualifier, point="end",
            **attributes)


def _origin(root: etree._Element, record: Record) -> None:
    origin = _el(root, "originInfo", eventType="production")
    for located in facts.places(record):
        if located.part is None and located.place.role in ("written at", "sent from", "meeting place"):
            place = _el(origin, "place")
            _el(place, "placeTerm", located.place.name, type="text")
    for n, date in enumerate(record.dates):
        if n == 0 or date.type in CREATION_DATES:
            _date(origin, "dateCreated", date, key=n == 0)
        else:
            _date(origin, "dateOther", date, type=date.type)
    _el(origin, "issuance", "single unit")


def _physical(root: etree._Element, record: Record) -> None:
    physical = _el(root, "physicalDescription")
    _el(physical, "form", "text", authority="marcform")
    pages = len(record.all_pages())
    extent = f"{pages} page{'s' if pages != 1 else ''}"
    if record.parts:
        extent += f" in {len(record.parts)} parts"
    _el(physical, "extent", extent)
    if record.provenance.paraphrase:
        _el(physical, "note", "A paraphrase, not the text as sent.")


def _notes(root: etree._Element, record: Record) -> None:
    prov = record.provenance
    for note in record.description.notes:
        _el(root, "note", note.text, type=note.kind)
    _el(root, "note", facts.classification_text(prov.classification), type="classification")
    for marking in prov.markings:
        where = facts.locator_text(marking.located_at)
        _el(root, "note", marking.text + (f" ({where})" if where else ""), type="marking", displayLabel=marking.kind)
    for found in facts.declassifications(record):
        details = "; ".join(found.details())
        text = f"Declassified: {details}." if details else f"Declassification stamp: {found.action.as_printed or ''}"
        if found.part:
            text = f"Part {found.part}: {text}"
        _el(root, "note", text, type="action")
    if prov.declassification_unrecorded:
        _el(root, "note", prov.declassification_unrecorded, type="action")
    for number in facts.file_numbers(record)[1:]:
        _el(root, "note", f"Also filed under {number}.", type="numbering")
    if record.dateline:
        _el(root, "note", record.dateline, type="dateline")
    if record.signature:
        _el(root, "note", record.signature, type="statement of responsibility")
    if record.translation_note:
        _el(root, "note", record.translation_note, type="language")


def _subjects(root: etree._Element, record: Record) -> None:
    for subject in record.description.subjects:
        _el(_el(root, "subject"), "topic", subject)
    for name in facts.place_names(record):
        _el(_el(root, "subject"), "geographic", name)
    for person in record.persons_mentioned:
        _name(_el(root, "subject"), person.name, person.authority, [])


def _location(root: etree._Element, record: Record, urls: Urls) -> None:
    prov = record.provenance
    location = _el(root, "location")
    holder = ", ".join(p for p in (prov.repository.name, prov.repository.division) if p)
    _el(location, "physicalLocation", holder, type="repository")
    shelf = ", ".join(p for p in (prov.collection.box and f"Box {prov.collection.box}",
                                  prov.collection.folder and f"Folder {prov.collection.folder}") if p)
    if shelf:
        _el(location, "shelfLocator", shelf)
    _el(location, "url", urls.record(record.id), usage="primary display", access="object in context")
    _el(location, "url", urls.manifest(record.id), note="IIIF Presentation 3.0 manifest", access="raw object")


def _host(root: etree._Element, record: Record, urls: Urls) -> None:
    collection = record.provenance.collection
    host = _el(root, "relatedItem", type="host", displayLabel="Collection")
    _el(_el(host, "titleInfo"), "title", collection.name)
    _el(_el(host, "location"), "url", urls.collection(facts.collection_slug(record)))
    details = [("series", collection.series), ("file", collection.file), ("box", collection.box),
               ("folder", collection.folder)]
    if any(value for _, value in details):
        part = _el(host, "part")
        for kind, value in details:
            if value:
                _el(_el(part, "detail", type=kind), "title" if kind in ("series", "file") else "number", value)


PAGE_RANGE = re.compile(r"^\s*(\S+?)\s*[–—-]\s*(\S+)\s*$")


def _editions(root: etree._Element, record: Record) -> None:
    for edition in record.provenance.editions:
        item = _el(root, "relatedItem", type="otherVersion",
                   displayLabel="Printed in" if facts.is_printed(edition) else "Published online in")
        info = _el(item, "titleInfo")
        _el(info, "title", edition.title)
        for editor in edition.editors:
            name, role = (editor, "editor") if isinstance(editor, str) else (editor.name, editor.role)
            element = _el(item, "name")
            _el(element, "namePart", name)
            _el(_el(element, "role"), "roleTerm", "editor", type="text", authority="marcrelator")
            if role != "editor":
                _el(element, "description", role)
        origin = _el(item, "originInfo", eventType="publication")
        _el(origin, "publisher", edition.publisher)
        if edition.year:
            _el(origin, "dateIssued", str(edition.year), encoding="w3cdtf")
        if edition.volume_id:
            _el(item, "identifier", edition.volume_id, type="local")
        if edition.record_id:
            _el(item, "identifier", edition.record_id, type="local")
        if edition.url:
            _el(_el(item, "location"), "url", edition.url)
        if edition.series:
            series = _el(item, "relatedItem", type="series")
            _el(_el(series, "titleInfo"), "title", edition.series)
        if edition.document_number or edition.pages:
            part = _el(item, "part")
            if edition.document_number:
                _el(_el(part, "detail", type="document"), "number", edition.document_number)
            if edition.pages:
                extent = _el(part, "extent", unit="pages")
                bounds = PAGE_RANGE.match(edition.pages)
                if bounds:
                    _el(extent, "start", bounds.group(1))
                    _el(extent, "end", bounds.group(2))
                else:
                    _el(extent, "list", edition.pages)


def _relation(root: etree._Element, relation: Relation, urls: Urls) -> None:
    item = _el(root, "relatedItem", type=RELATED_ITEM_TYPES.get(relation.type),
               displayLabel=relation.type.capitalize())
    label = relation.as_printed or relation.target or relation.uri
    _el(_el(item, "titleInfo"), "title", label)
    if relation.note:
        _el(item, "note", relation.note)
    if relation.target:
        _el(item, "identifier", relation.target, type="local")
    url = urls.record(relation.target) if relation.target else relation.uri
    if url:
        _el(_el(item, "location"), "url", url)


def _access(root: etree._Element, record: Record) -> None:
    access = record.access
    text = "Open for research." if access.status == "open" else f"Restricted: {access.reason}"
    _el(root, "accessCondition", text, type="restriction on access")
    rights = record.rights
    statement = rights.statement + (f" Rights holder: {rights.holder}." if rights.holder else "")
    _el(root, "accessCondition", statement, type="use and reproduction", href=rights.uri)


def _record_info(root: etree._Element, record: Record, urls: Urls) -> None:
    info = _el(root, "recordInfo")
    _el(info, "recordContentSource", urls.oai_repository)
    _el(info, "recordCreationDate", record.cataloging.created.date().isoformat(), encoding="w3cdtf")
    _el(info, "recordChangeDate", record.cataloging.modified.date().isoformat(), encoding="w3cdtf")
    _el(info, "recordIdentifier", record.id, source=urls.oai_repository)
    _el(_el(info, "languageOfCataloging"), "languageTerm", "eng", type="code", authority="iso639-2b")
    _el(info, "recordOrigin", "Generated from the catalog's JSON record.")


def mods_xml(record: Record, urls: Urls) -> etree._Element:
    """The record's `mods:mods` element (for `<metadata>`, or to validate on its own)."""
    root = etree.Element(f"{{{MODS_NS}}}mods", nsmap={"mods": MODS_NS, "xlink": XLINK_NS, "xsi": XSI_NS},
                         version="3.8")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MODS_NS} {MODS_SCHEMA}")
    _el(_el(root, "titleInfo"), "title", record.title)
    for person in [*facts.creators(record), *facts.recipients(record)]:
        _name(root, person.name, person.agent.authority, relators(person), person.agent.office)
    _el(root, "typeOfResource", "text", manuscript="yes")
    for kind in facts.document_types(record):
        _el(root, "genre", kind, authority="local")
    _origin(root, record)
    language = _el(root, "language")
    _el(language, "languageTerm", iso639_2b(record.language), type="code", authority="iso639-2b")
    if record.original_language and record.original_language != record.language:
        original = _el(root, "language", objectPart="original")
        _el(original, "languageTerm", iso639_2b(record.original_language), type="code", authority="iso639-2b")
    _physical(root, record)
    if record.description.summary:
        _el(root, "abstract", record.description.summary,
            displayLabel=f"Summary by {record.description.summary_source}" if record.description.summary_source
            else None)
    _notes(root, record)
    _subjects(root, record)
    for number in facts.file_numbers(record):
        _el(root, "identifier", number, type="local", displayLabel="File number")
    _el(root, "identifier", urls.record(record.id), type="uri")
    _location(root, record, urls)
    _host(root, record, urls)
    _editions(root, record)
    for relation in facts.relations(record):
        _relation(root, relation, urls)
    _access(root, record)
    _record_info(root, record, urls)
    return root
