"""What a record page shows, as plain data: the document's history, people, parts, notes, JSON-LD.

Pure functions of a record (and the links the caller computed), so the HTML page and its JSON twin
give the same facts and the layout stays in the template. The history follows the document's life:
created and sent, received, filed, classified, declassified, held, published.
"""

from __future__ import annotations

import json

from markupsafe import Markup

from catalog import facts
from catalog.facts import cited_date
from catalog.facts import display_name
from catalog.model import DocumentDate
from catalog.model import Marking
from catalog.model import Place
from catalog.model import Record
from catalog.model import Transmission

CREATION_DATES = ("written", "dated", "sent", "meeting")
CREATION_PLACES = ("written at", "sent from", "meeting place")
RECEIPT_PLACES = ("received at", "sent to")


def unquoted(text: str) -> str:
    """Text safe inside a "quoted phrase" of a search link (a stray quotation mark would unbalance it)."""
    return text.replace('"', " ")


def fact(label: str, value: str, note: str | None = None, url: str | None = None) -> dict:
    return {"label": label, "value": value, "note": note, "url": url}


def date_fact(date: DocumentDate) -> dict:
    value = cited_date(date)
    if date.time:
        value += f", {date.time}" + (f" {date.timezone}" if date.timezone else "")
    if date.as_printed:
        value += f" (printed “{date.as_printed}”)"
    return fact(date.type.capitalize(), value, date.note)


def agent_fact(person: facts.Person, links) -> dict:
    agent = person.agent
    value = person.display
    if agent.office:
        value += f", {agent.office}"
    if agent.as_printed:
        value += f" (printed “{agent.as_printed}”)"
    extras = ["signature supplied by the editors" if agent.signature_supplied else "",
              f"initials “{agent.initials}”" if agent.initials else "",
              f"routed as “{agent.routed_as}”" if agent.routed_as else ""]
    note = "; ".join(x for x in [*extras, agent.note or ""] if x) or None
    return fact(agent.role.capitalize(), value, note, links.facet(person.facet, agent.name))


def place_fact(place: Place, links) -> dict:
    value = place.name + (f" (printed “{place.as_printed}”)" if place.as_printed else "")
    return fact(place.role.capitalize(), value, place.note, links.facet("place", place.name))


def transmission_facts(transmission: Transmission | None) -> list[dict]:
    if transmission is None:
        return []
    named = [("Channel", transmission.channel), ("Route", transmission.route),
             ("Transmitted by", transmission.transmitted_by),
             ("Sections", str(transmission.sections) if transmission.sections else None),
             ("Telegram number", transmission.telegram_number),
             ("Date-time group", transmission.date_time_group), ("Message form", transmission.form)]
    out = [fact(label, value) for label, value in named if value]
    if transmission.note:
        if out:
            out[-1]["note"] = transmission.note
        else:
            out.append(fact("Transmission", transmission.note))
    return out


def marking_facts(markings: list[Marking], kinds: tuple[str, ...]) -> list[dict]:
    return [fact(f"Marked ({m.kind})", f"“{m.text}”" + (f" ({facts.locator_text(m.located_at)})" if m.located_at else ""))
            for m in markings if m.kind in kinds]


def declassification_facts(actions: list[facts.Declassified]) -> list[dict]:
    out = []
    for found in actions:
        action = found.action
        value = "; ".join(found.details(long_dates=True)) or "Declassified (authority not recorded)"
        where = facts.locator_text(action.located_at)
        note = " ".join(p for p in (f"Stamp: “{action.as_printed}”." if action.as_printed else None,
                                    f"On {where}." if where else None, action.note) if p)
        out.append(fact("Declassified under" if action.authority else "Declassified", value, note or None))
    return out


def classification_facts(classification, links) -> list[dict]:
    if classification is None:
        return []
    out = [fact("Original classification", facts.classification_label(classification),
                url=links.facet("classification", classification.level))]
    if classification.as_marked:
        out.append(fact("Marked", ", ".join(f"“{m}”" for m in classification.as_marked)))
    return out


def history(record: Record, links) -> list[dict]:
    """The provenance panel: stages of the document's life, each a list of facts (empty ones left out)."""
    prov = record.provenance
    created = [date_fact(d) for d in record.dates if d.type in CREATION_DATES]
    created += [agent_fact(p, links) for p in facts.agents_by_side(record.creators, facts.CREATOR)]
    created += [place_fact(p, links) for p in record.places if p.role in CREATION_PLACES]
    created += transmission_facts(prov.transmission)
    for leg, relay in enumerate(prov.relays, 2):
        created += [dict(f, label=f"{f['label']} (leg {leg})") for f in transmission_facts(relay)]
    created += marking_facts(prov.markings, ("precedence", "routing", "paraphrase"))
    if prov.paraphrase:
        created.append(fact("Text", "A paraphrase, not the text as sent"))
    received = [date_fact(d) for d in record.dates if d.type == "received"]
    received += [agent_fact(p, links) for p in facts.agents_by_side(record.recipients, facts.RECIPIENT)]
    received += [place_fact(p, links) for p in record.places if p.role in RECEIPT_PLACES]
    filed = [date_fact(d) for d in record.dates if d.type in ("filed", "stamped")]
    for number in facts.file_numbers(record):
        filed.append(fact("File number", number, "A Department of State decimal file number.",
                          links.search(f'file:"{unquoted(number)}"')))
    if prov.collection.box or prov.collection.folder:
        filed.append(fact("Box and folder", ", ".join(x for x in (prov.collection.box and f"box {prov.collection.box}",
                                                                  prov.collection.folder and f"folder {prov.collection.folder}")
                                                     if x)))
    if prov.collection.file:
        filed.append(fact("File unit", prov.collection.file))
    classified = classification_facts(prov.classification, links)
    classified += marking_facts(prov.markings, ("handling", "stamp", "other"))
    held = [fact("Repository", prov.repository.name, prov.repository.note, links.facet("repository", prov.repository.name))]
    if prov.repository.division:
        held.append(fact("Division", prov.repository.division))
    if prov.repository.location:
        held.append(fact("Location", prov.repository.location))
    held.append(fact("Collection", prov.collection.name, url=links.collection))
    if prov.collection.series:
        held.append(fact("Series", prov.collection.series))
    held.append(fact("Access", record.access.status.capitalize(), record.access.reason))
    published = []
    for edition in prov.editions:
        details = [edition.publisher, str(edition.year) if edition.year else None,
                   f"edited by {facts.editors_text(edition)}" if edition.editors else None,
                   f"document {edition.document_number}" if edition.document_number else None,
                   f"record {edition.record_id}" if edition.record_id else None,
                   f"pp. {edition.pages}" if edition.pages else None]
        note = f"Source note: “{edition.source_note}”" if edition.source_note else None
        published.append(fact(edition.title, "; ".join(d for d in details if d), note, edition.url))
    stages = [("created", "Created and sent", created), ("received", "Received", received), ("filed", "Filed", filed),
              ("classified", "Classified", classified),
              ("declassified", "Declassified",
               declassification_facts([d for d in facts.declassifications(record) if d.part is None])),
              ("held", "Held", held), ("published", "Published", published)]
    return [{"stage": key, "heading": heading, "facts": facts} for key, heading, facts in stages if facts]


def part_facts(record: Record, index: int, links) -> list[dict]:
    """What part `index` (1-based) of a compound item says about itself."""
    part = (record.parts or [])[index - 1]
    out = [fact("Type", part.document_type)]
    out += [date_fact(d) for d in part.dates]
    out += [agent_fact(p, links) for p in [*facts.agents_by_side(part.creators, facts.CREATOR, index),
                                           *facts.agents_by_side(part.recipients, facts.RECIPIENT, index)]]
    out += [place_fact(p, links) for p in part.places]
    out += classification_facts(part.classification, links)
    out += marking_facts(part.markings, ("precedence", "handling", "paraphrase", "routing", "stamp", "other"))
    out += transmission_facts(part.transmission)
    out += declassification_facts([d for d in facts.declassifications(record) if d.part == index])
    return out


def people(record: Record, links) -> list[dict]:
    """Everyone the record names, once each, with their roles and a link to browse by them."""
    found: dict[str, dict] = {}

    def add(name: str, role: str, facet: str | None, detail: str | None = None):
        entry = found.setdefault(name, {"name": name, "display": display_name(name), "roles": [], "details": [],
                                        "url": None})
        if role not in entry["roles"]:
            entry["roles"].append(role)
        if detail and detail not in entry["details"]:
            entry["details"].append(detail)
        if facet and entry["url"] is None:
            entry["url"] = links.facet(facet, name)

    for person in [*facts.creators(record), *facts.recipients(record)]:
        add(person.name, person.agent.role, person.facet, person.agent.office)
    for person in record.persons_mentioned:
        add(person.name, "mentioned", None, person.note)
    for entry in found.values():
        if entry["url"] is None:
            entry["url"] = links.search(f'person:"{unquoted(entry["name"].split(",")[0])}"')
        slug = facts.person_slug(entry["name"])
        entry["person_url"] = links.person(slug) if slug else None
        entry["authority"] = [{"scheme": link.scheme, "label": facts.AUTHORITY_LABELS[link.scheme], "uri": link.uri}
                              for link in facts.authority_links(record, slug)] if slug else []
    return list(found.values())


def places(record: Record, links) -> list[dict]:
    """Every place the item and its parts name, with a link to browse by it."""
    return [{"name": found.place.name, "role": found.place.role, "as_printed": found.place.as_printed,
             "part": found.part, "url": links.facet("place", found.place.name)} for found in facts.places(record)]


def relations(record: Record, where) -> list[dict]:
    """Related documents as links: to the catalog's own record, else to the document elsewhere."""
    out = []
    for relation in facts.relations(record):
        url = where.record(relation.target) if relation.target else relation.uri
        label = relation.as_printed or relation.target or relation.uri
        out.append({"type": relation.type, "label": label, "url": url, "target": relation.target,
                    "note": relation.note})
    return out


# -- schema.org JSON-LD ----------------------------------------------------------------------------

def json_ld(record: Record, url: str, collection_url: str, manifest_url: str | None) -> dict:
    """schema.org `ArchiveComponent` for search engines and linked-data clients."""
    prov = record.provenance

    def person(name: str, office: str | None = None) -> dict:
        out = {"@type": "Person", "name": display_name(name)}
        if office:
            out["jobTitle"] = office
        same_as = [link.uri for link in facts.authority_links(record, facts.person_slug(name))]
        if same_as:
            out["sameAs"] = same_as
        return out

    data: dict = {
        "@context": "https://schema.org",
        "@type": "ArchiveComponent",
        "@id": url,
        "url": url,
        "name": record.title,
        "identifier": [record.id, *([prov.file_number] if prov.file_number else [])],
        "dateCreated": record.date.date.isoformat(),
        "inLanguage": record.language,
        "genre": record.document_type,
        "creator": [person(p.name, p.agent.office) for p in facts.creators(record)],
        "recipient": [person(p.name, p.agent.office) for p in facts.recipients(record)],
        "mentions": [person(p.name) for p in record.persons_mentioned],
        "about": [{"@type": "Thing", "name": s} for s in record.description.subjects],
        "spatialCoverage": [{"@type": "Place", "name": name} for name in facts.place_names(record)],
        "holdingArchive": {"@type": "ArchiveOrganization", "name": prov.repository.name},
        "isPartOf": {"@type": "Collection", "name": prov.collection.name, "url": collection_url},
        "copyrightNotice": record.rights.statement,
    }
    if record.description.summary:
        data["description"] = record.description.summary
    if record.rights.uri:
        data["license"] = record.rights.uri
    editions = [e for e in prov.editions if e.url]
    if editions:
        data["sameAs"] = [e.url for e in editions]
    if record.parts:
        data["hasPart"] = [{"@type": "ArchiveComponent", "name": p.title, "genre": p.document_type}
                           for p in record.parts]
    if manifest_url:
        data["subjectOf"] = {"@type": "CreativeWork", "url": manifest_url,
                             "encodingFormat": "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\""}
    return {key: value for key, value in data.items() if value not in ([], None)}


def script_json(data) -> Markup:
    """JSON for a <script> block: `<`, `>`, `&` and line separators escaped, so no field can end it."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                       ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return Markup(text)
