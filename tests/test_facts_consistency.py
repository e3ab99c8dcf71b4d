"""Every surface tells the same story about a record: the people, places, date and classification shown
by the record page's JSON twin, its JSON-LD, CSL-JSON, the IIIF manifest, OAI-PMH Dublin Core and the
browse facets agree for any accepted record, compound items and odd roles included, because they
all read `catalog.facts`."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from bench.generate import synthetic_record
from catalog import create_app
from catalog import facts
from catalog.model import Record
from tests.conftest import write_record

ROLES = ["author", "sender", "signer", "transmitter", "recipient", "addressee", "copy"]
NAMES = st.one_of(
    st.sampled_from(["Stalin, Joseph", "Smith, Walter Bedell", "Truman, Harry S.", "United States. Department of State",
                     "Molotov, V. M.", "O'Brien, Seán", "<b>Bold</b>, Jane", "Ζαχαρίου, Ελένη"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=25).map(str.strip),
)
PLACES = st.sampled_from(["Moscow", "Washington, D.C.", "Tehran", "Fulton (Mo.)", "Baku (Azerbaijan)", "Yalta"])
PLACE_ROLES = st.sampled_from(["sent from", "sent to", "received at", "written at", "meeting place", "mentioned"])
DC = "{http://purl.org/dc/elements/1.1/}"
probe_writes: list = []


def agents(draw, count: int) -> list[dict]:
    return [{"name": draw(NAMES), "role": draw(st.sampled_from(ROLES))} for _ in range(count)]


def places(draw, count: int) -> list[dict]:
    return [{"name": draw(PLACES), "role": draw(PLACE_ROLES)} for _ in range(count)]


@st.composite
def records(draw) -> dict:
    """A synthetic record with drawn people, places and, often, parts that name people of their own."""
    record = synthetic_record(draw(st.integers(0, 5000)))
    record["id"] = "consistency-probe"
    record["access"] = {"status": "open"}
    record["creators"] = agents(draw, draw(st.integers(0, 2)))
    record["recipients"] = agents(draw, draw(st.integers(0, 2)))
    record["places"] = places(draw, draw(st.integers(0, 2)))
    if draw(st.booleans()):
        pages = record.pop("pages", None) or [p for part in record.pop("parts") for p in part["pages"]]
        record["parts"] = [{"title": f"Part {n}", "document_type": draw(st.sampled_from(["telegram", "letter", "note"])),
                            "creators": agents(draw, draw(st.integers(0, 2))),
                            "recipients": agents(draw, draw(st.integers(0, 2))),
                            "places": places(draw, draw(st.integers(0, 2))),
                            "pages": [pages[0]]} for n in (1, 2)]
        record["footnotes"] = []
        record["corrections"] = []
    return record


def accepted(data: dict) -> Record:
    try:
        record = Record.model_validate_json(json.dumps(data))
    except ValidationError:
        assume(False)
        raise
    names = facts.creator_names(record) + facts.recipient_names(record)
    assume(all(name and name == name.strip() for name in names))  # DC trims whitespace; such names are not probes
    return record


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """An app over a folder holding one record at a time, refreshed on every request."""
    folder = tmp_path_factory.mktemp("consistency") / "records"
    folder.mkdir()
    app = create_app({"TESTING": True, "CATALOG_RECORDS_DIR": str(folder),
                      "CATALOG_INSTANCE_DIR": str(folder.parent / "instance"), "CATALOG_REFRESH_INTERVAL": 0})
    return folder, app.test_client()


def json_ld(html: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    return json.loads(found.group(1))


def metadata(manifest: dict) -> dict[str, list[str]]:
    return {entry["label"]["en"][0]: entry["value"]["en"] for entry in manifest["metadata"]}


def dublin_core(xml: bytes) -> dict[str, list[str]]:
    root = etree.fromstring(xml)
    out: dict[str, list[str]] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(DC):
            out.setdefault(element.tag[len(DC):], []).append(element.text)
    return out


def without_office(values: list[str], people: list[facts.Person]) -> list[str]:
    """Dublin Core adds the office in parentheses; map each value back to its name."""
    by_value = {person.with_office(): person.name for person in people}
    return [by_value.get(value, value) for value in values]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=records())
def test_every_surface_names_the_same_people_places_date_and_classification(probe, data):
    folder, client = probe
    record = accepted(data)
    path = write_record(folder, data)
    probe_writes.append(path)  # a distinct mtime per example: same-size rewrites within one clock tick still count
    os.utime(path, ns=(len(probe_writes) * 10**9, len(probe_writes) * 10**9))
    creators, recipients = facts.creators(record), facts.recipients(record)
    creator_names, recipient_names = [p.name for p in creators], [p.name for p in recipients]
    place_names = facts.place_names(record)
    iso = facts.iso_date(record.date)
    level = record.provenance.classification.level

    twin = client.get(f"/records/{record.id}.json").get_json()
    assert twin["date"]["iso"] == record.date.date.isoformat()
    assert twin["classification"]["level"] == level
    shown = {p["name"] for p in twin["people"] if p["roles"] != ["mentioned"]}
    assert shown == set(creator_names) | set(recipient_names)
    assert [p["name"] for p in twin["places"]] == [located.place.name for located in facts.places(record)]

    ld = json_ld(client.get(f"/records/{record.id}").get_data(as_text=True))
    assert [p["name"] for p in ld.get("creator", [])] == [facts.display_name(n) for n in creator_names]
    assert [p["name"] for p in ld.get("recipient", [])] == [facts.display_name(n) for n in recipient_names]
    assert [p["name"] for p in ld.get("spatialCoverage", [])] == place_names
    assert ld["dateCreated"] == record.date.date.isoformat()

    csl = client.get(f"/records/{record.id}.csl.json").get_json()[0]
    assert csl.get("author", []) == [facts.split_name(n) for n in creator_names]
    assert csl.get("recipient", []) == [facts.split_name(n) for n in recipient_names]
    assert csl["issued"]["date-parts"][0] == [record.date.date.year, record.date.date.month, record.date.date.day]

    manifest = metadata(client.get(f"/iiif/{record.id}/manifest").get_json(force=True))
    for label, people in (("From", creators), ("To", recipients)):
        values = manifest.get(label, [])
        assert len(values) == len(people), label
        assert all(value.startswith(person.name) for value, person in zip(values, people, strict=True)), label
    assert manifest.get("Places", []) == place_names
    assert iso in manifest["Date"][0]
    assert manifest["Original classification"][0].startswith(facts.classification_label(record.provenance.classification))

    oai = client.get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:{record.id}")
    dc = dublin_core(oai.data)
    assert without_office(dc.get("creator", []), creators) == creator_names
    assert without_office(dc.get("contributor", []), recipients) == recipient_names
    assert dc["date"] == [iso]
    assert dc["coverage"] == [*place_names, facts.decade(record)]

    for facet, names in (("creator", creator_names), ("recipient", recipient_names), ("place", place_names)):
        for name in names:
            found = client.get(f"/index.json?{facet}={quote(name)}").get_json()
            assert [item["id"] for item in found["items"]] == [record.id], (facet, name)
    found = client.get(f"/index.json?classification={quote(level)}").get_json()
    assert [item["id"] for item in found["items"]] == [record.id]
