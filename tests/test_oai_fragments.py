"""Each record's OAI-PMH metadata is serialized once per version and format, then served as bytes.

The bytes spliced into a response are exactly those the response had when every record was built
into one tree; they are kept per worker (bounded) and in the instance folder (so a restarted server
does not build them again); an edit, a restriction or a change of the settings they depend on is
never answered from an old fragment.
"""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from lxml import etree
from werkzeug.datastructures import MultiDict

from catalog.http import get_index
from catalog.http import urls
from catalog.oai import fragments as fragments_module
from catalog.oai.arguments import parse
from catalog.oai.formats import FORMATS
from catalog.oai.fragments import STORE_NAME
from catalog.oai.fragments import DiskTier
from catalog.oai.fragments import MemoryTier
from catalog.oai.xml import OAI_NS
from catalog.oai.xml import XSI_NS
from catalog.oai.xml import envelope
from catalog.oai.xml import header_bytes
from catalog.oai.xml import oai
from catalog.oai.xml import serialize
from catalog.oai.xml import sub
from tests.conftest import write_record
from tests.oai_schema import oai_errors

REPO = "catalog.example.org"
RESPONSE_DATE = re.compile(rb"<responseDate>[^<]*</responseDate>")
RECORD = re.compile(rb"<record>.*?</record>", re.DOTALL)


def ids(folder) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.json")
                  if json.loads(path.read_text())["access"]["status"] == "open")


def get_record(client, prefix: str, record_id: str) -> bytes:
    response = client.get(f"/oai?verb=GetRecord&metadataPrefix={prefix}&identifier=oai:{REPO}:{record_id}")
    assert response.status_code == 200
    return response.data


def built_as_one_tree(app, prefix: str, record_id: str, response_date: str) -> bytes:
    """GetRecord as it was made before fragments: the metadata element appended into the envelope's tree."""
    query = {"verb": "GetRecord", "metadataPrefix": prefix, "identifier": f"oai:{REPO}:{record_id}"}
    with app.test_request_context("/oai", query_string=query):
        index, links = get_index(), urls()
        item = index.oai_item(record_id)
        root = envelope(links.oai(), parse(MultiDict(query)).echo)
        root.find(oai("responseDate")).text = response_date
        record = sub(sub(root, "GetRecord"), "record")
        header = sub(record, "header", **({"status": "deleted"} if item.deleted else {}))
        sub(header, "identifier", links.oai_identifier(item.id))
        sub(header, "datestamp", item.datestamp)
        for spec in item.sets:
            sub(header, "setSpec", spec)
        element = FORMATS[prefix].serialize(index.oai_record(item), links)
        sub(record, "metadata").append(etree.fromstring(etree.tostring(element)))
        return serialize(root)


@pytest.mark.both_backends
@pytest.mark.parametrize("prefix", list(FORMATS))
def test_responses_are_byte_for_byte_those_of_one_tree(make_app, records_dir, prefix):
    app = make_app(records_dir)
    client = app.test_client()
    for record_id in ids(records_dir):
        for attempt in ("built", "from memory"):
            body = get_record(client, prefix, record_id)
            date = RESPONSE_DATE.search(body).group(0)[len(b"<responseDate>"):-len(b"</responseDate>")].decode()
            assert body == built_as_one_tree(app, prefix, record_id, date), (record_id, attempt)
    if prefix == "oai_dc":  # the envelope's schema knows this format's schema (test_formats checks the others)
        assert oai_errors(body) == []


@pytest.mark.parametrize("prefix", ["oai_dc", "mods"])
def test_a_list_page_splices_the_same_records_as_get_record(make_app, records_dir, prefix):
    app = make_app(records_dir, CATALOG_OAI_PAGE_SIZE=3)
    client = app.test_client()
    listed, url = [], f"/oai?verb=ListRecords&metadataPrefix={prefix}"
    while url:
        body = client.get(url).data
        assert prefix != "oai_dc" or oai_errors(body) == []
        listed += RECORD.findall(body)
        token = re.search(rb"<resumptionToken[^>]*>([^<]+)<", body)
        url = f"/oai?verb=ListRecords&resumptionToken={token.group(1).decode()}" if token else None
    singles = [RECORD.search(get_record(client, prefix, record_id)).group(0) for record_id in ids(records_dir)]
    assert sorted(listed) == sorted(singles)
    assert len(listed) == len(ids(records_dir))


def test_a_restarted_server_serves_the_fragments_it_wrote_without_building_them(make_app, records_dir, monkeypatch):
    first = make_app(records_dir).test_client()
    bodies = {prefix: first.get(f"/oai?verb=ListRecords&metadataPrefix={prefix}").data for prefix in FORMATS}

    def never(*args):
        raise AssertionError("a fragment was built again")
    for prefix, found in FORMATS.items():
        monkeypatch.setitem(FORMATS, prefix, type(found)(found.prefix, found.schema, found.namespace, never))
    again = make_app(records_dir).test_client()  # same instance folder: a new worker, or after a restart
    for prefix, body in bodies.items():
        assert RESPONSE_DATE.sub(b"", again.get(f"/oai?verb=ListRecords&metadataPrefix={prefix}").data) == \
            RESPONSE_DATE.sub(b"", body)


@pytest.mark.both_backends
def test_an_edit_is_served_at_once_not_an_old_fragment(make_app, records_dir):
    app = make_app(records_dir)
    client = app.test_client()
    record_id = "hull-memorandum-1943-10-30"
    assert b"Retitled for the test" not in get_record(client, "oai_dc", record_id)
    path = records_dir / f"{record_id}.json"
    record = json.loads(path.read_text())
    record["title"] = "Retitled for the test"
    write_record(records_dir, record)
    app.extensions["catalog.index"].refresh()
    for prefix in FORMATS:
        assert b"Retitled for the test" in get_record(client, prefix, record_id)
    store = sqlite3.connect(app.config["CATALOG_INSTANCE_DIR"] + "/" + STORE_NAME)
    kept = store.execute("SELECT prefix, xml FROM fragments WHERE record_id = ?", (record_id,)).fetchall()
    assert sorted(prefix for prefix, _ in kept) == sorted(FORMATS)  # one version per format: the old one is gone
    assert all(b"Retitled for the test" in xml for _, xml in kept)


@pytest.mark.both_backends
def test_a_record_restricted_after_it_was_served_is_listed_deleted_without_metadata(make_app, records_dir):
    app = make_app(records_dir)
    client = app.test_client()
    record_id = "hull-memorandum-1943-10-30"
    title = json.loads((records_dir / f"{record_id}.json").read_text())["title"].encode()
    assert title in get_record(client, "oai_dc", record_id)
    record = json.loads((records_dir / f"{record_id}.json").read_text())
    record["access"] = {"status": "restricted", "reason": "Screening for personal privacy information."}
    write_record(records_dir, record)
    app.extensions["catalog.index"].refresh()
    body = get_record(client, "oai_dc", record_id)
    assert b'status="deleted"' in body and b"<metadata" not in body and title not in body
    listed = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc").data
    assert title not in listed and oai_errors(listed) == []


def test_fragments_follow_the_settings_and_the_host_they_depend_on(make_app, records_dir):
    record_id = "hull-memorandum-1943-10-30"
    one = make_app(records_dir, CATALOG_INSTITUTION_NAME="First Archive").test_client()
    assert b"First Archive" in get_record(one, "ead", record_id)
    other = make_app(records_dir, CATALOG_INSTITUTION_NAME="Second Archive").test_client()  # same instance folder
    body = get_record(other, "ead", record_id)
    assert b"Second Archive" in body and b"First Archive" not in body
    elsewhere = other.get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{REPO}:{record_id}",
                          base_url="http://mirror.example.net").data
    assert b"http://mirror.example.net/records/" in elsewhere and b"http://localhost/records/" not in elsewhere


@pytest.mark.parametrize("deleted", [False, True])
def test_headers_written_as_bytes_are_those_lxml_writes(deleted):
    texts = ["oai:a&b<c>d\r\"e':syn-1", "oai:répertoire.example:ü-ß-€", "2026-01-01T00:00:00Z", "x\x00\x1f\ud800y",
             "collection:a>b", "tab\there\nnewline", "]]>", "&amp;"]
    root = etree.Element(oai("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    parent = sub(root, "ListIdentifiers")
    header = sub(parent, "header", **({"status": "deleted"} if deleted else {}))
    sub(header, "identifier", texts[0] + texts[1])
    sub(header, "datestamp", texts[2])
    for spec in texts[3:]:
        sub(header, "setSpec", spec)
    body = serialize(root)
    written = header_bytes(texts[0] + texts[1], texts[2], tuple(texts[3:]), deleted)
    assert body[body.index(b"<header"):body.index(b"</header>") + len(b"</header>")] == written


def test_the_memory_tier_holds_at_most_its_limit_least_recently_used_out():
    tier = MemoryTier(limit=100)
    for n in range(10):
        tier.put((f"h{n}", "oai_dc", ""), b"x" * 30)
        assert tier.size <= 100
    assert tier.get(("h9", "oai_dc", "")) == b"x" * 30
    assert tier.get(("h0", "oai_dc", "")) is None
    tier.get(("h7", "oai_dc", ""))
    tier.put(("new", "oai_dc", ""), b"y" * 30)
    assert tier.get(("h7", "oai_dc", "")) is not None and tier.get(("h8", "oai_dc", "")) is None
    tier.put(("huge", "oai_dc", ""), b"z" * 101)
    assert tier.get(("huge", "oai_dc", "")) is None and tier.size <= 100


def test_a_new_version_of_the_code_starts_the_store_afresh(tmp_path, monkeypatch):
    path = tmp_path / STORE_NAME
    DiskTier(path).put_many({("h1", "oai_dc", "base"): ("syn-1", b"<metadata>old</metadata>")})
    monkeypatch.setattr(fragments_module, "SERIALIZER_VERSION", "another")
    tier = DiskTier(path)
    assert tier.get_many([("h1", "oai_dc", "base")]) == {}
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM fragments").fetchone()[0] == 0


def test_without_a_writable_store_fragments_are_kept_in_memory(make_app, records_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(fragments_module, "STORE_NAME", "no-such-folder/fragments.sqlite3")
    client = make_app(records_dir).test_client()
    body = client.get("/oai?verb=ListRecords&metadataPrefix=marc21").data
    assert body.count(b"<record>") == len(ids(records_dir))
    assert RESPONSE_DATE.sub(b"", client.get("/oai?verb=ListRecords&metadataPrefix=marc21").data) == \
        RESPONSE_DATE.sub(b"", body)
