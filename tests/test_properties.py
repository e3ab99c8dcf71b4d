"""Property tests: any record the model accepts round-trips through JSON, the index and every
representation, whatever its text holds (markup, `</script>`, control characters, bidi overrides);
one whose text XML cannot carry is refused by validation and served nowhere, rather than cut down."""

import json
import re
import uuid

import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.generate import synthetic_record
from catalog.model import Record
from catalog.urls import Urls
from catalog.validation import check_bytes
from manifests import presentation
from tests.conftest import app_config
from tests.conftest import write_record
from tests.iiif_schema import iiif_errors
from tests.oai_schema import oai_errors

HOSTILE = st.sampled_from(["</script><script>alert(1)</script>", "<b>bold</b> & ampersand", "\u202eevil\u202c",
                           "\x00\x01\x0b\x1f", "]]>", "\ud7ff\ue000\ufffe", "{{ 7*7 }}", "' OR 1=1 --"])
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry: validation refuses records holding any."""
TEXT = st.one_of(st.text(min_size=1, max_size=60), HOSTILE,
                 st.builds(lambda a, b: a + b, HOSTILE, st.text(max_size=20)))


@st.composite
def records(draw) -> dict:
    """A synthetic record whose free-text fields are replaced by arbitrary or hostile text."""
    record = synthetic_record(draw(st.integers(0, 10_000)))
    record["access"] = {"status": "open"}
    record["title"] = draw(TEXT)
    record["description"]["summary"] = draw(TEXT)
    record["creators"][0]["as_printed"] = draw(TEXT)
    record["provenance"]["collection"]["name"] = draw(TEXT)
    pages = record["pages"] if "pages" in record else record["parts"][0]["pages"]
    pages[0]["text"] = draw(TEXT)
    pages[0]["label"] = draw(TEXT)
    record["footnotes"] = [{"number": draw(TEXT), "text": draw(TEXT), "referenced_at": {"page": pages[0]["label"]}}]
    return record


def xml_safe_copy(value):
    """`value` with every character XML cannot carry replaced by "?" (so no text becomes empty)."""
    if isinstance(value, str):
        return NOT_XML.sub("?", value)
    if isinstance(value, dict):
        return {key: xml_safe_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [xml_safe_copy(item) for item in value]
    return value


def accepted(data: dict) -> Record:
    """The record the model makes of `data`; data the model refuses is not an example (assume)."""
    try:
        record = Record.model_validate_json(json.dumps(data))
    except ValidationError:
        record = None
    assume(record is not None)
    return record


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_accepted_records_round_trip_through_json(data):
    record = accepted(data)
    again = Record.model_validate_json(record.model_dump_json())
    assert again == record
    assert json.loads(record.model_dump_json()) == json.loads(again.model_dump_json())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=records())
def test_accepted_records_make_valid_manifests(data):
    record = accepted(data)
    links = Urls("https://catalog.example.org")
    manifest = presentation.manifest(record, links, presentation.provider("Archive", "https://archive.example/"))
    assert json.loads(json.dumps(manifest))["label"] == {record.language: [record.title]}
    assert iiif_errors(manifest) == []


@pytest.fixture(scope="module")
def oai_client(tmp_path_factory):
    from catalog import create_app

    root = tmp_path_factory.mktemp("oai-properties")
    (root / "records").mkdir()
    app = create_app(app_config(root / "records", root / "instance"))
    return app.test_client(), root / "records"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=records(), xml_safe=st.booleans())
def test_accepted_records_make_valid_oai_pmh_xml(data, xml_safe, oai_client):
    if xml_safe:  # about half the examples are served, half (most of the others) refused
        data = xml_safe_copy(data)
    record = accepted(data)
    client, folder = oai_client
    for old in folder.glob("*.json"):
        old.unlink()
    _, problems = check_bytes(json.dumps(data).encode(), f"records/{record.id}.json")
    if problems:  # text XML cannot carry (control characters, U+FFFE): refused, and served nowhere
        event("refused by validation: text XML cannot carry")
        assert all("which XML cannot carry; remove" in str(problem) for problem in problems)
        data = {**data, "id": f"refused-{uuid.uuid4().hex}"}  # an id never served (no last valid version)
        write_record(folder, data)
        response = client.get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:"
                              f"{data['id']}")
        assert b'<error code="idDoesNotExist">' in response.data
        assert oai_errors(response.data) == []
        health = client.get("/api/health").get_json()
        assert [p["path"] for p in health["problems"]] == [f"records/{data['id']}.json"]
        return
    write_record(folder, data)
    identifier = f"oai:catalog.example.org:{record.id}"
    for query in (f"verb=GetRecord&metadataPrefix=oai_dc&identifier={identifier}", "verb=ListSets",
                  "verb=ListRecords&metadataPrefix=oai_dc"):
        response = client.get(f"/oai?{query}")
        assert response.status_code == 200, query
        assert b"<error" not in response.data, query
        assert oai_errors(response.data) == [], query
