"""EAD3 for archival collections: the one representation that shows a collection as archivists arrange it.

- `finding_aid(name, records, urls)`: a collection's finding aid, one `<c level="item">` per record in
  date order (served at /collections/<slug>.ead.xml; the caller passes public records only);
- `item_document(record, urls)`: an EAD3 document describing the record's collection and holding only
  that record's `<c>` (the OAI-PMH `ead` format: harvests stay per item and incremental).

Every fact comes from `catalog.facts` and every link from `catalog.urls`; lxml escapes all text.
The mapping, element by element, is tabled in the README ("Metadata formats").
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask import has_app_context
from lxml import etree

from catalog import facts
from catalog import languages
from catalog.model import Agent
from catalog.model import AuthorityLink
from catalog.model import DocumentDate
from catalog.model import Record
from catalog.model import slugify
from catalog.oai.xml import XSI_NS
from catalog.oai.xml import xml_text
from catalog.urls import Urls

EAD_NS = "http://ead3.archivists.org/schema/"
EAD_SCHEMA = "https://www.loc.gov/ead/ead3.xsd"
DEFAULT_AGENCY = "Archival Catalog"


def _ead(tag: str) -> str:
    return f"{{{EAD_NS}}}{tag}"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attributes: str | None) -> etree._Element:
    """An EAD child; text and attribute values cleaned of characters XML forbids, None attributes left out."""
    element = etree.SubElement(parent, _ead(tag), {k: xml_text(v) for k, v in attributes.items() if v})
    if text is not None:
        element.text = xml_text(text)
    return element


def _blocks(parent: etree._Element, tag: str, paragraphs: list[str]) -> None:
    """`<tag><p>...</p>...</tag>` when there is any paragraph; nothing otherwise (EAD wants at least one)."""
    paragraphs = [p for p in paragraphs if p and p.strip()]
    if paragraphs:
        block = _el(parent, tag)
        for text in paragraphs:
            _el(block, "p", text)


def _agency() -> str:
    """Who maintains the EAD: the institution the app is configured for (outside an app, a default)."""
    if has_app_context():
        return str(current_app.config.get("CATALOG_INSTITUTION_NAME") or DEFAULT_AGENCY)
    return DEFAULT_AGENCY


# -- names -------------------------------------------------------------------------------------

def _authority(links: list[AuthorityLink]) -> dict[str, str | None]:
    """`@identifier` and `@source` from the first authority link the cataloger gave (EAD3 holds one)."""
    return {"identifier": links[0].uri, "source": links[0].scheme} if links else {}


def _persname(parent: etree._Element, name: str, links: list[AuthorityLink], **attributes: str | None) -> None:
    persname = _el(parent, "persname", **attributes, **_authority(links))
    _el(persname, "part", name)


def _agent_name(parent: etree._Element, agent: Agent) -> None:
    _persname(parent, agent.name, agent.authority, relator=agent.role)


# -- dates -------------------------------------------------------------------------------------

def _unitdate(did: etree._Element, date: DocumentDate) -> None:
    """The date as an archivist writes it (`unitdate`) and in machine form (`unitdatestructured`)."""
    _el(did, "unitdate", facts.cited_date(date), normal=facts.iso_date(date), certainty=date.how_sure,
        datechar=date.type)
    structured = _el(did, "unitdatestructured", certainty=date.how_sure, datechar=date.type)
    bounds = {"notbefore": date.not_before and date.not_before.isoformat(),
              "notafter": date.not_after and date.not_after.isoformat()}
    if date.end_date and date.end_date != date.date:
        span = _el(structured, "daterange")
        _el(span, "fromdate", facts.long_date(date.date), standarddate=date.date.isoformat(), **bounds)
        _el(span, "todate", facts.long_date(date.end_date), standarddate=date.end_date.isoformat())
    else:
        _el(structured, "datesingle", facts.long_date(date.date), standarddate=date.date.isoformat(), **bounds)


# -- one item ----------------------------------------------------------------------------------

def _physdesc(record: Record) -> str:
    pages = len(record.all_pages())
    kinds = "; ".join(facts.document_types(record))
    return f"{kinds}; {pages} page{'s' if pages != 1 else ''}"


def _item_did(c: etree._Element, record: Record, urls: Urls) -> None:
    did = _el(c, "did")
    _el(did, "unittitle", record.title)
    numbers = facts.file_numbers(record)
    for n, number in enumerate(numbers):
        _el(did, "unitid", number, localtype="file number" if n == 0 else "other file number")
    _el(did, "unitid", record.id, localtype="catalog record", identifier=urls.record(record.id))
    _unitdate(did, record.date)
    creators = facts.creators(record)
    if creators:
        origination = _el(did, "origination", label="Creator")
        for person in creators:
            _agent_name(origination, person.agent)
    _el(did, "physdesc", _physdesc(record))
    langmaterial = _el(did, "langmaterial")
    for tag in dict.fromkeys(t for t in (record.language, record.original_language) if t):
        _el(langmaterial, "language", languages.language_name(tag), langcode=languages.iso639_2b(tag))
    collection = record.provenance.collection
    for kind, value in (("box", collection.box), ("folder", collection.folder)):
        if value:
            _el(did, "container", value, localtype=kind)
    location = ", ".join(p for p in (collection.series, collection.file) if p)
    if location:
        _el(did, "physloc", location, localtype="series and file")
    _el(did, "dao", daotype="derived", href=urls.manifest(record.id), localtype="iiif-manifest",
        linktitle="IIIF manifest", linkrole="application/ld+json")
    _el(did, "dao", daotype="otherdaotype", otherdaotype="catalog record page", href=urls.record(record.id),
        localtype="record-page", linktitle="Catalog record", linkrole="text/html")


def _controlaccess(c: etree._Element, record: Record) -> None:
    access = etree.Element(_ead("controlaccess"))
    for person in [*facts.creators(record), *facts.recipients(record)]:
        _agent_name(access, person.agent)
    for mentioned in record.persons_mentioned:
        _persname(access, mentioned.name, mentioned.authority, relator="mentioned")
    for located in facts.places(record):
        geogname = _el(access, "geogname", relator=located.place.role)
        _el(geogname, "part", located.place.name)
    for subject in record.description.subjects:
        _el(_el(access, "subject"), "part", subject)
    for kind in facts.document_types(record):
        _el(_el(access, "genreform"), "part", kind)
    if len(access):
        c.append(access)


def _declassifications(record: Record) -> list[str]:
    out = []
    for found in facts.declassifications(record):
        where = f" (part {found.part})" if found.part else ""
        details = found.details(long_dates=True)
        if details:
            out.append(f"Declassified{where}: " + "; ".join(details) + ".")
        elif found.action.as_printed:
            out.append(f"Declassification stamp{where}: {found.action.as_printed}")
    if not out and record.provenance.declassification_unrecorded:
        out.append(record.provenance.declassification_unrecorded)
    return out


def _access(record: Record) -> list[str]:
    release = record.access.release_date
    if record.access.status == "open":
        opened = "Open for research."
    elif release is not None and record.is_public():
        opened = f"Open for research since {facts.long_date(release)}."
    else:  # only public records are disseminated; a caller that passes another learns no reason
        opened = "Closed to research."
    return [opened, facts.classification_text(record.provenance.classification), *_declassifications(record)]


def _userestrict(c: etree._Element, record: Record) -> None:
    rights = record.rights
    block = _el(c, "userestrict")
    _el(block, "p", rights.statement)
    if rights.uri:
        _el(_el(block, "p"), "ref", rights.uri, href=rights.uri)
    if rights.holder:
        _el(block, "p", f"Rights holder: {rights.holder}")


def _bibliography(c: etree._Element, record: Record) -> None:
    editions = record.provenance.editions
    if not editions:
        return
    block = _el(c, "bibliography")
    for edition in editions:
        text = facts.edition_text(edition)
        if edition.editors:
            text += f"; edited by {facts.editors_text(edition)}"
        if edition.year:
            text += f" ({edition.year})"
        bibref = _el(block, "bibref", text + ". ")
        if edition.url:
            _el(bibref, "ref", edition.url, href=edition.url, linktitle=edition.title)


def _relatedmaterial(c: etree._Element, record: Record, urls: Urls) -> None:
    relations = facts.relations(record)
    if not relations:
        return
    block = _el(c, "relatedmaterial")
    for relation in relations:
        p = _el(block, "p", f"{relation.type.capitalize()}: ")
        url = urls.record(relation.target) if relation.target else relation.uri
        label = relation.as_printed or relation.target or relation.uri or ""
        if url:
            _el(p, "ref", label, href=url)
        else:
            p.text += label
        if relation.note:
            _el(p, "lb").tail = xml_text(relation.note)


def item_component(record: Record, urls: Urls) -> etree._Element:
    """The record as one `<c level="item">`."""
    c = etree.Element(_ead("c"), level="item", id=f"item-{record.id}")
    _item_did(c, record, urls)
    parts = record.parts or []
    summary = [record.description.summary or ""]
    if parts:
        summary.append("Compound item: " + "; ".join(
            f"{n}. {part.title} ({part.document_type})" for n, part in enumerate(parts, 1)) + ".")
    _blocks(c, "scopecontent", summary)
    _controlaccess(c, record)
    _blocks(c, "accessrestrict", _access(record))
    _userestrict(c, record)
    _bibliography(c, record)
    _relatedmaterial(c, record, urls)
    return c


# -- the document --------------------------------------------------------------------------------

def _control(root: etree._Element, recordid: str, instance_url: str, title: str, records: list[Record]) -> None:
    agency = _agency()
    control = _el(root, "control", langencoding="iso639-2b")
    _el(control, "recordid", recordid, instanceurl=instance_url)
    filedesc = _el(control, "filedesc")
    _el(_el(filedesc, "titlestmt"), "titleproper", title)
    _el(_el(filedesc, "publicationstmt"), "publisher", agency)
    _el(control, "maintenancestatus", value="derived")
    _el(_el(control, "maintenanceagency"), "agencyname", agency)
    event = _el(_el(control, "maintenancehistory"), "maintenanceevent")
    _el(event, "eventtype", value="derived")
    modified = max(r.cataloging.modified for r in records).astimezone(dt.UTC)
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%SZ")
    _el(event, "eventdatetime", stamp, standarddatetime=stamp)
    _el(event, "agenttype", value="machine")
    _el(event, "agent", f"{agency} catalog software")
    _el(event, "eventdescription", "Derived from the catalog's item records; dated by the latest change to them.")


def _collection_did(archdesc: etree._Element, name: str, records: list[Record], urls: Urls,
                    dated: bool) -> None:
    did = _el(archdesc, "did")
    _el(did, "unittitle", name)
    if dated:
        first, last = records[0].date.date.year, records[-1].date.date.year
        _el(did, "unitdate", str(first) if first == last else f"{first}–{last}", unitdatetype="inclusive",
            normal=str(first) if first == last else f"{first}/{last}")
        _el(did, "physdesc", f"{len(records)} item{'s' if len(records) != 1 else ''}")
    repositories = dict.fromkeys(r.provenance.repository.name for r in records)
    repository = _el(did, "repository")
    for holder in repositories:
        _el(_el(repository, "corpname"), "part", holder)
    slug = slugify(name)
    _el(did, "dao", daotype="derived", href=urls.iiif_collection(slug), localtype="iiif-collection",
        linktitle="IIIF collection", linkrole="application/ld+json")
    _el(did, "dao", daotype="otherdaotype", otherdaotype="catalog collection page", href=urls.collection(slug),
        localtype="collection-page", linktitle="Collection in the catalog", linkrole="text/html")


def _ead_root(recordid: str, instance_url: str, title: str, name: str, records: list[Record], urls: Urls,
              dated: bool) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(_ead("ead"), nsmap={None: EAD_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{EAD_NS} {EAD_SCHEMA}")
    _control(root, recordid, instance_url, title, records)
    archdesc = _el(root, "archdesc", level="collection")
    _collection_did(archdesc, name, records, urls, dated)
    return root, _el(archdesc, "dsc")


def finding_aid(name: str, records: list[Record], urls: Urls) -> etree._Element:
    """The finding aid of the collection `name`: its records (public ones only, at least one) in date order."""
    records = sorted(records, key=lambda r: (r.date.date, r.id))
    slug = slugify(name)
    root, dsc = _ead_root(slug, urls.finding_aid(slug), f"Finding aid: {name}", name, records, urls, dated=True)
    for record in records:
        dsc.append(item_component(record, urls))
    return root


def item_document(record: Record, urls: Urls) -> etree._Element:
    """One record in EAD3 for OAI-PMH: its collection's description holding only this item's `<c>`."""
    name = record.provenance.collection.name
    root, dsc = _ead_root(record.id, urls.oai_record(record.id, "ead"), f"{name}: {record.title}", name,
                          [record], urls, dated=False)
    dsc.append(item_component(record, urls))
    return root


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
