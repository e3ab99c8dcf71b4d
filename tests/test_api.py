"""The JSON API, through the test client and through a real gunicorn server."""

import json
import time

import pytest
import requests

from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import write_record

pytestmark = pytest.mark.both_backends  # the index's behaviour here holds on SQLite and on PostgreSQL


def test_list_is_paginated_with_absolute_links(make_app, records_dir, synthetic):
    assert len(PUBLIC_IDS) == 6
    for n in range(1, 7):  # 6 more: 12 public records
        record = synthetic(n)
        record["access"] = {"status": "open"}
        write_record(records_dir, record)
    client = make_app(records_dir, CATALOG_BASE_URL="https://catalog.example.org").test_client()
    first = client.get("/api/records?per_page=5").get_json()
    assert first["total"] == 12 and first["pages"] == 3 and len(first["items"]) == 5
    assert first["links"]["next"] == "https://catalog.example.org/api/records?page=2&per_page=5"
    item = first["items"][0]
    assert set(item) >= {"id", "title", "date", "links"}
    assert item["links"]["self"] == f"https://catalog.example.org/api/records/{item['id']}"
    last = client.get("/api/records?per_page=5&page=3").get_json()
    assert len(last["items"]) == 2 and "next" not in last["links"]
    seen = [i["id"] for p in (1, 2, 3) for i in client.get(f"/api/records?per_page=5&page={p}").get_json()["items"]]
    assert len(seen) == len(set(seen)) == 12


def test_record_is_returned_as_stored(read_client):
    for record_id in PUBLIC_IDS:
        response = read_client.get(f"/api/records/{record_id}")
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.get_data() == (FIXTURE_RECORDS / f"{record_id}.json").read_bytes()


def test_unknown_and_restricted_records_are_json_404s(read_client):
    for record_id in ("no-such-record", RESTRICTED_ID):
        response = read_client.get(f"/api/records/{record_id}")
        assert response.status_code == 404
        assert response.get_json()["error"]["status"] == 404


def test_bad_paging_arguments_are_400s(read_client):
    client = read_client
    for query in ("page=0", "page=-1", "page=abc", "per_page=1000000000", "page=1&page=2"):
        response = client.get(f"/api/records?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["message"]


def test_health_reports_counts_and_bad_files(client, records_dir):
    assert client.get("/api/health").get_json()["records"] == len(PUBLIC_IDS)
    (records_dir / "bad.json").write_text('{"id": "bad"}')
    health = client.get("/api/health").get_json()
    assert health["records"] == len(PUBLIC_IDS) and health["bad_files"] == 1
    assert health["problems"][0]["path"] == "records/bad.json"
    assert "records/bad.json: title: missing (required)" in health["problems"][0]["problems"]


def test_real_server_serves_the_api_and_survives_a_bad_file(live_server):
    listing = requests.get(f"{live_server.url}/api/records", timeout=10)
    assert listing.status_code == 200
    assert listing.headers["Access-Control-Allow-Origin"] == "*"
    ids = [item["id"] for item in listing.json()["items"]]
    assert sorted(ids) == PUBLIC_IDS
    assert ids[0] in listing.json()["items"][0]["links"]["self"]

    (live_server.records_dir / "dropped.json").write_text('{"id": "dropped", "title": ')
    deadline = time.monotonic() + 5
    health = {}
    while time.monotonic() < deadline:
        health = requests.get(f"{live_server.url}/api/health", timeout=10).json()
        if health["bad_files"]:
            break
        time.sleep(0.2)
    assert health["bad_files"] == 1 and health["records"] == len(PUBLIC_IDS)
    assert health["problems"][0]["path"] == "records/dropped.json"
    for record_id in ids:  # every worker keeps serving every good record
        for _ in range(4):
            response = requests.get(f"{live_server.url}/api/records/{record_id}", timeout=10)
            assert response.status_code == 200
            assert json.loads(response.content)["id"] == record_id


def test_health_lists_the_warnings_of_served_records_but_never_of_restricted_ones(make_app, records_dir):
    record = json.loads((records_dir / "hull-memorandum-1943-10-30.json").read_text(encoding="utf-8"))
    record["provenance"]["file_number"] = "740.0011 Moscow/10-3043"  # a hyphen where the en dash belongs
    write_record(records_dir, record)
    hidden = json.loads((records_dir / "sealed-telegram-1944-01-01.json").read_text(encoding="utf-8"))
    hidden["provenance"]["file_number"] = "761.93/10-3043"
    write_record(records_dir, hidden)
    health = make_app(records_dir).test_client().get("/api/health").get_json()
    assert health["status"] == "ok"  # warnings do not degrade: the records are served
    assert [w["path"] for w in health["warnings"]] == ["records/hull-memorandum-1943-10-30.json"]
    assert "en dash" in health["warnings"][0]["warnings"][0]
    assert "sealed" not in json.dumps(health) and "761.93" not in json.dumps(health)
