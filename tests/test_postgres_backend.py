"""The PostgreSQL index answers as the embedded one does, and several app servers can share it.

Parity: two apps over the same copy of the fixture corpus, with the same clock, one on each backend,
must give the same lists, searches (phrases, prefixes, accents, fields, exclusions), facets, OAI-PMH
walks (with resumption tokens) and record reads. Behaviour (restricted records, last valid version,
live edits, schema versions) is checked on each backend in turn through the `backend` fixture.
"""

from __future__ import annotations

import json
import os
import time
from urllib.parse import quote

import pytest
import requests
from lxml import etree

from catalog.index.postgres import schema as pg_schema
from catalog.index.search import MARK_END
from catalog.index.search import MARK_START
from catalog.index.search import Filters
from catalog.query import parse
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import LiveServer
from tests.conftest import write_record

OAI = "{http://www.openarchives.org/OAI/2.0/}"
SECRET = "parity-token-secret"


@pytest.fixture
def twins(make_app, records_dir, clock, database_url):
    """Test clients of two apps over one records folder and one clock: SQLite and PostgreSQL."""
    common = {"CATALOG_CLOCK": clock, "CATALOG_OAI_TOKEN_SECRET": SECRET, "CATALOG_OAI_PAGE_SIZE": 2}
    sqlite = make_app(records_dir, **common)
    postgres = make_app(records_dir, CATALOG_DATABASE_URL=database_url,
                        CATALOG_INSTANCE_DIR=str(records_dir.parent / "instance-pg"), **common)
    yield sqlite.test_client(), postgres.test_client()
    postgres.extensions["catalog.index"].close()


def both(twins, url: str):
    """The JSON of `url` from each backend (both must answer 200)."""
    answers = []
    for client in twins:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        answers.append(response.get_json())
    return answers


def hits(answer: dict) -> list[str]:
    return [item["id"] for item in answer["items"]]


SEARCHES = ["molotov", "Molotóv", "MOLOTOV", '"Soviet Union"', '"union soviet"', "harri*", "sov* -stalin",
            'person:"Cordell Hull"', 'person:"Hull Cordell"', "title:telegram", "stalin OR truman",
            "740.0011 Moscow/10-3043", "marmalade", "zzzz-nothing", "Basra Molotov", "text:molotov"]


@pytest.mark.parametrize("q", SEARCHES)
def test_searches_find_the_same_records_in_the_same_order(twins, q):
    for sort in ("date", "title", "date-desc"):
        sqlite, postgres = both(twins, f"/search.json?q={quote(q)}&sort={sort}")
        assert postgres["total"] == sqlite["total"], q
        assert hits(postgres) == hits(sqlite), (q, sort)
        assert postgres["facets"] == sqlite["facets"], q
    sqlite, postgres = both(twins, f"/search.json?q={quote(q)}&sort=relevance")
    assert sorted(hits(postgres)) == sorted(hits(sqlite)), q


def test_the_searches_are_not_all_empty_or_all_everything(twins):
    totals = {q: both(twins, f"/search.json?q={quote(q)}")[1]["total"] for q in SEARCHES}
    assert totals["molotov"] == totals["Molotóv"] == totals["MOLOTOV"] > 0  # accents and case fold
    assert 0 < totals["harri*"] < len(PUBLIC_IDS)
    assert totals["marmalade"] == 0  # only the restricted record says it: never found
    assert totals['"union soviet"'] < totals['"Soviet Union"']  # a phrase is in order
    assert totals['person:"Hull Cordell"'] == totals['person:"Cordell Hull"'] == 1


def test_snippets_mark_the_words_searched_for(twins):
    index = twins[1].application.extensions["catalog.index"]
    for q, word in (("molotov", "molotov"), ("Molotóv", "molotov"), ("harri*", "harriman"),
                    ('"soviet union"', "soviet"), ('person:"Cordell Hull"', "hull")):
        rows = index.search(Filters(parse(q)), "relevance", 1, 10).rows
        assert rows
        for row in rows:
            assert f"{MARK_START}{word}" in row["snippet"].lower(), (q, row["snippet"])
            assert row["snippet"].count(MARK_START) == row["snippet"].count(MARK_END)


def test_snippets_come_from_the_index_marks():
    from catalog.index.postgres.search import _with_ellipses

    text = "one two three four"
    assert _with_ellipses(f"two {MARK_START}three{MARK_END}", text).startswith("…")
    assert not _with_ellipses(f"one {MARK_START}two{MARK_END} three four", text).startswith("…")


@pytest.mark.parametrize("url", ["/index.json", "/search.json?collection=Moscow%20Embassy%20Files",
                                 "/search.json?from=1944-01-01&to=1945-12-31&sort=date-desc",
                                 "/search.json?q=telegram&decade=1940s&type=telegram&sort=date", "/api/records?per_page=2&page=2",
                                 "/api/records", "/collections.json", "/people.json",
                                 "/collections/moscow-embassy-files.json"])
def test_browse_lists_and_collections_are_the_same(twins, url):
    sqlite, postgres = both(twins, url)
    for item in [*sqlite.get("items", []), *postgres.get("items", [])]:
        item.pop("snippet", None)  # each backend cuts its own (checked above)
    assert postgres == sqlite


def test_every_public_record_reads_the_same_and_the_restricted_one_is_404(twins):
    for record_id in PUBLIC_IDS:
        for path in (f"/api/records/{record_id}", f"/records/{record_id}.json"):
            sqlite, postgres = both(twins, path)
            assert postgres == sqlite
    for client in twins:
        assert client.get(f"/api/records/{RESTRICTED_ID}").status_code == 404
        assert client.get(f"/records/{RESTRICTED_ID}").status_code == 404


def oai_walk(client, **arguments) -> tuple[list[tuple], int]:
    """Every header of a ListIdentifiers/ListRecords walk, following resumption tokens; and the pages."""
    headers, pages = [], 0
    query = "&".join(f"{key}={quote(str(value))}" for key, value in arguments.items())
    while True:
        response = client.get(f"/oai?{query}")
        assert response.status_code == 200
        root = etree.fromstring(response.data)
        pages += 1
        for header in root.iter(f"{OAI}header"):
            headers.append((header.findtext(f"{OAI}identifier"), header.findtext(f"{OAI}datestamp"),
                            header.get("status"), tuple(s.text for s in header.findall(f"{OAI}setSpec"))))
        errors = [e.get("code") for e in root.iter(f"{OAI}error")]
        token = root.findtext(f".//{OAI}resumptionToken")
        if errors or not token:
            return headers + [("error", code) for code in errors], pages
        query = f"verb={arguments['verb']}&resumptionToken={quote(token)}"


@pytest.mark.parametrize("arguments", [
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "collection:moscow-embassy-files"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "decade"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "collection:no-such-set"},
])
def test_oai_walks_with_tokens_list_the_same_items(twins, arguments):
    (sqlite, sqlite_pages), (postgres, postgres_pages) = (oai_walk(client, **arguments) for client in twins)
    assert postgres == sqlite
    assert postgres_pages == sqlite_pages
    if "no-such" not in arguments.get("set", ""):
        assert sqlite
    if "set" not in arguments:
        assert sqlite_pages > 1


def test_oai_sets_identify_and_get_record_are_the_same(twins):
    for query in ("verb=ListSets", "verb=Identify", "verb=ListMetadataFormats",
                  f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:{PUBLIC_IDS[0]}",
                  f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:{RESTRICTED_ID}"):
        sqlite, postgres = (client.get(f"/oai?{query}").data for client in twins)
        assert postgres == sqlite, query


def test_an_edit_a_deletion_and_a_set_move_are_harvested_the_same(twins, records_dir, clock):
    edited = json.loads((records_dir / f"{PUBLIC_IDS[0]}.json").read_text(encoding="utf-8"))
    edited["title"] = "A quixotic title"
    edited["provenance"]["collection"]["name"] = "Moved Papers"
    clock.advance(60)
    write_record(records_dir, edited)
    (records_dir / f"{PUBLIC_IDS[1]}.json").unlink()
    for arguments in ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
                      {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "collection:moved-papers"}):
        (sqlite, _), (postgres, _) = (oai_walk(client, **arguments) for client in twins)
        assert postgres == sqlite
    sqlite, postgres = both(twins, "/search.json?q=quixotic")
    assert hits(postgres) == hits(sqlite) == [PUBLIC_IDS[0]]


# -- behaviour on each backend ---------------------------------------------------------------------

def app_on(backend, make_app, records_dir, **settings):
    """An app on `backend` (make_app puts the test's backend's settings in already)."""
    return make_app(records_dir, **settings)


@pytest.mark.both_backends
def test_a_file_turned_invalid_keeps_its_last_valid_version_served(backend, make_app, records_dir):
    client = app_on(backend, make_app, records_dir).test_client()
    record_id = PUBLIC_IDS[0]
    before = client.get(f"/api/records/{record_id}").get_json()
    (records_dir / f"{record_id}.json").write_text("{ not json", encoding="utf-8")
    assert client.get(f"/api/records/{record_id}").get_json() == before
    health = client.get("/api/health").get_json()
    served = [p for p in health["problems"] if p["path"] == f"records/{record_id}.json"]
    assert served and served[0]["serving_last_valid_version"] is True


@pytest.mark.both_backends
def test_a_live_edit_is_served_and_found_at_once(backend, make_app, records_dir):
    client = app_on(backend, make_app, records_dir).test_client()
    record = json.loads((records_dir / f"{PUBLIC_IDS[2]}.json").read_text(encoding="utf-8"))
    record["title"] = "Quixotic zeppelin dispatch"
    write_record(records_dir, record)
    assert client.get(f"/api/records/{PUBLIC_IDS[2]}").get_json()["title"] == "Quixotic zeppelin dispatch"
    assert hits(client.get("/search.json?q=zeppelin").get_json()) == [PUBLIC_IDS[2]]


@pytest.mark.both_backends
def test_a_restricted_record_is_released_on_its_date(backend, make_app, records_dir):
    import datetime as dt

    access = json.loads((records_dir / f"{RESTRICTED_ID}.json").read_text(encoding="utf-8"))["access"]
    release = dt.date.fromisoformat(access["release_date"])
    now = [dt.datetime.combine(release - dt.timedelta(days=1), dt.time(12, tzinfo=dt.UTC))]
    client = app_on(backend, make_app, records_dir, CATALOG_CLOCK=lambda: now[0]).test_client()
    assert client.get(f"/api/records/{RESTRICTED_ID}").status_code == 404
    assert client.get("/search.json?q=marmalade").get_json()["total"] == 0
    now[0] += dt.timedelta(days=2)
    assert client.get(f"/api/records/{RESTRICTED_ID}").status_code == 200
    assert hits(client.get("/search.json?q=marmalade").get_json()) == [RESTRICTED_ID]


# -- PostgreSQL only: schema versions, the ledger, the lock -----------------------------------------

def test_a_new_index_version_rebuilds_the_index_and_keeps_the_ledger(records_dir, tmp_path, database_url, clock):
    import psycopg

    from catalog.index.postgres import PostgresIndex

    index = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0, clock=clock)
    index.refresh()
    stamps = {record_id: index.datestamp(record_id) for record_id in PUBLIC_IDS}
    index.close()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_versions SET version = 'old' WHERE part = 'index'")
        conn.execute("INSERT INTO problems(path, mtime_ns, size, messages) VALUES ('gone.json', 1, 1, '[]')")
    clock.advance(3600)
    index = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0, clock=clock)
    try:
        assert index.count() == 0  # made anew: nothing indexed until the first refresh
        assert index.problems() == []
        index.refresh()
        assert index.count() == len(PUBLIC_IDS)
        assert {record_id: index.datestamp(record_id) for record_id in PUBLIC_IDS} == stamps  # ledger kept
        with psycopg.connect(database_url) as conn:
            versions = dict(conn.execute("SELECT part, version FROM schema_versions").fetchall())
        assert versions == {"index": pg_schema.DERIVED_VERSION, "ledger": str(len(pg_schema.LEDGER_MIGRATIONS))}
    finally:
        index.close()


def test_only_one_process_refreshes_at_a_time_and_a_dead_holder_frees_the_lock(records_dir, tmp_path, database_url):
    import psycopg

    from catalog.index.postgres import PostgresIndex
    from catalog.index.postgres.database import REFRESH_LOCK

    index = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0)
    try:
        holder = psycopg.connect(database_url, autocommit=True)  # another server, refreshing
        holder.execute("SELECT pg_advisory_lock(%s)", (REFRESH_LOCK,))
        assert index.refresh(blocking=False).skipped
        assert index.count() == 0
        holder.close()  # the holder dies: its session, and so its lock, ends (as the server notices)
        give_up = time.monotonic() + 5
        while (result := index.refresh(blocking=False)).skipped and time.monotonic() < give_up:
            time.sleep(0.05)
        assert not result.skipped and result.added == len(PUBLIC_IDS) + 1
        assert index.count() == len(PUBLIC_IDS)
    finally:
        index.close()


def test_readers_see_a_refresh_whole_or_not_at_all(records_dir, tmp_path, database_url):
    from catalog.index.postgres import PostgresIndex

    index = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0)
    try:
        index.refresh()
        with index.database.reading() as snapshot:  # a reader's snapshot, open across the refresh
            before = snapshot.execute("SELECT COUNT(*) AS n FROM public_records").fetchone()["n"]
            for record_id in PUBLIC_IDS[:3]:
                (records_dir / f"{record_id}.json").unlink()
            assert index.refresh().removed == 3  # not blocked by the open reader
            assert snapshot.execute("SELECT COUNT(*) AS n FROM public_records").fetchone()["n"] == before
        assert index.count() == before - 3
    finally:
        index.close()


def test_search_terms_become_tsqueries():
    from catalog.index.postgres.textsearch import term_query

    phrase, prefix, person = (parse(q).groups[0][0] for q in ('"soviet union"', "harri*", 'person:"cordell hull"'))
    assert term_query(phrase) == "'soviet' <-> 'union'"
    assert term_query(prefix) == "'harri':*"
    assert "'cordell' <1> 'hull'" in term_query(person) and "'hull' <3> 'cordell'" in term_query(person)


def test_the_index_api_gives_the_same_filters_results(records_dir, tmp_path, database_url, clock):
    from catalog.index import SQLiteIndex
    from catalog.index.postgres import PostgresIndex

    sqlite = SQLiteIndex(records_dir, tmp_path / "sqlite", refresh_interval=0, clock=clock)  # one clock: the
    postgres = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0, clock=clock)  # same stamps
    try:
        sqlite.refresh()
        postgres.refresh()
        for filters in (Filters(parse("molotov")), Filters(selected=(("type", "telegram"),)),
                        Filters(parse("soviet"), date_from="1945-01-01")):
            assert [r["id"] for r in postgres.search(filters, "date", 1, 50).rows] == \
                   [r["id"] for r in sqlite.search(filters, "date", 1, 50).rows]
            assert postgres.facet_counts(filters) == sqlite.facet_counts(filters)
        assert postgres.sitemap_entries(0, 50) == sqlite.sitemap_entries(0, 50)
        assert postgres.changes(0, 100) == sqlite.changes(0, 100)
        assert postgres.change_count() == sqlite.change_count()
        assert postgres.oai_sets() == sqlite.oai_sets()
    finally:
        postgres.close()


# -- several app servers, one database -------------------------------------------------------------

@pytest.mark.slow
def test_two_servers_on_one_database_both_serve_an_edit_within_two_seconds(records_dir, tmp_path, database_url):
    env = {"CATALOG_DATABASE_URL": database_url, "CATALOG_OAI_TOKEN_SECRET": SECRET}
    servers = [LiveServer(records_dir, tmp_path / f"instance-{n}", **env) for n in (1, 2)]
    try:
        record_id = PUBLIC_IDS[0]
        for server in servers:
            assert requests.get(f"{server.url}/api/records/{record_id}", timeout=10).status_code == 200
        record = json.loads((records_dir / f"{record_id}.json").read_text(encoding="utf-8"))
        record["title"] = "An edit both servers serve"
        write_record(records_dir, record)
        written = time.monotonic()
        seen: dict[str, float] = {}
        while len(seen) < len(servers) and time.monotonic() - written < 10:
            for server in servers:
                if server.url not in seen:
                    body = requests.get(f"{server.url}/api/records/{record_id}", timeout=10).json()
                    if body["title"] == "An edit both servers serve":
                        seen[server.url] = time.monotonic() - written
            time.sleep(0.05)
        assert len(seen) == len(servers), [server.stderr() for server in servers]
        assert max(seen.values()) < 2.0, seen
        totals = [requests.get(f"{s.url}/search.json?q=edit", timeout=10).json()["total"] for s in servers]
        assert totals[0] == totals[1] >= 1
        assert os.environ.get("CATALOG_DATABASE_URL") is None  # the servers had it, this process did not
    finally:
        for server in servers:
            server.stop()


def test_closing_an_index_ends_its_connections(records_dir, tmp_path, database_url):
    import psycopg

    from catalog.index.postgres import PostgresIndex

    index = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0)
    index.refresh()
    assert index.count() == len(PUBLIC_IDS)
    name = database_url.rsplit("/", 1)[1]

    def connections() -> int:
        with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres") as conn:
            return conn.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]

    assert connections() >= 2  # the reading pool and the refresh lock's connection
    index.close()
    give_up = time.monotonic() + 5
    while connections() and time.monotonic() < give_up:
        time.sleep(0.05)
    assert connections() == 0


def test_person_pages_are_the_same(twins):
    """The person page's candidates come from each backend's own full-text index."""
    everyone, _ = both(twins, "/people.json")
    slugs = [person["slug"] for person in everyone["items"]]
    assert len(slugs) > 5
    for slug in slugs:
        sqlite, postgres = both(twins, f"/people/{slug}.json")
        assert sqlite == postgres, slug
