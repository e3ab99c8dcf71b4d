"""OAI-PMH responses are gzip-compressed when, and only when, the client accepts gzip; Identify says so.

Through the test client (with the index's clock held still, so two answers are byte for byte the same)
and, marked slow, through `requests` against a real gunicorn server.
"""

from __future__ import annotations

import gzip

import pytest
import requests
from lxml import etree

from tests.conftest import LiveServer
from tests.oai_schema import oai_errors

NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
GZIP_MAGIC = b"\x1f\x8b"
QUERIES = ["verb=Identify", "verb=ListRecords&metadataPrefix=oai_dc", "verb=ListSets",
           "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:hull-memorandum-1943-10-30",
           "verb=NoSuchVerb"]


@pytest.fixture
def still_client(make_app, records_dir, clock):
    """A client whose responseDate does not move between two requests."""
    return make_app(records_dir, CATALOG_CLOCK=clock).test_client()


@pytest.mark.parametrize("query", QUERIES)
def test_a_client_accepting_gzip_gets_the_same_xml_compressed(still_client, query):
    plain = still_client.get("/oai?" + query)
    packed = still_client.get("/oai?" + query, headers={"Accept-Encoding": "gzip, deflate"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert plain.get_data().startswith(b"<?xml")
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.get_data().startswith(GZIP_MAGIC)
    assert len(packed.get_data()) == int(packed.headers["Content-Length"])
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    for response in (plain, packed):
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.mimetype == "text/xml"


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "deflate", "br", ""])
def test_no_compression_unless_gzip_is_accepted(read_client, accept):
    response = read_client.get("/oai?verb=Identify", headers={"Accept-Encoding": accept})
    assert "Content-Encoding" not in response.headers
    assert response.get_data().startswith(b"<?xml")
    assert oai_errors(response.get_data()) == []


def test_post_requests_are_compressed_too(read_client):
    response = read_client.post("/oai", data={"verb": "ListSets"}, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert etree.fromstring(gzip.decompress(response.get_data())).find("o:ListSets", NS) is not None


def test_identify_advertises_gzip(read_client):
    body = read_client.get("/oai?verb=Identify").get_data()
    assert oai_errors(body) == []
    identify = etree.fromstring(body).find("o:Identify", NS)
    assert [e.text for e in identify.iterfind("o:compression", NS)] == ["gzip"]
    order = [etree.QName(e).localname for e in identify]
    assert order.index("granularity") < order.index("compression")


@pytest.mark.slow
def test_a_real_http_client_gets_compressed_bytes_from_a_real_server(tmp_path, records_dir):
    server = LiveServer(records_dir, tmp_path / "instance-gzip")
    try:
        url = f"{server.url}/oai?verb=ListRecords&metadataPrefix=oai_dc"
        raw = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
        assert raw.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in raw.headers["Vary"]
        wire = raw.raw.read(decode_content=False)
        assert wire.startswith(GZIP_MAGIC)
        unpacked = gzip.decompress(wire)
        assert oai_errors(unpacked) == []

        decoded = requests.get(url, timeout=30)  # requests asks for gzip by default and decodes it
        assert decoded.headers["Content-Encoding"] == "gzip"

        session = requests.Session()
        del session.headers["Accept-Encoding"]
        plain = session.get(url, stream=True, timeout=30)
        assert "Content-Encoding" not in plain.headers
        plain_bytes = plain.raw.read(decode_content=False)
        assert plain_bytes.startswith(b"<?xml")
        assert len(wire) < len(plain_bytes)

        def without_response_date(xml: bytes) -> bytes:
            root = etree.fromstring(xml)
            root.find("o:responseDate", NS).text = ""
            return etree.tostring(root)

        assert without_response_date(unpacked) == without_response_date(plain_bytes) == without_response_date(
            decoded.content)
    finally:
        server.stop()
