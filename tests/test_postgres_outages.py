"""The database stops mid-run: record, search and OAI-PMH requests answer 503 with Retry-After and a
message (HTML or JSON, as each surface answers errors), one line is logged, and nothing is taken for
a deletion: when the database is back everything is served again and the ledger is as it was.
"""

from __future__ import annotations

import json
import logging
import time

import pytest
from lxml import etree

from catalog import create_app
from tests.conftest import PUBLIC_IDS
from tests.conftest import app_config
from tests.conftest import write_record

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RECORD = PUBLIC_IDS[0]
EDITED = PUBLIC_IDS[1]
JSON_READS = ["/search.json?q=molotov", f"/records/{RECORD}.json", f"/api/records/{RECORD}", "/api/records",
              "/index.json", f"/iiif/{RECORD}/manifest", "/api/health"]
HTML_READS = ["/", "/search?q=molotov", f"/records/{RECORD}", "/collections"]
OAI_READS = ["/oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
             f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:{RECORD}",
             "/oai?verb=ListRecords&metadataPrefix=oai_dc"]


def ledger_rows(url: str) -> dict[str, tuple]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {row[0]: row[1:] for row in conn.execute("SELECT * FROM ledger ORDER BY id")}


def harvest(client) -> list[tuple]:
    """(identifier, datestamp, status) of every header ListIdentifiers gives (one page: page size 100)."""
    response = client.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
    assert response.status_code == 200
    root = etree.fromstring(response.data)
    assert root.findtext(f".//{OAI}resumptionToken") in (None, "")
    return [(h.findtext(f"{OAI}identifier"), h.findtext(f"{OAI}datestamp"), h.get("status"))
            for h in root.iter(f"{OAI}header")]


@pytest.mark.parametrize("refresh_interval", [0, 0.2], ids=["refresh-per-request", "watcher-thread"])
def test_with_the_database_stopped_requests_answer_503_and_nothing_is_deleted(
        own_cluster, records_dir, tmp_path, caplog, refresh_interval):
    from catalog.index.postgres import database
    from catalog.index.postgres import reads

    primary = own_cluster.primary()
    url = primary.new_database()
    app = create_app(app_config(records_dir, tmp_path / "instance", CATALOG_DATABASE_URL=url,
                                CATALOG_REFRESH_INTERVAL=refresh_interval))
    client = app.test_client()
    try:
        for path in JSON_READS + HTML_READS + OAI_READS:
            assert client.get(path).status_code == 200, path
        ledger, harvested = ledger_rows(url), harvest(client)
        assert len(harvested) == len(PUBLIC_IDS) and not any(status for _, _, status in harvested)

        caplog.clear()
        with caplog.at_level(logging.INFO):
            primary.stop_server("fast")
            time.sleep(reads.GENERATION_POLL_SECONDS)  # what was cached for the last generation read has expired
            started = time.monotonic()
            for path in JSON_READS + HTML_READS + OAI_READS:
                response = client.get(path)
                assert response.status_code == 503, (path, response.status_code)
                assert response.headers["Retry-After"] == "10", path
                if path in JSON_READS:
                    assert "database cannot be reached" in response.get_json()["error"]["message"], path
                else:
                    assert response.mimetype == "text/html", path
                    assert "database cannot be reached" in response.get_data(as_text=True), path
            record = json.loads((records_dir / f"{EDITED}.json").read_text(encoding="utf-8"))
            record["title"] = "Written while the database was away"
            write_record(records_dir, record)  # an edit the refresh cannot apply until the database is back
            time.sleep(max(2 * refresh_interval, 0.3))  # the watcher (when there is one) tries and fails
            assert client.get(f"/api/records/{RECORD}").status_code == 503
        assert time.monotonic() - started < 5  # each answer is immediate: no wait for a connect timeout
        logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(logged) == 1, [(r.name, r.getMessage()) for r in logged]
        assert logged[0].name == "catalog.index" and logged[0].levelno == logging.ERROR
        assert "cannot be reached" in logged[0].getMessage() and not logged[0].exc_info

        primary.start()
        time.sleep(database.PRIMARY_RETRY_SECONDS)
        for path in JSON_READS + HTML_READS + OAI_READS:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        give_up = time.monotonic() + 5
        while client.get(f"/api/records/{EDITED}").get_json()["title"] != record["title"]:
            assert time.monotonic() < give_up, "the edit made during the outage was never applied"
            time.sleep(0.05)
        after = ledger_rows(url)
        assert after.keys() == ledger.keys()
        assert {k: v for k, v in after.items() if k != EDITED} == {k: v for k, v in ledger.items() if k != EDITED}
        assert all(row[-1] is None for row in after.values())  # deleted_at: no deletion recorded
        now = harvest(client)
        assert [h for h in now if not h[0].endswith(EDITED)] == [h for h in harvested if not h[0].endswith(EDITED)]
        assert not any(status for _, _, status in now)
    finally:
        app.extensions["catalog.index"].close()


def test_a_restart_of_the_database_between_requests_goes_unnoticed(own_cluster, records_dir, tmp_path, caplog):
    """Every pooled connection is broken by the restart: each is replaced and the request served."""
    primary = own_cluster.primary()
    url = primary.new_database()
    app = create_app(app_config(records_dir, tmp_path / "instance", CATALOG_DATABASE_URL=url))
    client = app.test_client()
    try:
        for path in JSON_READS + HTML_READS + OAI_READS:
            assert client.get(path).status_code == 200, path
        primary.stop_server("fast")
        primary.start()
        record = json.loads((records_dir / f"{EDITED}.json").read_text(encoding="utf-8"))
        record["title"] = "Written across a restart"
        write_record(records_dir, record)  # the refresh writes too (its lock, its pending moment)
        with caplog.at_level(logging.INFO):
            assert client.get(f"/api/records/{EDITED}").get_json()["title"] == record["title"]
            for path in JSON_READS + HTML_READS + OAI_READS:
                assert client.get(path).status_code == 200, path
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    finally:
        app.extensions["catalog.index"].close()


def test_a_server_started_while_the_database_is_down_answers_503_then_serves_once_it_is_up(
        own_cluster, records_dir, tmp_path, caplog):
    from catalog.index.postgres import database

    primary = own_cluster.primary()
    url = primary.new_database()  # a new database: its schema is made only once the server reaches it
    primary.stop_server("fast")
    with caplog.at_level(logging.INFO):
        app = create_app(app_config(records_dir, tmp_path / "instance", CATALOG_DATABASE_URL=url))
    client = app.test_client()
    try:
        logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(logged) == 1 and "cannot be reached" in logged[0].getMessage(), caplog.text
        started = time.monotonic()
        for path in JSON_READS + HTML_READS + OAI_READS:
            response = client.get(path)
            assert response.status_code == 503 and response.headers["Retry-After"] == "10", path
        assert time.monotonic() - started < 5
        primary.start()
        time.sleep(database.PRIMARY_RETRY_SECONDS)
        for path in JSON_READS + HTML_READS + OAI_READS:
            assert client.get(path).status_code == 200, path
        assert len(harvest(client)) == len(PUBLIC_IDS)
    finally:
        app.extensions["catalog.index"].close()
