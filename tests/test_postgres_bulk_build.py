"""A cold build on PostgreSQL goes in bulk (COPY, indexes made after loading, ready-made tsvectors) and
gives exactly the index that adding the records one at a time gives; readers are not blocked by it and
see none of it until it commits; a build that fails leaves nothing behind.
"""

from __future__ import annotations

import threading
import time

import pytest

from catalog.query import tokens
from tests.conftest import PUBLIC_IDS

TRICKY = [
    "1e5 e10 1e 12e 1e05 0x1f 00012 1 2 3 abc123 123abc a1b2c3 x nan inf infinity 1e999 1.5",
    "word " * 300,  # more positions than a lexeme keeps
    " ".join(f"w{n % 50}" for n in range(20000)),  # positions past the last one kept
    " ".join(["zz"] * 17000),
    " ".join(f"u{n}" for n in range(17000)) + " tail tail",
    "Straße STRASSE ss ß Æsir Œuvre",  # folded to ASCII by casefold, or not
    "Molotóv Вячеслав 東京 naïve café",
    "a" * 3000 + " b",  # a word longer than the parser indexes
    "O'Brien's \\ back\\slash 'quoted' \"double\"",
    "",
]


def test_ready_made_tsvectors_are_what_the_server_makes(database_url, records_dir, tmp_path):
    import psycopg

    from catalog.index.postgres import PostgresIndex
    from catalog.index.postgres.textsearch import tsvector_literal
    from catalog.index.projection import prepare_file

    PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0).close()  # the text config
    texts = list(TRICKY)
    for path in sorted(records_dir.glob("*.json")):
        texts += prepare_file(str(records_dir), path.name, (0, 0), "2000-01-01").texts
    made = 0
    with psycopg.connect(database_url) as conn:
        for text in texts:
            words = tokens(text)
            literal = tsvector_literal(words)
            server = conn.execute("SELECT to_tsvector('catalog_text', %s)::text", (" ".join(words),)).fetchone()[0]
            if literal is None:  # the server parses it: only words beyond ASCII, or too long
                assert any(not word.isascii() or len(word) >= 2047 for word in words), text[:60]
                continue
            made += 1
            assert conn.execute("SELECT %s::tsvector::text", (literal,)).fetchone()[0] == server, text[:60]
    assert made > 10


def index_state(url: str) -> dict:
    """Everything a build leaves in the database, by record id (not rowid)."""
    import psycopg

    with psycopg.connect(url) as conn:
        def rows(query):
            return sorted(tuple(row) for row in conn.execute(query))
        columns = [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'records' "
            "AND table_schema = current_schema() AND column_name <> 'rowid' ORDER BY ordinal_position")]
        return {
            "records": rows(f"SELECT {', '.join(f'{c}::text' for c in columns)} FROM records"),
            "facets": rows("SELECT r.id, f.facet, f.value FROM facets f JOIN records r ON r.rowid = f.record_rowid"),
            "ledger": rows("SELECT * FROM ledger"),
            "departures": rows("SELECT * FROM set_departures"),
            "problems": rows("SELECT path, messages FROM problems"),
            "indexes": rows("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                            "AND tablename IN ('records', 'facets', 'problems')"),
            "constraints": rows("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                "WHERE conrelid IN ('records'::regclass, 'facets'::regclass)"),
            "views": rows("SELECT viewname, definition FROM pg_views WHERE schemaname = current_schema()"),
            "schemas": rows("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'catalog%'"),
            "generation": rows("SELECT value FROM generation"),
        }


def test_a_cold_build_in_bulk_gives_the_index_records_added_one_at_a_time_give(postgres_cluster, records_dir,
                                                                                 tmp_path, clock):
    from catalog.index.postgres import PostgresIndex
    from catalog.index.postgres.database import close_all

    (records_dir / "broken.json").write_text("{ not json", encoding="utf-8")
    urls = [postgres_cluster.new_database() for _ in range(2)]
    first = min(p.name for p in records_dir.glob("*.json"))
    try:
        bulk = PostgresIndex(records_dir, tmp_path / "bulk", urls[0], refresh_interval=0, clock=clock)
        result = bulk.refresh()
        assert (result.added, result.invalid) == (len(PUBLIC_IDS) + 1, 1)

        one_by_one = PostgresIndex(records_dir, tmp_path / "rows", urls[1], refresh_interval=0, clock=clock)
        assert one_by_one.refresh(only={first}).added == 1  # the index is not empty any more: the rest row by row
        one_by_one.refresh()
        built, added = index_state(urls[0]), index_state(urls[1])
        assert built["generation"] != added["generation"]  # one refresh against two
        del built["generation"], added["generation"]
        assert built == added
        assert built["schemas"] == []  # no build schema left behind
    finally:
        close_all(urls[0])
        close_all(urls[1])


def test_readers_are_not_blocked_by_a_cold_build_and_see_it_only_whole(database_url, records_dir, tmp_path,
                                                                        monkeypatch):
    from catalog.index.postgres import PostgresIndex
    from catalog.index.postgres import bulk

    loaded_one, go_on = threading.Event(), threading.Event()
    load = bulk._load

    def slow_load(*args):
        done = load(*args)
        loaded_one.set()
        assert go_on.wait(10)
        return done

    monkeypatch.setattr(bulk, "BATCH", 2)
    monkeypatch.setattr(bulk, "_load", slow_load)
    builder = PostgresIndex(records_dir, tmp_path / "builder", database_url, refresh_interval=0)
    reader = PostgresIndex(records_dir, tmp_path / "reader", database_url, refresh_interval=0)  # another server
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("result", builder.refresh()))
    try:
        thread.start()
        assert loaded_one.wait(10)
        started = time.monotonic()
        assert reader.count() == 0
        assert reader.record(PUBLIC_IDS[0]) is None
        assert reader.summaries(0, 10) == []
        assert time.monotonic() - started < 2  # not waiting for the build's transaction
        go_on.set()
        thread.join(20)
        assert outcome["result"].added == len(PUBLIC_IDS) + 1
        reader._seen_generation = None
        assert reader.count() == len(PUBLIC_IDS)
        assert reader.record(PUBLIC_IDS[0]) is not None
    finally:
        go_on.set()
        thread.join(20)
        builder.close()
        reader.close()


def test_a_cold_build_that_fails_leaves_the_index_and_the_ledger_as_they_were(database_url, records_dir, tmp_path,
                                                                              monkeypatch, clock):
    import psycopg

    from catalog.index.postgres import PostgresIndex
    from catalog.index.postgres import bulk

    index = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0, clock=clock)
    try:
        index.refresh()
        ledger = index_state(database_url)["ledger"]
        with psycopg.connect(database_url, autocommit=True) as conn:  # the index made anew, the ledger kept
            conn.execute("UPDATE schema_versions SET version = 'old' WHERE part = 'index'")
        index.close()
        index = PostgresIndex(records_dir, tmp_path / "pg", database_url, refresh_interval=0, clock=clock)
        assert index.count() == 0

        def failing(conn, batch, *rest):
            raise OSError("the disk went away")

        monkeypatch.setattr(bulk, "BATCH", 2)
        monkeypatch.setattr(bulk, "_load", failing)
        clock.advance(60)
        with pytest.raises(OSError):
            index.refresh()
        state = index_state(database_url)
        assert state["ledger"] == ledger and state["records"] == [] and state["schemas"] == []
        monkeypatch.undo()
        assert index.refresh().added == len(PUBLIC_IDS) + 1
        assert index_state(database_url)["ledger"] == ledger  # nothing changed: no datestamp moved
    finally:
        index.close()
