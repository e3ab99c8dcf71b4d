"""MODS 3.8, MARCXML and qualified Dublin Core: valid against the official schemas for every record,
offered over OAI-PMH and as downloads from the record page, and readable back with the key facts.

Schema checks use `xmlschema` on ../shared/formats (see tests/format_schemas.py); the round trips
read MARCXML with `pymarc` and MODS and qualified DC with lxml, as a harvester would.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pymarc
import pytest
from lxml import etree
from sickle import Sickle

from bench.generate import write_records
from catalog.languages import iso639_2b
from catalog.model import Record
from catalog.oai.dcterms import DCTERMS_NS
from catalog.oai.dcterms import OAI_DCTERMS_NS
from catalog.oai.dublin_core import DC_NS
from catalog.oai.formats import FORMATS
from catalog.oai.marcxml import MARC_NS
from catalog.oai.mods import MODS_NS
from catalog.oai.xml import OAI_NS
from catalog.urls import RECORD_FORMATS
from catalog.urls import Urls
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import LiveServer
from tests.conftest import shared_path
from tests.conftest import write_record
from tests.format_schemas import SCHEMAS
from tests.format_schemas import envelope_errors
from tests.format_schemas import format_errors
from tests.oai_schema import oai_errors

BASE = "https://catalog.example.org"
PREFIXES = ("mods", "marc21", "oai_dcterms")
NS = {"m": MODS_NS, "marc": MARC_NS, "dc": DC_NS, "dcterms": DCTERMS_NS, "q": OAI_DCTERMS_NS, "o": OAI_NS,
      "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
HULL = "hull-memorandum-1943-10-30"
FILE_NUMBER = "740.0011 Moscow/10–3043"
VIAF = "http://viaf.org/viaf/7399386"
LCNAF = "http://id.loc.gov/authorities/names/n79064932"
WIKIDATA = "http://www.wikidata.org/entity/Q4914"
DOWNLOAD_TYPES = {"mods": "application/mods+xml", "marc": "application/marcxml+xml", "dc": "application/xml",
                  "dcterms": "application/xml"}
DOWNLOAD_PREFIXES = {"mods": "mods", "marc": "marc21", "dc": "oai_dc", "dcterms": "oai_dcterms"}


def fixture(record_id: str) -> dict:
    return json.loads((FIXTURE_RECORDS / f"{record_id}.json").read_text(encoding="utf-8"))


def as_record(data: dict) -> Record:
    return Record.model_validate_json(json.dumps(data))


def serialized(prefix: str, record: Record) -> bytes:
    return etree.tostring(FORMATS[prefix].serialize(record, Urls(BASE)), xml_declaration=True, encoding="UTF-8")


def corpus(synthetic) -> list[Record]:
    """Every public fixture record and 80 generated ones (compound items and footnotes among them)."""
    return [as_record(fixture(i)) for i in PUBLIC_IDS] + [as_record(synthetic(n)) for n in range(80)]


def with_authority(record_id: str = HULL) -> dict:
    """A fixture record whose creator and a person it mentions carry authority links."""
    data = copy.deepcopy(fixture(record_id))
    data["creators"][0]["authority"] = [{"scheme": "viaf", "uri": VIAF}, {"scheme": "lcnaf", "uri": LCNAF}]
    data["persons_mentioned"][0]["authority"] = [{"scheme": "wikidata", "uri": WIKIDATA}]
    return data


# -- schema validity -------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_record_validates_against_the_official_schema(prefix, synthetic):
    for record in corpus(synthetic):
        assert format_errors(prefix, serialized(prefix, record)) == [], record.id


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_schema_check_rejects_an_invalid_document(prefix):
    shared_path(*SCHEMAS[prefix])  # this test is about the schema itself
    root = FORMATS[prefix].serialize(as_record(fixture(HULL)), Urls(BASE))
    etree.SubElement(root, f"{{{etree.QName(root).namespace}}}notAnElement").text = "x"
    assert format_errors(prefix, etree.tostring(root)) != []


def test_oai_dc_still_validates_and_gives_the_language_in_iso_639_2(synthetic):
    for record in corpus(synthetic)[:20]:
        xml = serialized("oai_dc", record)
        assert oai_errors(xml) == [], record.id
        assert etree.fromstring(xml).findtext("dc:language", namespaces=NS) == "eng"


@pytest.mark.parametrize(("tag", "code"), [("en", "eng"), ("en-US", "eng"), ("de-CH", "ger"), ("fr", "fre"),
                                           ("zh-Hant", "chi"), ("ru", "rus"), ("xx", "und")])
def test_languages_are_given_in_iso_639_2_bibliographic_codes(tag, code):
    data = fixture("addressed-telegram-1946-03-05")
    data["language"] = tag
    record = as_record(data)
    assert iso639_2b(tag) == code
    mods = etree.fromstring(serialized("mods", record))
    assert mods.findtext("m:language/m:languageTerm", namespaces=NS) == code
    [marc] = pymarc.parse_xml_to_array(io.BytesIO(serialized("marc21", record)))
    assert (marc["008"].data[35:38], marc["041"]["a"]) == (code, code)
    assert etree.fromstring(serialized("oai_dc", record)).findtext("dc:language", namespaces=NS) == code


# -- round trips: the key facts read back ----------------------------------------------------------

def test_marcxml_read_back_with_pymarc_has_the_key_facts():
    record = as_record(with_authority())
    [marc] = pymarc.parse_xml_to_array(io.BytesIO(serialized("marc21", record)))
    assert marc.leader[6:9] == "tda"  # manuscript language material, subunit of a collection, archival
    assert marc["001"].data == HULL
    assert marc["008"].data[7:11] == "1943" and marc["008"].data[35:38] == "eng"
    assert len(marc["008"].data) == 40
    assert marc["041"]["a"] == "eng"
    assert marc["245"]["a"] == "Memorandum of Conversation, by the Secretary of State"
    assert marc["245"]["f"] == "[October 30, 1943]"  # inferred: in brackets
    assert marc["100"]["a"] == "Hull, Cordell"
    assert marc["100"].get_subfields("e") == ["creator", "author"]
    assert marc["100"].get_subfields("0") == [VIAF, LCNAF]
    assert marc["024"]["a"] == FILE_NUMBER
    assert marc["852"]["a"] == "National Archives and Records Administration"
    assert marc["852"]["h"] == FILE_NUMBER
    assert marc["773"]["t"] == "Department of State Central Decimal File"
    assert "pp. 685–687" in marc["581"]["a"]
    assert marc["506"]["a"] == "Open for research."
    assert marc["540"]["u"] == "http://creativecommons.org/publicdomain/mark/1.0/"
    links = [field["u"] for field in marc.get_fields("856")]
    assert f"{BASE}/records/{HULL}" in links
    assert "https://history.state.gov/historicaldocuments/frus1943v01/d620" in links
    mentioned = [field for field in marc.get_fields("600") if field["a"] == "Stalin, Joseph"]
    assert mentioned[0]["0"] == WIKIDATA
    assert marc["555"]["u"] == f"{BASE}/collections/department-of-state-central-decimal-file"


def test_marcxml_names_the_recipient_as_addressee_and_the_signer():
    data = fixture("addressed-telegram-1946-03-05")
    data["creators"].append({"name": "Matthews, H. Freeman", "role": "signer"})
    [marc] = pymarc.parse_xml_to_array(io.BytesIO(serialized("marc21", as_record(data))))
    assert marc["100"]["a"] == "Acheson, Dean"
    added = {field["a"]: field.get_subfields("e") for field in marc.get_fields("700")}
    assert added == {"Matthews, H. Freeman": ["creator", "signer"], "Kennan, George F.": ["addressee"],
                     "Winant, John G.": ["addressee"]}
    assert marc["008"].data[6:11] == "s1946"


def test_marc_008_says_when_a_date_is_questionable_or_a_range():
    data = fixture("addressed-telegram-1946-03-05")
    data["dates"][0].update(certainty="questionable", not_before="1945-12-01", not_after="1946-03-05")
    [marc] = pymarc.parse_xml_to_array(io.BytesIO(serialized("marc21", as_record(data))))
    assert marc["008"].data[6:15] == "q19451946"
    data["dates"][0] = {"type": "written", "date": "1945-12-30", "end_date": "1946-01-02"}
    [marc] = pymarc.parse_xml_to_array(io.BytesIO(serialized("marc21", as_record(data))))
    assert marc["008"].data[6:15] == "i19451946"


def test_mods_read_back_has_the_key_facts():
    mods = etree.fromstring(serialized("mods", as_record(with_authority())))
    assert mods.get("version") == "3.8"
    assert mods.findtext("m:titleInfo/m:title", namespaces=NS) == "Memorandum of Conversation, by the Secretary of State"
    [creator] = mods.xpath("m:name[m:role/m:roleTerm[@type='code']='cre']", namespaces=NS)
    assert creator.xpath("m:namePart/text()", namespaces=NS) == ["Hull", "Cordell"]
    assert (creator.get("authority"), creator.get("valueURI")) == ("naf", LCNAF)  # LC's file preferred
    assert creator.xpath("m:nameIdentifier/@type", namespaces=NS) == ["viaf", "naf"]
    assert creator.findtext("m:affiliation", namespaces=NS) == "Secretary of State"
    [key_date] = mods.xpath("m:originInfo/m:dateCreated[@keyDate='yes']", namespaces=NS)
    assert (key_date.text, key_date.get("encoding"), key_date.get("qualifier")) == ("1943-10-30", "w3cdtf", "inferred")
    meeting = mods.xpath("m:originInfo/m:dateOther[@type='meeting']", namespaces=NS)
    assert [(d.get("point"), d.text) for d in meeting] == [("start", "1943-10-30"), ("end", "1943-10-31")]
    assert mods.xpath("m:identifier[@type='local']/text()", namespaces=NS) == [FILE_NUMBER]
    assert mods.findtext("m:language/m:languageTerm[@authority='iso639-2b']", namespaces=NS) == "eng"
    location = mods.find("m:location", NS)
    assert location.findtext("m:physicalLocation", namespaces=NS).startswith("National Archives and Records")
    assert location.findtext("m:url[@usage='primary display']", namespaces=NS) == f"{BASE}/records/{HULL}"
    host = mods.find("m:relatedItem[@type='host']", NS)
    assert host.findtext("m:titleInfo/m:title", namespaces=NS) == "Department of State Central Decimal File"
    [edition] = mods.xpath("m:relatedItem[@type='otherVersion']", namespaces=NS)
    assert edition.findtext("m:part/m:extent[@unit='pages']/m:start", namespaces=NS) == "685"
    assert edition.findtext("m:part/m:extent[@unit='pages']/m:end", namespaces=NS) == "687"
    assert edition.findtext("m:part/m:detail[@type='document']/m:number", namespaces=NS) == "620"
    assert edition.findtext("m:location/m:url", namespaces=NS).endswith("/frus1943v01/d620")
    mentioned = mods.xpath("m:subject/m:name[m:displayForm='Joseph Stalin']", namespaces=NS)
    assert mentioned[0].get("valueURI") == WIKIDATA
    assert mods.findtext("m:accessCondition[@type='restriction on access']", namespaces=NS) == "Open for research."


def test_mods_names_the_recipient_and_carries_every_date_certainty():
    mods = etree.fromstring(serialized("mods", as_record(fixture("harriman-roosevelt-1943-11-04"))))
    [recipient] = mods.xpath("m:name[m:role/m:roleTerm='addressee']", namespaces=NS)
    assert recipient.findtext("m:displayForm", namespaces=NS) == "Franklin D. Roosevelt"
    [sender] = mods.xpath("m:name[m:role/m:roleTerm='creator']", namespaces=NS)
    assert sender.findtext("m:displayForm", namespaces=NS) == "W. Averell Harriman"
    [received] = mods.xpath("m:originInfo/m:dateOther[@type='received']", namespaces=NS)
    assert (received.text, received.get("encoding"), received.get("qualifier")) == ("../1943-11-06", "edtf",
                                                                                    "inferred")
    for certainty in ("approximate", "questionable"):
        data = fixture("addressed-telegram-1946-03-05")
        data["dates"][0]["certainty"] = certainty
        mods = etree.fromstring(serialized("mods", as_record(data)))
        assert mods.xpath("m:originInfo/m:dateCreated/@qualifier", namespaces=NS) == [certainty]


def test_qualified_dc_read_back_has_the_key_facts():
    qdc = etree.fromstring(serialized("oai_dcterms", as_record(fixture(HULL))))
    assert etree.QName(qdc).localname == "qualifieddc"

    def values(path: str) -> list[str]:
        return qdc.xpath(f"{path}/text()", namespaces=NS)

    assert values("dc:title") == ["Memorandum of Conversation, by the Secretary of State"]
    assert values("dc:creator") == ["Hull, Cordell (Secretary of State)"]
    assert values("dcterms:created[@xsi:type='dcterms:W3CDTF']") == ["1943-10-30"]
    assert values("dc:date[@xsi:type='dcterms:Period']") == ["start=1943-10-30; end=1943-10-31; scheme=W3C-DTF"]
    assert FILE_NUMBER in values("dc:identifier")
    assert values("dc:identifier[@xsi:type='dcterms:URI']") == [f"{BASE}/records/{HULL}"]
    assert values("dc:language[@xsi:type='dcterms:ISO639-2']") == ["eng"]
    assert values("dcterms:isPartOf")[0] == "Department of State Central Decimal File"
    assert "National Archives and Records Administration" in values("dcterms:provenance")[0]
    assert values("dcterms:hasVersion") == ["https://history.state.gov/historicaldocuments/frus1943v01/d620"]
    assert values("dcterms:accessRights") == ["Open for research."]
    roosevelt = etree.fromstring(serialized("oai_dcterms", as_record(fixture("harriman-roosevelt-1943-11-04"))))
    assert roosevelt.xpath("dc:contributor/text()", namespaces=NS) == ["Roosevelt, Franklin D. (President)"]


def test_hostile_text_is_escaped_in_every_format():
    data = fixture("addressed-telegram-1946-03-05")
    data["title"] = "<script>alert('x')</script> & \"quotes\""
    for prefix in (*PREFIXES, "oai_dc"):
        xml = serialized(prefix, as_record(data))
        assert b"<script>" not in xml
        assert data["title"] in etree.fromstring(xml).xpath("string(.)")


# -- downloads from the record page ----------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(DOWNLOAD_TYPES))
def test_every_public_record_downloads_in_each_format(read_client, fmt):
    for record_id in PUBLIC_IDS:
        response = read_client.get(Urls().record(record_id, fmt))
        assert response.status_code == 200, record_id
        assert response.mimetype == DOWNLOAD_TYPES[fmt]
        prefix = DOWNLOAD_PREFIXES[fmt]
        errors = oai_errors(response.data) if prefix == "oai_dc" else format_errors(prefix, response.data)
        assert errors == [], record_id
        root = etree.fromstring(response.data)
        assert etree.QName(root).namespace == FORMATS[prefix].namespace


def test_restricted_and_missing_records_do_not_download(read_client):
    for fmt in DOWNLOAD_TYPES:
        for record_id in (RESTRICTED_ID, "no-such-record", "..%2f..%2fetc"):
            response = read_client.get(f"/records/{record_id}{RECORD_FORMATS[fmt]}")
            assert response.status_code == 404, (record_id, fmt)
            assert b"marmalade" not in response.data.lower()


def test_the_record_page_offers_each_download(read_client):
    page = etree.HTML(read_client.get(f"/records/{HULL}").data)
    [line] = page.xpath("//p[contains(@class, 'record-downloads')]")
    assert " ".join(line.xpath("string(.)").split()) == (
        "Download record as: MODS · MARCXML · Dublin Core · qualified DC")
    links = line.xpath(".//a/@href")
    assert links == [f"/records/{HULL}{RECORD_FORMATS[fmt]}" for fmt in ("mods", "marc", "dc", "dcterms")]
    for link in links:
        assert read_client.get(link).status_code == 200


def test_a_downloaded_record_carries_the_authority_links_it_is_cataloged_with(records_dir, make_app):
    write_record(records_dir, with_authority())
    client = make_app(records_dir).test_client()
    mods = etree.fromstring(client.get(f"/records/{HULL}.mods.xml").data)
    assert LCNAF in mods.xpath("m:name/@valueURI", namespaces=NS)
    [marc] = pymarc.parse_xml_to_array(io.BytesIO(client.get(f"/records/{HULL}.marc.xml").data))
    assert marc["100"].get_subfields("0") == [VIAF, LCNAF]


# -- OAI-PMH ----------------------------------------------------------------------------------------

def oai_get(client, **params) -> tuple[bytes, etree._Element]:
    response = client.get("/oai", query_string=params)
    assert response.status_code == 200
    return response.data, etree.fromstring(response.data)


def test_list_metadata_formats_lists_each_format(read_client):
    _, root = oai_get(read_client, verb="ListMetadataFormats")
    offered = {e.findtext("o:metadataPrefix", namespaces=NS): (e.findtext("o:schema", namespaces=NS),
                                                                e.findtext("o:metadataNamespace", namespaces=NS))
               for e in root.iterfind(".//o:metadataFormat", NS)}
    assert {"oai_dc", *PREFIXES} <= set(offered)
    assert offered["mods"] == ("http://www.loc.gov/standards/mods/v3/mods-3-8.xsd", MODS_NS)
    assert offered["marc21"] == ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC_NS)
    assert offered["oai_dcterms"][1] == OAI_DCTERMS_NS


@pytest.mark.parametrize("prefix", PREFIXES)
def test_get_record_in_each_format_is_valid_for_every_public_record(read_client, prefix):
    for record_id in PUBLIC_IDS:
        body, root = oai_get(read_client, verb="GetRecord", metadataPrefix=prefix,
                             identifier=f"oai:catalog.example.org:{record_id}")
        assert envelope_errors(prefix, body) == [], record_id
        [metadata] = root.find(".//o:metadata", NS)
        assert etree.QName(metadata).namespace == FORMATS[prefix].namespace
    _, root = oai_get(read_client, verb="GetRecord", metadataPrefix=prefix,
                      identifier=f"oai:catalog.example.org:{RESTRICTED_ID}")
    assert root.find("o:error", NS).get("code") == "idDoesNotExist"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_list_records_in_each_format_pages_through_every_public_record(records_dir, make_app, synthetic, prefix):
    for n in range(12):
        write_record(records_dir, synthetic(n))
    client = make_app(records_dir, CATALOG_OAI_PAGE_SIZE=4).test_client()
    expected = set(PUBLIC_IDS) | {synthetic(n)["id"] for n in range(12) if synthetic(n)["access"]["status"] == "open"}
    seen: list[str] = []
    params = {"verb": "ListRecords", "metadataPrefix": prefix}
    while True:
        body, root = oai_get(client, **params)
        assert envelope_errors(prefix, body) == []
        seen += [e.text.rsplit(":", 1)[1] for e in root.iterfind(".//o:header/o:identifier", NS)]
        token = root.findtext(".//o:resumptionToken", namespaces=NS)
        if not token:
            break
        params = {"verb": "ListRecords", "resumptionToken": token}
    assert sorted(seen) == sorted(expected)


# -- a real harvest ---------------------------------------------------------------------------------

class CheckedSickle(Sickle):
    """Sickle that checks every response it receives against the envelope and the format's schema."""

    def __init__(self, endpoint: str, prefix: str):
        super().__init__(endpoint, max_retries=0, timeout=60)
        self.prefix = prefix
        self.responses = 0

    def harvest(self, **kwargs):
        response = super().harvest(**kwargs)
        assert response.http_response.status_code == 200
        assert envelope_errors(self.prefix, response.http_response.content) == []
        self.responses += 1
        return response


@pytest.mark.slow
def test_sickle_harvests_every_record_in_each_format_from_a_real_server(tmp_path: Path, synthetic):
    count = 150
    folder = tmp_path / "records"
    write_records(folder, count)
    expected = {f"oai:harvest.example.org:syn-{n:06d}" for n in range(count)
                if synthetic(n)["access"]["status"] == "open"}
    server = LiveServer(folder, tmp_path / "instance", CATALOG_OAI_PAGE_SIZE="40",
                        CATALOG_OAI_REPOSITORY_IDENTIFIER="harvest.example.org")
    try:
        for prefix in PREFIXES:
            sickle = CheckedSickle(f"{server.url}/oai", prefix)
            records = list(sickle.ListRecords(metadataPrefix=prefix))
            identifiers = [r.header.identifier for r in records]
            assert len(identifiers) == len(set(identifiers)) and set(identifiers) == expected, prefix
            assert sickle.responses == -(-len(expected) // 40)
            for record in records[::25]:
                n = int(record.header.identifier.rsplit("-", 1)[1])
                title = record.xml.xpath("string(.//m:titleInfo/m:title | .//dc:title"
                                         " | .//marc:datafield[@tag='245']/marc:subfield[@code='a'])", namespaces=NS)
                assert title == synthetic(n)["title"], prefix
    finally:
        server.stop()


def test_oai_dcterms_names_a_schema_the_catalog_serves_with_its_namespace(read_client):
    """DCMI's qualifieddc.xsd has no target namespace, so it cannot be the format's schema (a validator
    compares the two): ListMetadataFormats and each record's schemaLocation name the application schema
    the catalog publishes, whose targetNamespace is the advertised metadataNamespace."""
    from lxml import etree

    listing = etree.fromstring(read_client.get("/oai?verb=ListMetadataFormats").data)
    ns = {"o": "http://www.openarchives.org/OAI/2.0/"}
    [entry] = [e for e in listing.iterfind(".//o:metadataFormat", ns) if e.findtext("o:metadataPrefix", namespaces=ns)
               == "oai_dcterms"]
    schema_url, namespace = entry.findtext("o:schema", namespaces=ns), entry.findtext("o:metadataNamespace", namespaces=ns)
    assert schema_url == "http://localhost/schemas/oai_dcterms.xsd"
    served = read_client.get("/schemas/oai_dcterms.xsd")
    assert served.status_code == 200 and served.mimetype == "application/xml"
    schema = etree.fromstring(served.data)
    assert schema.get("targetNamespace") == namespace
    record = etree.fromstring(read_client.get(f"/records/{PUBLIC_IDS[0]}.dcterms.xml").data)
    location = record.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split()
    assert location == [namespace, schema_url]
