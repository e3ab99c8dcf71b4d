"""Person pages: what the catalog holds by, to or about one person, with the offices they held and
their authority records; and the index of correspondents.

A person is a normalized name, addressed by its slug (`facts.person_slug`). The index says which
public records name the words of the slug (`records_naming`: restricted records never come back);
`catalog.facts` says how each of them names the person (`appearances`, `authority_links`), so a
record counts under a person here exactly when its own page names them. Nothing is looked up
elsewhere: authority identifiers are cataloged in the records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import Blueprint
from flask import Response
from flask import redirect
from flask import render_template
from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import NotFound

from catalog import facts
from catalog.facts import CREATOR
from catalog.facts import MENTIONED
from catalog.facts import RECIPIENT
from catalog.http import get_index
from catalog.http import json_response
from catalog.http import urls
from catalog.index import search
from catalog.index.api import CatalogIndex
from catalog.model import AuthorityLink
from catalog.model import DocumentDate
from catalog.pages.record import script_json
from catalog.urls import Urls

blueprint = Blueprint("people", __name__)

RECORDS_LIMIT = 2000
"""Most records a person page reads; past it the page says so and links the catalog's filters."""
MAX_SLUG = 300
SIDES = {CREATOR: "Sent or written", RECIPIENT: "Received", MENTIONED: "Mentioned in"}


@dataclass(frozen=True)
class Entry:
    """One public record that names the person, and how."""

    record_id: str
    title: str
    date: DocumentDate
    appearances: tuple[facts.Appearance, ...]
    authority: tuple[AuthorityLink, ...]


def entries(index: CatalogIndex, slug: str) -> tuple[list[Entry], bool]:
    """The public records naming the person, in date order, and whether there were more to read;
    remembered until the index changes."""
    def gather() -> tuple[list[Entry], bool]:
        candidates = index.records_naming(tuple(slug.split("-")), RECORDS_LIMIT + 1)
        found = []
        for record in candidates[:RECORDS_LIMIT]:
            named = facts.appearances(record, slug)
            if named:
                found.append(Entry(record.id, record.title, record.date, tuple(named),
                                   tuple(facts.authority_links(record, slug))))
        return found, len(candidates) > RECORDS_LIMIT
    return index.cache.get(("person", slug), gather)


def month(entry: Entry) -> str:
    return entry.date.date.isoformat()[:7]


def offices_held(found: list[Entry]) -> list[dict]:
    """Each office the records give the person, with the first and last month of the documents that
    give it: 'Ambassador in the Soviet Union, 1943-11 – 1946-01'; earliest first."""
    spans: dict[str, list[str]] = {}
    for entry in found:
        for named in entry.appearances:
            if named.office:
                spans.setdefault(named.office, []).append(month(entry))
    out = []
    for office, months in spans.items():
        first, last = min(months), max(months)
        period = first if first == last else f"{first} – {last}"
        out.append({"office": office, "from": first, "to": last, "documents": len(set(months)),
                    "display": f"{office}, {period}"})
    return sorted(out, key=lambda held: (held["from"], held["to"], held["office"]))


def authority(found: list[Entry]) -> list[dict]:
    """Every authority record the documents give for the person, each URI once, labelled by scheme."""
    links: dict[str, AuthorityLink] = {}
    for entry in found:
        for link in entry.authority:
            links.setdefault(link.uri, link)
    return [{"scheme": link.scheme, "label": facts.AUTHORITY_LABELS[link.scheme], "uri": link.uri}
            for link in links.values()]


def document(entry: Entry, side: str, where: Urls) -> dict:
    named = [a for a in entry.appearances if a.side == side]
    return {"id": entry.record_id, "title": entry.title, "date": entry.date.date.isoformat(),
            "date_display": facts.cited_date(entry.date), "url": where.record(entry.record_id),
            "roles": list(dict.fromkeys(a.role for a in named)),
            "office": next((a.office for a in named if a.office), None),
            "part": next((a.part for a in named if a.part), None)}


def person_data(slug: str, found: list[Entry], truncated: bool, where: Urls) -> dict:
    """The person page and its JSON twin."""
    names = Counter(a.name for entry in found for a in entry.appearances)
    name = names.most_common(1)[0][0]
    sides = {side: [document(e, side, where) for e in found if any(a.side == side for a in e.appearances)]
             for side in SIDES}
    links = {"self": where.person(slug), "json": where.person(slug, json=True), "people": where.people()}
    for side in (CREATOR, RECIPIENT):
        side_names = [n for n in names if any(a.name == n and a.side == side for e in found for a in e.appearances)]
        if side_names:
            links[f"browse_{side}"] = where.facet(side, side_names[0])
    return {
        "slug": slug,
        "name": name,
        "display": facts.display_name(name),
        "names": list(names),
        "total": len(found),
        "counts": {side: len(documents) for side, documents in sides.items()},
        "offices": offices_held(found),
        "authority": authority(found),
        "documents": [{"side": side, "heading": heading, "items": sides[side]} for side, heading in SIDES.items()
                      if sides[side]],
        "truncated": truncated,
        "links": links,
    }


def json_ld(data: dict, url: str) -> dict:
    """schema.org `Person`, with its authority records as `sameAs`."""
    out = {"@context": "https://schema.org", "@type": "Person", "@id": url, "url": url, "name": data["display"]}
    if data["offices"]:
        out["jobTitle"] = [held["office"] for held in data["offices"]]
    if data["authority"]:
        out["sameAs"] = [link["uri"] for link in data["authority"]]
    return out


def people_index(index: CatalogIndex, where: Urls) -> list[dict]:
    """Everyone who sent or received a public document, with their counts, by name: the creator and
    recipient facets, one entry per person page."""
    counts = index.facet_counts(search.Filters())
    found: dict[str, dict] = {}
    for side in (CREATOR, RECIPIENT):
        for name, number in counts.get(side, []):
            slug = facts.person_slug(name)
            if not slug:
                continue
            entry = found.setdefault(slug, {"name": name, "display": facts.display_name(name), "slug": slug,
                                            "url": where.person(slug), CREATOR: 0, RECIPIENT: 0})
            entry[side] += number
    return sorted(found.values(), key=lambda entry: (entry["name"].casefold(), entry["slug"]))


# -- views ------------------------------------------------------------------------------------

def wants_json() -> bool:
    fmt = request.args.get("format")
    if fmt not in (None, "html", "json"):
        raise BadRequest(f"Unknown format {fmt[:40]!r}. Allowed: html, json.")
    return request.path.endswith(".json") or fmt == "json"


def respond(template: str, data: dict, **html_only) -> Response:
    if wants_json():
        return json_response(data)
    return Response(render_template(template, data=data, **html_only), mimetype="text/html")


@blueprint.get("/people")
def people() -> Response:
    where = urls(absolute=wants_json())
    items = people_index(get_index(), where)
    data = {"total": len(items), "items": items, "links": {"self": where.people(), "json": where.people(json=True)}}
    return respond("pages/people.html", data)


blueprint.add_url_rule("/people.json", "people_json", people)


@blueprint.get("/people/<slug>")
def person(slug: str) -> Response:
    canonical = facts.person_slug(slug) if len(slug) <= MAX_SLUG else ""
    if not canonical:
        raise NotFound("There is no such person.")
    if canonical != slug:  # '/people/Harriman,-W.-Averell' → '/people/harriman-w-averell'
        return redirect(urls(absolute=False).person(canonical, json=request.path.endswith(".json")), 301)
    found, truncated = entries(get_index(), slug)
    if not found:
        raise NotFound("No public document names this person.")
    json_twin = wants_json()
    data = person_data(slug, found, truncated, urls(absolute=json_twin))
    if json_twin:
        return json_response(data)
    return respond("pages/person.html", data, json_ld=script_json(json_ld(data, urls().person(slug))))


@blueprint.get("/people/<slug>.json")
def person_json(slug: str) -> Response:
    return person(slug)
