"""The Dublin Core mapping: what a harvester learns about a record, in the fifteen elements only."""

from __future__ import annotations

import json
from collections import defaultdict

from lxml import etree

from catalog.model import Record
from catalog.oai.dublin_core import DC_ELEMENTS
from catalog.oai.dublin_core import DC_NS
from catalog.oai.dublin_core import dc_bytes
from catalog.oai.dublin_core import dc_elements
from catalog.oai.xml import xml_text
from catalog.urls import Urls
from tests.conftest import FIXTURE_RECORDS
from tests.oai_schema import oai_errors

BASE = "https://catalog.example.org"


def seed(record_id: str) -> Record:
    """A record of the fixture corpus (the seeds' copies among them)."""
    return Record.model_validate_json((FIXTURE_RECORDS / f"{record_id}.json").read_text(encoding="utf-8"))


def as_record(data: dict) -> Record:
    return Record.model_validate_json(json.dumps(data))


def grouped(record: Record) -> dict[str, list[str]]:
    out = defaultdict(list)
    for element, value in dc_elements(record, Urls(BASE)):
        out[element].append(value)
    return out


def records(synthetic) -> list[Record]:
    found = [Record.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(FIXTURE_RECORDS.glob("*.json"))]
    return found + [as_record(synthetic(n)) for n in range(60)]


def test_every_record_renders_schema_valid_oai_dc_using_only_dublin_core(synthetic):
    for record in records(synthetic):
        xml = dc_bytes(record, Urls(BASE))
        assert oai_errors(xml) == [], record.id
        root = etree.fromstring(xml)
        assert {etree.QName(child).namespace for child in root} == {DC_NS}
        assert {etree.QName(child).localname for child in root} <= set(DC_ELEMENTS)
        assert [e for e, _ in dc_elements(record, Urls(BASE))] == sorted(
            (e for e, _ in dc_elements(record, Urls(BASE))), key=DC_ELEMENTS.index)


def test_a_memorandum_maps_to_each_element():
    dc = grouped(seed("hull-memorandum-1943-10-30"))
    assert dc["title"] == ["Memorandum of Conversation, by the Secretary of State"]
    assert dc["creator"] == ["Hull, Cordell (Secretary of State)"]
    assert dc["date"] == ["1943-10-30"]
    assert dc["type"] == ["Text", "memorandum of conversation"]
    assert dc["identifier"] == [f"{BASE}/records/hull-memorandum-1943-10-30",
                                f"{BASE}/iiif/hull-memorandum-1943-10-30/manifest"]
    assert dc["source"][0].startswith("740.0011 Moscow/10–3043, Department of State Central Decimal File")
    assert dc["source"][0].endswith("National Archives and Records Administration")
    assert dc["publisher"] == ["National Archives and Records Administration"]
    assert "Collection: Department of State Central Decimal File" in dc["relation"]
    assert "https://history.state.gov/historicaldocuments/frus1943v01/d620" in dc["relation"]
    assert any(r.startswith("Published in: Office of the Historian") for r in dc["relation"])
    assert {"Moscow", "1940s"} <= set(dc["coverage"])
    assert "Moscow Conference (1943)" in dc["subject"]
    assert dc["description"][0].startswith("Hull records his conversation with Stalin")
    assert "Original classification: none marked." in dc["description"]
    assert dc["language"] == ["eng"]  # ISO 639-2, as WorldCat and MARC expect
    assert dc["rights"][0].startswith("Foreign Relations of the United States is a work")


def test_a_compound_item_brings_in_its_parts_people_types_and_declassification():
    dc = grouped(seed("stalin-truman-1946-04-06"))
    assert dc["creator"] == ["Stalin, Joseph", "Smith, Walter Bedell (Ambassador)"]
    assert "Truman, Harry S." in dc["contributor"]
    assert dc["description"][1].startswith("Compound item: 1. ")
    assert any(d.startswith("Declassified: E.O. 11652") for d in dc["description"])
    assert dc["description"][2].startswith("Original classification: top secret (marked TOD SEGRET")


def test_recipients_are_contributors_with_their_office(synthetic):
    record = as_record(synthetic(3))
    dc = grouped(record)
    recipient = record.recipients[0]
    assert dc["contributor"] == [f"{recipient.name} ({recipient.office})"]


def test_forbidden_characters_are_removed_and_markup_is_text(synthetic):
    data = synthetic(5)
    data["title"] = "A\u0000B\u0008C\u001fD\ufffeE <b>&amp;</b> ]]>"
    data["description"]["subjects"] = ["\u0001\u0002"]  # nothing left: the element is omitted
    record = as_record(data)
    xml = dc_bytes(record, Urls(BASE))
    assert oai_errors(xml) == []
    root = etree.fromstring(xml)
    assert root.findtext(f"{{{DC_NS}}}title") == "ABCDE <b>&amp;</b> ]]>"
    assert root.find(f"{{{DC_NS}}}subject") is None
    assert b"<b>" not in xml
    assert xml_text("tab\tnewline\n\U0001f600") == "tab\tnewline\n\U0001f600"
