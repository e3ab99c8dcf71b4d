"""A cold build in bulk: every record of an empty index loaded with COPY, its indexes made once at the end.

Used when the index holds no record (the first build, or tables made anew for a new schema version).
The rows go into fresh tables in a schema of their own (`catalog_build`), so no lock is taken on the
tables readers use until the very end: then, in the same transaction, the fresh tables take the
empty ones' place (a moment's exclusive lock) and the caller goes on to the ledger and COMMIT.
Readers see the empty index until the build commits, then all of it.

Rows arrive in batches as the parsing pool finishes them: each batch is copied into a staging table
and moved into `records`, while the pool parses the next files. The pool gives most `tsvector`s
ready-made (`textsearch.tsvector_literal`: the server's parser is the slowest part of a build); the
server parses only texts with words beyond ASCII. Keys, indexes (the GIN last) and the facets' foreign key are made after loading, then the
tables are analysed, so the first queries after a build are planned on their statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable

from psycopg import sql

from catalog.index.ledger import PENDING
from catalog.index.oai import SET_FACETS
from catalog.index.postgres import schema
from catalog.index.projection import PreparedFile

BUILD_SCHEMA = "catalog_build"
BATCH = 500
"""Records per COPY: the server turns one batch into rows while the pool parses the next."""

TEXTS = tuple(f"{column}_text" for column in schema.TEXT_COLUMNS)
STAGED_VECTORS = tuple(f"{column}_vector" for column in schema.TEXT_COLUMNS)


def build(conn, entries: Iterable[PreparedFile], columns: tuple[str, ...],
          row: Callable[[PreparedFile], list], bad: Callable[[PreparedFile], None]) -> int:
    """Load the valid `entries` into fresh tables and put them in the (empty) index's place, inside the
    caller's transaction; `row(entry)` gives an entry's `columns` values, then its five indexed texts,
    then its five tsvectors as input text (a text is needed only where its vector is None, and the
    server parses it), `bad(entry)` records a file with problems. Returns how many records were loaded."""
    live = conn.execute("SELECT current_schema() AS s").fetchone()["s"]
    search_path = conn.execute("SHOW search_path").fetchone()["search_path"]
    conn.execute(f"DROP SCHEMA IF EXISTS {BUILD_SCHEMA} CASCADE")
    conn.execute(f"CREATE SCHEMA {BUILD_SCHEMA}")
    conn.execute(f"SET LOCAL search_path = {BUILD_SCHEMA}, {search_path}")
    conn.execute(schema.RECORDS_TABLES)
    extra = [f"NULL::text AS {name}" for name in TEXTS] + [f"NULL::tsvector AS {name}" for name in STAGED_VECTORS]
    conn.execute(f"CREATE TEMP TABLE staged ON COMMIT DROP AS SELECT {', '.join(columns)}, {', '.join(extra)} "
                 "FROM records WITH NO DATA")
    loaded = 0
    batch: list[PreparedFile] = []
    for entry in entries:
        if entry.problems:
            bad(entry)
            continue
        batch.append(entry)
        if len(batch) >= BATCH:
            loaded += _load(conn, batch, columns, row)
            batch = []
    if batch:
        loaded += _load(conn, batch, columns, row)
    for statement in schema.RECORDS_INDEXES:
        conn.execute(statement)
    conn.execute("ANALYZE records, facets")
    target = sql.Identifier(live)
    conn.execute(sql.SQL("DROP VIEW {live}.public_records, {live}.withheld_records; "
                         "DROP TABLE {live}.facets, {live}.records").format(live=target))
    conn.execute(sql.SQL("ALTER TABLE records SET SCHEMA {live}; ALTER TABLE facets SET SCHEMA {live}")
                 .format(live=target))
    conn.execute(f"SET LOCAL search_path = {search_path}")
    conn.execute(schema.VIEWS)
    conn.execute(f"DROP SCHEMA {BUILD_SCHEMA}")
    _ledger(conn)
    return loaded


def _load(conn, batch: list[PreparedFile], columns: tuple[str, ...], row: Callable[[PreparedFile], list]) -> int:
    """One batch: COPY into the staging table, then into `records` (vectors made by the server) and
    the facets, by the rowids the records were given."""
    with conn.cursor().copy(f"COPY staged ({', '.join(columns)}, {', '.join(TEXTS)}, {', '.join(STAGED_VECTORS)}) "
                            "FROM STDIN") as copy:
        for entry in batch:
            copy.write_row(row(entry))
    vectors = ", ".join(f"COALESCE({vector}, to_tsvector('{schema.TEXT_CONFIG}', {text}))"
                        for text, vector in zip(TEXTS, STAGED_VECTORS))
    rowids = {found["id"]: found["rowid"] for found in conn.execute(
        f"INSERT INTO records({', '.join(columns)}, {', '.join(schema.VECTORS)}) "
        f"SELECT {', '.join(columns)}, {vectors} FROM staged ORDER BY path RETURNING id, rowid")}
    with conn.cursor().copy("COPY facets (record_rowid, facet, value) FROM STDIN") as copy:
        for entry in batch:
            rowid = rowids[entry.record_id]
            for facet, value in entry.facets:
                copy.write_row((rowid, facet, value))
    conn.execute("TRUNCATE staged")
    return len(batch)


def _ledger(conn) -> None:
    """What `ledger.record_seen` and `ledger.record_set_moves` do for each added record, for all at once:
    a datestamp moves only where the content, visibility or existence changed, and a public record's
    sets are no longer ones it left."""
    conn.execute(
        "INSERT INTO ledger(id, content_hash, datestamp, public, ever_public, deleted_at) "
        "SELECT id, content_hash, %s, public, public, NULL FROM records "
        "ON CONFLICT (id) DO UPDATE SET content_hash = EXCLUDED.content_hash, "
        "datestamp = EXCLUDED.datestamp, public = EXCLUDED.public, "
        "ever_public = GREATEST(ledger.ever_public, EXCLUDED.ever_public), deleted_at = NULL "
        "WHERE ledger.content_hash <> EXCLUDED.content_hash OR ledger.public <> EXCLUDED.public "
        "OR ledger.deleted_at IS NOT NULL", (PENDING,))
    conn.execute("DELETE FROM set_departures d USING facets f JOIN records r ON r.rowid = f.record_rowid "
                 "WHERE r.public = 1 AND f.facet = ANY(%s) AND d.id = r.id AND d.facet = f.facet "
                 "AND d.value = f.value", (list(SET_FACETS),))
    conn.execute("ANALYZE ledger, set_departures")  # as many rows as records now: OAI-PMH lists plan on it
