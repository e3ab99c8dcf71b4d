"""EAD3: a finding aid per archival collection at /collections/<slug>.ead.xml, and the `ead` OAI-PMH format.

Every document is checked against the official EAD3 schema (../shared/formats/ead3.xsd) and every OAI
response against the OAI-PMH envelope schemas with EAD3 loaded for `<metadata>`; without ../shared the
behaviour is still checked and only the schema checks are left out.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from lxml import etree
from sickle import Sickle

from catalog.model import Record
from catalog.model import slugify
from catalog.oai.ead import EAD_NS
from catalog.oai.ead import item_document
from catalog.oai.ead import to_bytes
from catalog.urls import Urls
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import LiveServer
from tests.conftest import conformance_not_checked
from tests.conftest import shared_artifact
from tests.conftest import synthetic_folder
from tests.conftest import write_record

NS = {"e": EAD_NS, "o": "http://www.openarchives.org/OAI/2.0/"}
EAD_XSD = ("formats", "ead3.xsd")
OAI_XSD = ("oai", "oai-pmh-all.xsd")
HULL = "hull-memorandum-1943-10-30"
RESTRICTED_PHRASE = "Quintessential marmalade protocol"
BASE = "https://catalog.example.org"


# -- schemas ------------------------------------------------------------------------------------

_PARSER = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


@cache
def _ead_schema() -> etree.XMLSchema | None:
    path = shared_artifact(*EAD_XSD)
    return None if path is None else etree.XMLSchema(etree.parse(str(path), _PARSER))


@cache
def _oai_ead_schema() -> etree.XMLSchema | None:
    """The OAI-PMH envelope schemas (../shared/oai's driver) with EAD3 loaded for `<metadata>`, built in
    memory from the files where they are: nothing is copied, nothing fetched."""
    oai, ead = shared_artifact(*OAI_XSD), shared_artifact(*EAD_XSD)
    if oai is None or ead is None:
        return None
    driver = (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
              f'<xs:include schemaLocation="{oai.resolve().as_uri()}"/>'
              f'<xs:import namespace="{EAD_NS}" schemaLocation="{ead.resolve().as_uri()}"/></xs:schema>')
    return etree.XMLSchema(etree.fromstring(driver.encode(), _PARSER, base_url=oai.resolve().with_name("ead-driver.xsd").as_uri()))


def _errors(schema: etree.XMLSchema | None, xml: bytes, artifact: tuple[str, ...]) -> list[str]:
    if schema is None:
        conformance_not_checked(*artifact)
        return []
    if schema.validate(etree.fromstring(xml, _PARSER)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log][:5]


def ead_errors(xml: bytes) -> list[str]:
    """Schema errors of a standalone EAD3 document (none when valid)."""
    return _errors(_ead_schema(), xml, EAD_XSD)


def oai_ead_errors(xml: bytes) -> list[str]:
    """Schema errors of an OAI-PMH response whose metadata is EAD3 (none when valid)."""
    return _errors(_oai_ead_schema(), xml, OAI_XSD)


# -- the corpus ---------------------------------------------------------------------------------

def fixture(record_id: str) -> dict:
    return json.loads((FIXTURE_RECORDS / f"{record_id}.json").read_text(encoding="utf-8"))


def expected_members(folder: Path) -> dict[str, list[str]]:
    """Collection slug → its public record ids in date order (date, then id), from the record files."""
    found: dict[str, list[tuple[str, str]]] = {}
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["access"]["status"] == "open":
            slug = slugify(data["provenance"]["collection"]["name"])
            found.setdefault(slug, []).append((data["dates"][0]["date"], data["id"]))
    return {slug: [rid for _, rid in sorted(rows)] for slug, rows in found.items()}


def item_ids(root: etree._Element) -> list[str]:
    return [c.get("id").removeprefix("item-") for c in root.iterfind(".//e:dsc/e:c", NS)]


def get_finding_aid(client, slug: str) -> tuple[bytes, etree._Element]:
    response = client.get(f"/collections/{slug}.ead.xml")
    assert response.status_code == 200, slug
    assert response.mimetype == "application/xml"
    body = response.get_data()
    assert ead_errors(body) == [], slug
    return body, etree.fromstring(body)


def component(root: etree._Element, record_id: str) -> etree._Element:
    found = root.find(f".//e:c[@id='item-{record_id}']", NS)
    assert found is not None, record_id
    return found


# -- the finding aid ----------------------------------------------------------------------------

def test_each_fixture_collection_has_a_valid_finding_aid_with_its_public_items_in_date_order(read_client):
    expected = expected_members(FIXTURE_RECORDS)
    assert len(expected) >= 4 and max(len(ids) for ids in expected.values()) >= 2
    listed = {c["slug"] for c in read_client.get("/collections.json").get_json()["items"]}
    assert listed == set(expected)
    for slug, ids in expected.items():
        _, root = get_finding_aid(read_client, slug)
        assert item_ids(root) == ids, slug
        assert root.find("e:archdesc", NS).get("level") == "collection"
        assert all(c.get("level") == "item" for c in root.iterfind(".//e:dsc/e:c", NS))
        assert root.findtext("e:control/e:recordid", namespaces=NS) == slug
        assert root.find("e:control/e:recordid", NS).get("instanceurl").endswith(f"/collections/{slug}.ead.xml")
        for element in ("filedesc", "maintenancestatus", "maintenanceagency", "maintenancehistory"):
            assert root.find(f"e:control/e:{element}", NS) is not None, element


def test_items_follow_their_dates_not_their_file_order(read_client):
    _, root = get_finding_aid(read_client, "moscow-embassy-files")
    assert item_ids(root) == ["harriman-truman-1945-06-16", "addressed-telegram-1946-03-05"]
    dates = [c.find("e:did/e:unitdatestructured/e:datesingle", NS).get("standarddate")
             for c in root.iterfind(".//e:dsc/e:c", NS)]
    assert dates == sorted(dates) == ["1945-06-16", "1946-03-05"]
    assert root.findtext("e:archdesc/e:did/e:unitdate", namespaces=NS) == "1945–1946"


def test_the_restricted_record_never_appears_in_its_collections_finding_aid(read_client):
    assert fixture(RESTRICTED_ID)["provenance"]["collection"]["name"] == "Department of State Central Decimal File"
    body, root = get_finding_aid(read_client, "department-of-state-central-decimal-file")
    assert item_ids(root) == [HULL]
    text = body.decode("utf-8")
    for secret in (RESTRICTED_ID, RESTRICTED_PHRASE, "Stettinius", "740.0011 EW/1–0144"):
        assert secret not in text


def test_a_collection_with_only_restricted_members_is_not_found(client, records_dir):
    (records_dir / f"{HULL}.json").unlink()
    client.get("/")  # the index notices the removal
    response = client.get("/collections/department-of-state-central-decimal-file.ead.xml")
    assert response.status_code == 404
    assert RESTRICTED_ID not in response.get_data(as_text=True)
    assert client.get("/collections/no-such-collection.ead.xml").status_code == 404
    assert client.get("/collections/..%2Frecords.ead.xml").status_code == 404


def test_the_file_number_keeps_its_en_dash_and_the_date_its_certainty(read_client):
    body, root = get_finding_aid(read_client, "department-of-state-central-decimal-file")
    assert "740.0011 Moscow/10–3043".encode() in body
    did = component(root, HULL).find("e:did", NS)
    assert did.findtext("e:unitid[@localtype='file number']", namespaces=NS) == "740.0011 Moscow/10–3043"
    unitdate = did.find("e:unitdate", NS)
    assert (unitdate.text, unitdate.get("certainty"), unitdate.get("normal")) == (
        "[October 30, 1943]", "inferred", "1943-10-30")
    assert did.find("e:unitdatestructured", NS).get("certainty") == "inferred"
    assert did.find("e:unitdatestructured/e:datesingle", NS).get("standarddate") == "1943-10-30"


def test_an_item_carries_its_description_links_and_edition(read_client):
    _, root = get_finding_aid(read_client, "department-of-state-central-decimal-file")
    c = component(root, HULL)
    assert c.findtext("e:did/e:unittitle", namespaces=NS) == fixture(HULL)["title"]
    assert c.find("e:did/e:origination/e:persname", NS).get("relator") == "author"
    assert c.findtext("e:did/e:origination/e:persname/e:part", namespaces=NS) == "Hull, Cordell"
    assert c.findtext("e:did/e:physdesc", namespaces=NS) == "memorandum of conversation; 3 pages"
    language = c.find("e:did/e:langmaterial/e:language", NS)
    assert (language.get("langcode"), language.text) == ("eng", "English")
    assert root.find("e:control", NS).get("langencoding") == "iso639-2b"
    daos = {dao.get("localtype"): dao.get("href") for dao in c.iterfind("e:did/e:dao", NS)}
    assert daos["iiif-manifest"].endswith(f"/iiif/{HULL}/manifest")
    assert daos["record-page"].endswith(f"/records/{HULL}")
    assert c.findtext("e:scopecontent/e:p", namespaces=NS).startswith("Hull records his conversation with Stalin")
    names = [p.text for p in c.iterfind("e:controlaccess/e:persname/e:part", NS)]
    assert names[:2] == ["Hull, Cordell", "Stalin, Joseph"]
    assert "Moscow Conference (1943)" in [p.text for p in c.iterfind("e:controlaccess/e:subject/e:part", NS)]
    assert "Moscow" in [p.text for p in c.iterfind("e:controlaccess/e:geogname/e:part", NS)]
    access = [p.text for p in c.iterfind("e:accessrestrict/e:p", NS)]
    assert access == ["Open for research.", "Original classification: none marked.",
                      "The edition prints no declassification action."]
    assert c.findtext("e:userestrict/e:p", namespaces=NS).startswith("Foreign Relations of the United States is")
    bibref = c.find("e:bibliography/e:bibref", NS)
    assert "frus1943v01" in bibref.text and "pp. 685–687" in bibref.text
    assert bibref.find("e:ref", NS).get("href") == "https://history.state.gov/historicaldocuments/frus1943v01/d620"


def test_a_compound_item_lists_its_parts_and_declassification(read_client):
    _, root = get_finding_aid(read_client, "truman-papers")
    c = component(root, "stalin-truman-1946-04-06")
    assert any(p.text.startswith("Compound item: 1.") for p in c.iterfind("e:scopecontent/e:p", NS))
    assert any(p.text.startswith("Declassified") and "E.O. 11652" in p.text
               for p in c.iterfind("e:accessrestrict/e:p", NS))
    assert c.findtext("e:did/e:physloc", namespaces=NS) == "President's Secretary's Files"


def test_agents_carry_their_authority_links(client, records_dir):
    data = fixture(HULL)
    data["creators"][0]["authority"] = [{"scheme": "lcnaf", "uri": "http://id.loc.gov/authorities/names/n80014475"},
                                        {"scheme": "viaf", "uri": "http://viaf.org/viaf/49278036"}]
    data["persons_mentioned"][0]["authority"] = [{"scheme": "wikidata", "uri": "http://www.wikidata.org/entity/Q855"}]
    write_record(records_dir, data)
    _, root = get_finding_aid(client, "department-of-state-central-decimal-file")
    c = component(root, HULL)
    creator = c.find("e:did/e:origination/e:persname", NS)
    assert (creator.get("identifier"), creator.get("source")) == (
        "http://id.loc.gov/authorities/names/n80014475", "lcnaf")
    stalin = c.find("e:controlaccess/e:persname[@relator='mentioned']", NS)
    assert (stalin.findtext("e:part", namespaces=NS), stalin.get("identifier"), stalin.get("source")) == (
        "Stalin, Joseph", "http://www.wikidata.org/entity/Q855", "wikidata")


def test_generated_collections_validate_and_list_exactly_their_public_records(make_app, tmp_path, synthetic):
    folder = synthetic_folder(tmp_path / "generated", 120)
    expected = expected_members(folder)
    assert sum(len(ids) for ids in expected.values()) < 120  # some generated records are restricted
    restricted = [synthetic(n)["id"] for n in range(120) if synthetic(n)["access"]["status"] != "open"]
    assert restricted
    client = make_app(folder).test_client()
    for slug, ids in expected.items():
        body, root = get_finding_aid(client, slug)
        assert item_ids(root) == ids, slug
        assert not any(rid.encode() in body for rid in restricted)


def test_a_record_change_shows_in_the_finding_aid(client, records_dir):
    _, before = get_finding_aid(client, "moscow-embassy-files")
    data = fixture("addressed-telegram-1946-03-05")
    data["dates"][0]["date"] = "1945-01-02"
    write_record(records_dir, data)
    client.get("/")
    _, after = get_finding_aid(client, "moscow-embassy-files")
    assert item_ids(before) == ["harriman-truman-1945-06-16", "addressed-telegram-1946-03-05"]
    assert item_ids(after) == ["addressed-telegram-1946-03-05", "harriman-truman-1945-06-16"]


def test_text_is_escaped(client, records_dir):
    data = fixture(HULL)
    data["title"] = "Memo <script>alert(1)</script> & “quotes”"
    write_record(records_dir, data)
    body, root = get_finding_aid(client, "department-of-state-central-decimal-file")
    assert b"<script>" not in body
    assert component(root, HULL).findtext("e:did/e:unittitle", namespaces=NS) == data["title"]


def test_the_oai_document_of_every_record_validates_on_its_own(synthetic):
    records = [Record.model_validate_json(p.read_text(encoding="utf-8")) for p in sorted(FIXTURE_RECORDS.glob("*.json"))]
    records += [Record.model_validate_json(json.dumps(synthetic(n))) for n in range(60)]
    for record in records:
        xml = to_bytes(item_document(record, Urls(BASE)))
        assert ead_errors(xml) == [], record.id
        root = etree.fromstring(xml)
        assert item_ids(root) == [record.id]
        assert root.findtext("e:archdesc/e:did/e:unittitle", namespaces=NS) == record.provenance.collection.name


# -- OAI-PMH ------------------------------------------------------------------------------------

def oai(client, **params) -> etree._Element:
    response = client.get("/oai", query_string=params)
    assert response.status_code == 200
    body = response.get_data()
    assert oai_ead_errors(body) == [], params
    root = etree.fromstring(body)
    assert root.find("o:error", NS) is None, etree.tostring(root.find("o:error", NS))
    return root


def test_list_metadata_formats_offers_ead(read_client):
    root = oai(read_client, verb="ListMetadataFormats")
    formats = {f.findtext("o:metadataPrefix", namespaces=NS): f for f in root.iterfind(".//o:metadataFormat", NS)}
    assert formats["ead"].findtext("o:metadataNamespace", namespaces=NS) == EAD_NS
    assert formats["ead"].findtext("o:schema", namespaces=NS).endswith("ead3.xsd")


def test_get_record_in_ead_describes_the_collection_holding_the_one_item(read_client):
    root = oai(read_client, verb="GetRecord", metadataPrefix="ead", identifier=f"oai:catalog.example.org:{HULL}")
    ead = root.find(".//o:metadata/e:ead", NS)
    assert ead is not None
    assert ead.find("e:archdesc", NS).get("level") == "collection"
    assert ead.findtext("e:archdesc/e:did/e:unittitle", namespaces=NS) == "Department of State Central Decimal File"
    assert item_ids(ead) == [HULL]
    assert ead.findtext(".//e:unitid[@localtype='file number']", namespaces=NS) == "740.0011 Moscow/10–3043"


def test_the_restricted_record_is_not_disseminated_in_ead(read_client):
    response = read_client.get("/oai", query_string={"verb": "GetRecord", "metadataPrefix": "ead",
                                                     "identifier": f"oai:catalog.example.org:{RESTRICTED_ID}"})
    root = etree.fromstring(response.get_data())
    assert root.find("o:error", NS).get("code") == "idDoesNotExist"
    assert RESTRICTED_PHRASE not in response.get_data(as_text=True)


def test_list_records_in_ead_holds_every_public_record_once(read_client):
    root = oai(read_client, verb="ListRecords", metadataPrefix="ead")
    ids = [h.text.rsplit(":", 1)[1] for h in root.iterfind(".//o:record/o:header/o:identifier", NS)]
    assert sorted(ids) == PUBLIC_IDS
    for record in root.iterfind(".//o:record", NS):
        rid = record.findtext("o:header/o:identifier", namespaces=NS).rsplit(":", 1)[1]
        assert item_ids(record.find("o:metadata/e:ead", NS)) == [rid]


@pytest.mark.slow
def test_sickle_harvests_every_record_in_ead_from_a_real_server(tmp_path, synthetic):
    folder = synthetic_folder(tmp_path / "records", 150)
    expected = {synthetic(n)["id"] for n in range(150) if synthetic(n)["access"]["status"] == "open"}
    server = LiveServer(folder, tmp_path / "instance", CATALOG_OAI_PAGE_SIZE="40",
                        CATALOG_OAI_REPOSITORY_IDENTIFIER="harvest.example.org")
    try:
        responses = []

        class Checked(Sickle):
            def harvest(self, **kwargs):
                response = super().harvest(**kwargs)
                assert response.http_response.status_code == 200
                assert oai_ead_errors(response.http_response.content) == [], kwargs
                responses.append(response)
                return response

        sickle = Checked(f"{server.url}/oai", max_retries=0, timeout=60)
        harvested = {}
        for record in sickle.ListRecords(metadataPrefix="ead"):
            rid = record.header.identifier.rsplit(":", 1)[1]
            assert rid not in harvested
            harvested[rid] = item_ids(record.xml.find(".//e:ead", NS))
        assert set(harvested) == expected
        assert all(ids == [rid] for rid, ids in harvested.items())
        assert len(responses) == -(-len(expected) // 40)
    finally:
        server.stop()
