"""Read replicas, for real: a primary, a streaming standby made with `pg_basebackup -R`, and an app
reading from the standby (`CATALOG_DATABASE_REPLICA_URL`) while it refreshes on the primary.

The standby is then stopped: every page and API read still answers, from the primary, and one
warning says so; started again, it serves the reads again once its retry interval has passed.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from catalog import create_app
from tests.conftest import PUBLIC_IDS
from tests.conftest import app_config
from tests.conftest import write_record

RECORD = PUBLIC_IDS[0]
READS = ["/", "/index.json", "/search?q=molotov", "/search.json?q=molotov&sort=relevance", f"/records/{RECORD}",
         f"/records/{RECORD}.json", f"/records/{RECORD}.dc.xml", "/api/records", f"/api/records/{RECORD}",
         "/collections", "/collections.json", "/people.json", f"/iiif/{RECORD}/manifest", "/iiif/discovery",
         "/sitemap.xml", "/api/health", "/oai?verb=Identify", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc",
         f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:{RECORD}"]


def sql(url: str, query: str, args=()):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, args).fetchone()[0]


def connections(cluster, database: str, application: str) -> int:
    """The app's connections of one pool (named by application_name) on a server."""
    return sql(cluster.url, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
               (database, application))


def wait_for_replay(primary_url: str, standby_url: str, within: float = 5.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    lsn = sql(primary_url, "SELECT pg_current_wal_lsn()::text")
    give_up = time.monotonic() + within
    while not sql(standby_url, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)):
        assert time.monotonic() < give_up, "the standby did not catch up"
        time.sleep(0.02)


@pytest.fixture
def replicated(own_cluster, records_dir, tmp_path):
    """(app, primary, standby, database name): an app on a primary and its streaming standby."""
    primary = own_cluster.primary()
    standby = own_cluster.standby(primary)
    url = primary.new_database()
    name = url.rsplit("/", 1)[1]
    replica_url = standby.database_url(name)
    app = create_app(app_config(records_dir, tmp_path / "instance", CATALOG_DATABASE_URL=url,
                                CATALOG_DATABASE_REPLICA_URL=replica_url))
    wait_for_replay(url, replica_url)
    yield app, primary, standby, name
    app.extensions["catalog.index"].close()


def test_reads_are_served_by_the_standby_and_changes_on_the_primary_show_through_it(replicated, records_dir):
    app, primary, standby, name = replicated
    client = app.test_client()
    index = app.extensions["catalog.index"]
    for url in READS:
        assert client.get(url).status_code == 200, url
    assert index.database.read(lambda conn: conn.execute("SELECT pg_is_in_recovery() AS r").fetchone()["r"])
    assert connections(standby, name, "catalog-replica") >= 1
    assert connections(primary, name, "catalog-reader") == 0  # no read went to the primary

    record = json.loads((records_dir / f"{RECORD}.json").read_text(encoding="utf-8"))
    record["title"] = "Quixotic replicated dispatch"
    write_record(records_dir, record)
    give_up = time.monotonic() + 5
    while client.get(f"/api/records/{RECORD}").get_json()["title"] != record["title"]:
        assert time.monotonic() < give_up, "the edit made on the primary never showed through the standby"
        time.sleep(0.05)
    assert [item["id"] for item in client.get("/search.json?q=quixotic").get_json()["items"]] == [RECORD]
    assert connections(primary, name, "catalog-reader") == 0


def test_with_the_standby_stopped_every_read_answers_from_the_primary_and_says_so_once(
        replicated, caplog, monkeypatch):
    from catalog.index.postgres import database

    app, primary, standby, name = replicated
    client = app.test_client()
    for url in READS:  # the replica pool holds connections the standby's stop will break
        assert client.get(url).status_code == 200, url
    standby.stop_server("fast")
    caplog.clear()
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="catalog.index"):
        for url in READS:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:300])
    assert time.monotonic() - started < 5  # no request waits for the standby's connect timeout
    warned = [r for r in caplog.records if r.name == "catalog.index" and r.levelno >= logging.WARNING]
    assert len(warned) == 1, [r.getMessage() for r in warned]
    assert "replica" in warned[0].getMessage() and "primary" in warned[0].getMessage()
    assert not warned[0].exc_info  # one line, no traceback
    assert connections(primary, name, "catalog-reader") >= 1

    monkeypatch.setattr(database, "REPLICA_RETRY_SECONDS", 0.3)
    standby.start()
    time.sleep(0.4)
    assert client.get("/search.json?q=molotov").status_code == 200
    assert connections(standby, name, "catalog-replica") >= 1  # back on the standby
    index = app.extensions["catalog.index"]
    assert index.database.read(lambda conn: conn.execute("SELECT pg_is_in_recovery() AS r").fetchone()["r"])
