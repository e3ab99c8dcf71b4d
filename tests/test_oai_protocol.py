"""OAI-PMH protocol behaviour through the Flask test client: verbs, paging, deletions, errors.

Every response any test here provokes is checked against the official OAI-PMH schemas (when ../shared
holds them; without them the behaviour is still checked). Tests that only read share one app.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from bench.generate import synthetic_record
from catalog import create_app
from catalog.model import slugify
from catalog.oai.formats import FORMATS
from catalog.oai.tokens import MAC_CHARS
from catalog.oai.tokens import Token
from catalog.oai.tokens import encode
from catalog.oai.tokens import key_for
from tests.conftest import app_config
from tests.conftest import left_unchanged
from tests.conftest import write_record
from tests.oai_schema import oai_errors

pytestmark = pytest.mark.both_backends  # the index's behaviour here holds on SQLite and on PostgreSQL

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "id": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
REPO = "archive.example.org"
LIVE_IDS = [f"syn-{n:06d}" for n in range(1, 13)]
NEVER_PUBLIC = "syn-000013"


def oai_id(record_id: str) -> str:
    return f"oai:{REPO}:{record_id}"


class OAI:
    """Sends OAI-PMH requests (GET or POST) and checks each response is HTTP 200 and schema-valid."""

    def __init__(self, client, method: str = "GET"):
        self.client = client
        self.method = method

    def raw(self, query: str) -> etree._Element:
        response = self.client.get("/oai?" + query) if self.method == "GET" else self.client.post(
            "/oai", data=query, content_type="application/x-www-form-urlencoded")
        return self._check(response)

    def __call__(self, **params: str) -> etree._Element:
        params = {("from" if k == "from_" else k): v for k, v in params.items()}
        response = self.client.get("/oai", query_string=params) if self.method == "GET" else self.client.post(
            "/oai", data=params)
        return self._check(response)

    @staticmethod
    def _check(response) -> etree._Element:
        assert response.status_code == 200
        assert response.mimetype == "text/xml"
        assert oai_errors(response.data) == []
        return etree.fromstring(response.data)


def error_code(root: etree._Element) -> str | None:
    errors = root.findall("o:error", NS)
    return errors[0].get("code") if errors else None


def echoed(root: etree._Element) -> dict[str, str]:
    return dict(root.find("o:request", NS).attrib)


def identifiers(root: etree._Element) -> list[str]:
    return [e.text for e in root.iterfind(".//o:header/o:identifier", NS)]


def harvest(oai: OAI, verb: str = "ListIdentifiers", **params: str) -> tuple[list[etree._Element], list[dict]]:
    """All headers of a list request, following tokens; and each page's resumptionToken attributes."""
    root = oai(verb=verb, metadataPrefix="oai_dc", **params)
    headers, tokens = [], []
    while True:
        assert error_code(root) is None, etree.tostring(root)
        headers += root.findall(".//o:header", NS)
        token = root.find(f"o:{verb}/o:resumptionToken", NS)
        if token is None:
            return headers, tokens
        tokens.append({**token.attrib, "text": token.text})
        if not token.text:
            return headers, tokens
        root = oai(verb=verb, resumptionToken=token.text)


SETTINGS = {"CATALOG_OAI_REPOSITORY_IDENTIFIER": REPO, "CATALOG_OAI_PAGE_SIZE": 5,
            "CATALOG_BASE_URL": "https://archive.example.org"}


def write_repository(folder: Path) -> Path:
    """Twelve open records (syn-000001..12) and one that was never public (syn-000013)."""
    folder.mkdir()
    for n in range(1, 14):
        record = synthetic_record(n)
        record["access"] = {"status": "open"}
        if n == 13:
            record["access"] = {"status": "restricted", "reason": "Screening."}
        write_record(folder, record)
    return folder


@pytest.fixture
def folder(tmp_path):
    """The records of a test that changes them (or its settings): see `build`."""
    return write_repository(tmp_path / "records")


@pytest.fixture
def build(make_app, folder, clock):
    """An app of the test's own (its index on the test's clock), with the settings here changed by `settings`."""
    def build(**settings):
        return make_app(folder, **{**SETTINGS, "CATALOG_CLOCK": clock, **settings})
    return build


@pytest.fixture(scope="module")
def read_repository(tmp_path_factory):
    """One app over the thirteen records, built once, for the tests that only read."""
    root = tmp_path_factory.mktemp("oai-read-only")
    folder = write_repository(root / "records")
    return create_app(app_config(folder, root / "instance", **SETTINGS)), folder


@pytest.fixture
def read_oai_app(read_repository):
    """The shared app (this module's, not the fixture corpus's); fails a test that changes it."""
    app, folder = read_repository
    with left_unchanged(app, folder):
        yield app


@pytest.fixture
def oai(read_oai_app):
    return OAI(read_oai_app.test_client())


# -- Identify, formats, sets -------------------------------------------------------------------

def test_identify_describes_the_repository_from_settings(build):
    oai = OAI(build(CATALOG_OAI_REPOSITORY_NAME="Diplomatic Papers", CATALOG_ADMIN_EMAIL="oai@archive.example.org")
              .test_client())
    root = oai(verb="Identify")
    identify = root.find("o:Identify", NS)
    assert identify.findtext("o:repositoryName", namespaces=NS) == "Diplomatic Papers"
    assert identify.findtext("o:baseURL", namespaces=NS) == "https://archive.example.org/oai"
    assert identify.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("o:adminEmail", namespaces=NS) == "oai@archive.example.org"
    assert identify.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext(".//id:repositoryIdentifier", namespaces=NS) == REPO
    assert identify.findtext(".//id:sampleIdentifier", namespaces=NS).startswith(f"oai:{REPO}:syn-")
    earliest = identify.findtext("o:earliestDatestamp", namespaces=NS)
    stamps = [e.text for e in harvest(oai)[0] for e in e.iterfind("o:datestamp", NS)]
    assert earliest == min(stamps)
    assert echoed(root) == {"verb": "Identify"}
    assert root.findtext("o:request", namespaces=NS) == "https://archive.example.org/oai"


def test_list_metadata_formats_offers_every_format_for_the_repository_and_for_an_item(oai):
    for root in (oai(verb="ListMetadataFormats"), oai(verb="ListMetadataFormats", identifier=oai_id("syn-000001"))):
        prefixes = [e.text for e in root.iterfind(".//o:metadataPrefix", NS)]
        assert prefixes == list(FORMATS) and prefixes[0] == "oai_dc"
        assert {"oai_dc", "oai_dcterms", "mods", "marc21", "ead"} <= set(prefixes)
        assert root.findtext(".//o:metadataNamespace", namespaces=NS) == NS["oai_dc"]


def test_sets_are_listed_and_every_header_names_its_sets(oai, synthetic):
    root = oai(verb="ListSets")
    specs = [e.text for e in root.iterfind(".//o:setSpec", NS)]
    assert specs[:3] == ["collection", "type", "decade"]
    assert len(specs) == len(set(specs))
    headers, _ = harvest(oai)
    for header in headers:
        record = synthetic(int(header.findtext("o:identifier", namespaces=NS).rsplit("-", 1)[1]))
        sets = [e.text for e in header.iterfind("o:setSpec", NS)]
        from catalog.model import slugify
        expected = {f"collection:{slugify(record['provenance']['collection']['name'])}",
                    f"type:{slugify(record['document_type'])}",
                    f"decade:{record['dates'][0]['date'][:3]}0s", "collection", "type", "decade"}
        expected |= {f"type:{slugify(part['document_type'])}" for part in record.get("parts", [])}
        assert set(sets) == expected
        assert set(sets) <= set(specs)


def test_a_set_harvest_returns_exactly_its_members_and_a_parent_set_all_its_subsets(oai):
    everything = set(identifiers_of(harvest(oai)[0]))
    specs = [e.text for e in oai(verb="ListSets").iterfind(".//o:setSpec", NS)]
    for spec in specs:
        members = identifiers_of(harvest(oai, set=spec)[0])
        assert len(members) == len(set(members))
        expected = {h.findtext("o:identifier", namespaces=NS) for h in harvest(oai)[0]
                    if spec in [e.text for e in h.iterfind("o:setSpec", NS)]}
        assert set(members) == expected, spec
    assert set(identifiers_of(harvest(oai, set="collection")[0])) == everything


def identifiers_of(headers: list[etree._Element]) -> list[str]:
    return [h.findtext("o:identifier", namespaces=NS) for h in headers]


# -- lists and resumption tokens ---------------------------------------------------------------

@pytest.mark.parametrize("page_size", [1, 4, 5, 12, 100])
def test_a_harvest_pages_through_every_record_once(build, page_size):
    oai = OAI(build(CATALOG_OAI_PAGE_SIZE=page_size).test_client())
    headers, tokens = harvest(oai)
    assert sorted(identifiers_of(headers)) == [oai_id(i) for i in LIVE_IDS]
    pages = -(-len(LIVE_IDS) // page_size)
    assert len(tokens) == (pages if pages > 1 else 0)
    for number, token in enumerate(tokens):
        assert token["completeListSize"] == str(len(LIVE_IDS))
        assert token["cursor"] == str(number * page_size)
    if tokens:
        assert tokens[-1]["text"] is None  # the last page, even when 12 is a multiple of the page size
        assert all(t["text"] for t in tokens[:-1])
    records, _ = harvest(oai, verb="ListRecords")
    assert identifiers_of(records) == identifiers_of(headers)


def test_list_records_carries_oai_dc_metadata(oai):
    root = oai(verb="ListRecords", metadataPrefix="oai_dc")
    for record in root.iterfind(".//o:record", NS):
        record_id = record.findtext("o:header/o:identifier", namespaces=NS).rsplit(":", 1)[1]
        dc = record.find("o:metadata/oai_dc:dc", NS)
        urls = [e.text for e in dc.iterfind("dc:identifier", NS)]
        assert urls == [f"https://archive.example.org/records/{record_id}",
                        f"https://archive.example.org/iiif/{record_id}/manifest"]
        assert dc.findtext("dc:type", namespaces=NS) == "Text"


def test_a_token_gives_the_same_page_when_reused_and_after_a_restart(build):
    oai = OAI(build().test_client())
    first = oai(verb="ListRecords", metadataPrefix="oai_dc")
    token = first.findtext(".//o:resumptionToken", namespaces=NS)
    second = oai(verb="ListRecords", resumptionToken=token)
    again = oai(verb="ListRecords", resumptionToken=token)
    restarted = OAI(build().test_client())(verb="ListRecords", resumptionToken=token)
    page = identifiers(second)
    assert len(page) == 5 and not set(page) & set(identifiers(first))
    assert identifiers(again) == page == identifiers(restarted)
    assert echoed(second) == {"verb": "ListRecords", "resumptionToken": token}


def test_tokens_are_url_safe_base64_of_compact_json(oai):
    token = oai(verb="ListIdentifiers", metadataPrefix="oai_dc").findtext(".//o:resumptionToken", namespaces=NS)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    import base64
    payload = token[:-MAC_CHARS]  # then the signature
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert data["c"] == 5 and data["n"] == 12 and data["v"] == "ListIdentifiers"


def test_from_and_until_are_inclusive_and_take_either_granularity(oai):
    headers, _ = harvest(oai)
    stamp = headers[0].findtext("o:datestamp", namespaces=NS)
    day = stamp[:10]
    everything = sorted(identifiers_of(headers))
    assert sorted(identifiers_of(harvest(oai, from_=stamp, until=stamp)[0])) == everything
    assert sorted(identifiers_of(harvest(oai, from_=day, until=day)[0])) == everything
    later = stamp[:17] + f"{int(stamp[17:19]) + 1:02d}Z" if stamp[17:19] != "59" else None
    if later:
        assert error_code(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": later})) == "noRecordsMatch"
    assert error_code(oai(verb="ListRecords", metadataPrefix="oai_dc", until="1999-12-31")) == "noRecordsMatch"


# -- deletions, restrictions, stable datestamps ---------------------------------------------

def test_removed_and_restricted_records_stay_listed_as_deleted(build, folder, synthetic, clock):
    app = build()
    oai = OAI(app.test_client())
    before = {h.findtext("o:identifier", namespaces=NS): h for h in harvest(oai)[0]}
    clock.advance()  # datestamps have one-second granularity
    (folder / "syn-000002.json").unlink()
    restricted = synthetic(3)
    restricted["access"] = {"status": "restricted", "reason": "Withdrawn for screening."}
    write_record(folder, restricted)

    headers, _ = harvest(oai)
    assert sorted(identifiers_of(headers)) == [oai_id(i) for i in LIVE_IDS]
    deleted = {h.findtext("o:identifier", namespaces=NS): h for h in headers if h.get("status") == "deleted"}
    assert set(deleted) == {oai_id("syn-000002"), oai_id("syn-000003")}
    for identifier, header in deleted.items():
        assert header.findtext("o:datestamp", namespaces=NS) > before[identifier].findtext("o:datestamp", namespaces=NS)
        assert header.findall("o:setSpec", NS) == []
        root = oai(verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier)
        assert root.find(".//o:header", NS).get("status") == "deleted"
        assert root.find(".//o:metadata", NS) is None
        assert error_code(oai(verb="ListMetadataFormats", identifier=identifier)) == "noMetadataFormats"
    records = [header.getparent() for header in harvest(oai, verb="ListRecords")[0]]
    assert all((r.find("o:metadata", NS) is None) == (r.find("o:header", NS).get("status") == "deleted")
               for r in records)
    in_parent = {h.findtext("o:identifier", namespaces=NS): h.get("status") for h in harvest(oai, set="collection")[0]}
    assert all(in_parent[identifier] == "deleted" for identifier in deleted)  # the parent set holds every item
    for identifier, header in before.items():  # and each leaf set lists what left it as deleted
        if identifier in deleted:
            leaf = next(s.text for s in header.findall("o:setSpec", NS) if s.text.startswith("collection:"))
            listed = {h.findtext("o:identifier", namespaces=NS): h.get("status") for h in harvest(oai, set=leaf)[0]}
            assert listed[identifier] == "deleted", (identifier, leaf)
    body = b"".join(etree.tostring(r) for r in records)
    assert restricted["title"].encode() not in body


def test_a_record_that_was_never_public_never_appears(oai):
    for verb in ("ListIdentifiers", "ListRecords"):
        assert oai_id(NEVER_PUBLIC) not in identifiers_of(harvest(oai, verb=verb)[0])
    root = oai(verb="GetRecord", metadataPrefix="oai_dc", identifier=oai_id(NEVER_PUBLIC))
    assert error_code(root) == "idDoesNotExist"
    assert NEVER_PUBLIC not in etree.tostring(root).decode()


def test_datestamps_move_only_when_content_changes(build, folder, synthetic, clock):
    app = build()
    oai = OAI(app.test_client())
    stamps = {h.findtext("o:identifier", namespaces=NS): h.findtext("o:datestamp", namespaces=NS)
              for h in harvest(oai)[0]}
    clock.advance()
    same = synthetic(4)
    same["access"] = {"status": "open"}
    (folder / "syn-000004.json").write_text(json.dumps(same, indent=4))  # reformatted, same content
    edited = synthetic(5)
    edited["access"] = {"status": "open"}
    edited["title"] = "Edited title"
    write_record(folder, edited)
    app.extensions["catalog.index"].rebuild()  # re-indexing from scratch
    restarted = OAI(build().test_client())  # and a restart
    after = {h.findtext("o:identifier", namespaces=NS): h.findtext("o:datestamp", namespaces=NS)
             for h in harvest(restarted)[0]}
    changed = {i for i in stamps if stamps[i] != after[i]}
    assert changed == {oai_id("syn-000005")}
    incremental = identifiers_of(harvest(restarted, from_=after[oai_id("syn-000005")])[0])
    assert incremental == [oai_id("syn-000005")]


# -- GET and POST ---------------------------------------------------------------------------------

def test_post_answers_like_get(read_oai_app):
    app = read_oai_app
    get, post = OAI(app.test_client()), OAI(app.test_client(), "POST")
    assert identifiers_of(harvest(post)[0]) == identifiers_of(harvest(get)[0])
    root = post(verb="GetRecord", metadataPrefix="oai_dc", identifier=oai_id("syn-000001"))
    assert identifiers(root) == [oai_id("syn-000001")]
    assert error_code(post.raw("verb=Identify&verb=Identify")) == "badVerb"


# -- errors ---------------------------------------------------------------------------------------

BAD_VERB = ["", "verb=Frobnicate", "verb=Identify&verb=Identify", "verb=identify", "foo=bar"]
BAD_ARGUMENT = [
    "verb=Identify&foo=bar",
    "verb=ListRecords",
    "verb=ListIdentifiers&set=type",
    "verb=GetRecord&metadataPrefix=oai_dc",
    "verb=GetRecord&identifier=oai:archive.example.org:syn-000001",
    "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc",
    "verb=ListRecords&metadataPrefix=",
    "verb=ListRecords&metadataPrefix=%3Cx%3E",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-01",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-02-30",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00.5Z",
    "verb=ListRecords&metadataPrefix=oai_dc&until=2024-1-1",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01&until=2024-01-02T00:00:00Z",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-02&until=2024-01-01",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:01Z&until=2024-01-01T00:00:00Z",
    "verb=ListRecords&metadataPrefix=oai_dc&set=a::b",
    "verb=ListRecords&metadataPrefix=oai_dc&set=%3Cscript%3E",
    "verb=ListRecords&resumptionToken=abc&metadataPrefix=oai_dc",
    "verb=ListIdentifiers&resumptionToken=abc&from=2024-01-01",
    "verb=Identify&resumptionToken=abc",
    "verb=GetRecord&metadataPrefix=oai_dc&identifier=x&set=collection",
    "verb=ListSets&set=collection",
    "verb=ListRecords&metadataPrefix=oai_dc&%00=1",
]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("query", BAD_VERB)
def test_bad_verb(read_oai_app, method, query):
    root = OAI(read_oai_app.test_client(), method).raw(query)
    assert error_code(root) == "badVerb"
    assert echoed(root) == {}


@pytest.mark.parametrize("query", BAD_ARGUMENT)
def test_bad_argument(oai, query):
    root = oai.raw(query)
    assert error_code(root) == "badArgument"
    assert echoed(root) == {}


def test_bad_resumption_tokens(oai):
    real = oai(verb="ListIdentifiers", metadataPrefix="oai_dc").findtext(".//o:resumptionToken", namespaces=NS)
    key = key_for(oai.client.application.config)  # signed with the server's key: the content is still checked
    forged = [
        "garbage", "%%%", "a" * 3000, real[:-2], real + "A", real[:10] + "!" + real[11:],
        encode(Token("ListIdentifiers", "oai_dc", None, None, None, "2024-01-01T00:00:00Z", "../etc", 5, 12), key),
        encode(Token("ListIdentifiers", "not_a_format", None, None, None, "2024-01-01T00:00:00Z", "syn-000001", 5, 12),
               key),
        encode(Token("ListIdentifiers", "oai_dc", None, None, None, "2024-13-01T00:00:00Z", "syn-000001", 5, 12),
               key),
        encode(Token("ListIdentifiers", "oai_dc", None, None, None, "2024-01-01T00:00:00Z", "syn-000001", 0, 12),
               key),
        encode(Token("Identify", "oai_dc", None, None, None, "2024-01-01T00:00:00Z", "syn-000001", 5, 12), key),
        encode(Token("ListIdentifiers", "oai_dc", None, None, None, "2024-01-01T00:00:00Z", "syn-000001", 5, 12),
               b"not the server's key"),
    ]
    for token in forged:
        root = oai(verb="ListIdentifiers", resumptionToken=token)
        assert error_code(root) == "badResumptionToken", token
        assert echoed(root) == {"verb": "ListIdentifiers"}
    assert error_code(oai(verb="ListRecords", resumptionToken=real)) == "badResumptionToken"  # another verb's
    assert error_code(oai(verb="ListSets", resumptionToken=real)) == "badResumptionToken"


def test_cannot_disseminate_other_formats(oai):
    for params in ({"verb": "ListRecords"}, {"verb": "ListIdentifiers"},
                   {"verb": "GetRecord", "identifier": oai_id("syn-000001")}):
        root = oai(metadataPrefix="not_a_format", **params)
        assert error_code(root) == "cannotDisseminateFormat"
        assert echoed(root) == {k: v for k, v in params.items()}


@pytest.mark.parametrize("identifier", [
    oai_id("syn-999999"), "oai:other.example.org:syn-000001", "syn-000001", oai_id("../../etc/passwd"),
    oai_id("SYN-000001"), oai_id("<script>alert(1)</script>"), "oai:archive.example.org:syn-000001\x01",
    oai_id("syn-000001&x=1")])
def test_unknown_identifiers_do_not_exist_and_are_not_echoed(oai, identifier):
    for params in ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, {"verb": "ListMetadataFormats"}):
        response = oai.client.get("/oai", query_string={**params, "identifier": identifier})
        assert oai_errors(response.data) == []
        root = etree.fromstring(response.data)
        assert error_code(root) == "idDoesNotExist"
        assert echoed(root) == params
        assert b"<script" not in response.data


def test_no_records_match(oai):
    assert error_code(oai(verb="ListRecords", metadataPrefix="oai_dc", from_="2999-01-01")) == "noRecordsMatch"
    root = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="collection:no-such-collection")
    assert error_code(root) == "noRecordsMatch"
    assert echoed(root) == {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc",
                            "set": "collection:no-such-collection"}
    assert error_code(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="nosuchfacet:x")) == "noRecordsMatch"


def test_an_empty_repository_has_no_set_hierarchy_and_no_records(make_app, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    oai = OAI(make_app(empty).test_client())
    assert error_code(oai(verb="ListSets")) == "noSetHierarchy"
    assert error_code(oai(verb="ListRecords", metadataPrefix="oai_dc", set="collection")) == "noSetHierarchy"
    assert error_code(oai(verb="ListRecords", metadataPrefix="oai_dc")) == "noRecordsMatch"
    assert oai(verb="Identify").find("o:Identify", NS) is not None


def test_hostile_record_text_is_escaped(build, folder, synthetic):
    """Markup and CDATA ends in a record are text in the XML (characters XML cannot carry at all are
    refused by validation: tests/test_faults_input.py)."""
    record = synthetic(20)
    record["access"] = {"status": "open"}
    record["title"] = "Bad title <script>alert('x')</script> ]]> &amp; end"
    record["description"]["summary"] = "</dc:description><dc:evil>1</dc:evil>"
    write_record(folder, record)
    oai = OAI(build().test_client())
    root = oai(verb="GetRecord", metadataPrefix="oai_dc", identifier=oai_id("syn-000020"))
    dc = root.find(".//oai_dc:dc", NS)
    assert dc.findtext("dc:title", namespaces=NS) == "Bad title <script>alert('x')</script> ]]> &amp; end"
    assert dc.findtext("dc:description", namespaces=NS) == "</dc:description><dc:evil>1</dc:evil>"
    assert dc.find("dc:evil", NS) is None


# -- records that leave a set -----------------------------------------------------------------------

def collection_set(record: dict) -> str:
    return f"collection:{slugify(record['provenance']['collection']['name'])}"


def statuses(oai: OAI, **params: str) -> dict[str, str | None]:
    return {h.findtext("o:identifier", namespaces=NS): h.get("status") for h in harvest(oai, **params)[0]}


def test_a_record_moved_to_another_collection_is_deleted_from_the_old_set_and_back_when_it_returns(
        build, folder, synthetic, clock):
    oai = OAI(build().test_client())
    record = synthetic(4)
    record["access"] = {"status": "open"}
    old_set = collection_set(record)
    assert statuses(oai, set=old_set)[oai_id("syn-000004")] is None
    clock.advance()
    moved = {**record, "provenance": {**record["provenance"],
                                      "collection": {"name": "A Collection Nobody Else Is In"}}}
    write_record(folder, moved)
    assert statuses(oai, set=old_set)[oai_id("syn-000004")] == "deleted"  # the old set's harvester learns it
    assert statuses(oai, set=collection_set(moved))[oai_id("syn-000004")] is None
    assert statuses(oai)[oai_id("syn-000004")] is None  # in the repository as a whole it is live
    clock.advance()
    write_record(folder, record)  # moved back
    assert statuses(oai, set=old_set)[oai_id("syn-000004")] is None


def test_a_set_that_shrinks_during_a_paged_harvest_finishes_it(build, folder, clock):
    oai = OAI(build().test_client())
    leaf = "decade:1940s"  # ten of the twelve records: two pages of five
    members = [i for i, status in statuses(oai, set=leaf).items() if status is None]
    assert len(members) > 5
    first = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set=leaf)
    token = first.find("o:ListIdentifiers/o:resumptionToken", NS)
    clock.advance()
    gone = [path for path in sorted(folder.glob("syn-*.json")) if oai_id(path.stem) in members][-4:]
    for path in gone:  # members leave the set while the harvest is paged
        path.unlink()
    headers = list(first.findall(".//o:header", NS))
    root = oai(verb="ListIdentifiers", resumptionToken=token.text) if token is not None and token.text else None
    while root is not None:
        assert error_code(root) is None  # not noRecordsMatch: what left is listed, as deleted
        headers += root.findall(".//o:header", NS)
        following = root.find("o:ListIdentifiers/o:resumptionToken", NS)
        root = oai(verb="ListIdentifiers", resumptionToken=following.text) if following is not None \
            and following.text else None
    listed = {h.findtext("o:identifier", namespaces=NS): h.get("status") for h in headers}
    assert all(listed[oai_id(path.stem)] == "deleted" for path in gone)
