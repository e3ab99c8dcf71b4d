"""The index's tables as SQL, versioned: derived tables (rebuilt at will) and durable ones (kept).

Derived from `records/` and dropped whenever `INDEX_VERSION` changes:
- `records`: the current valid version of each record (its compressed source and the columns views
  sort and filter on). A file that turns invalid keeps its last valid version here. The source is
  the last column: a row's other columns are read without walking the source's overflow pages.
- `facets`: (record, facet, value) rows, so facet counts are SQL `GROUP BY`s.
- `record_text`: FTS5 over title, people, provenance, body and notes, external-content: its text is
  read back from `records.source` through `record_text_source`, never stored twice.
- `manifests`: a public record's IIIF manifest as a template (`manifests.templates`), built by the
  parsing workers, so a first-time manifest is a read and not a layout of every page.
- `text_version`: an identity and a counter that moves with every row added to or removed from
  `records`: what the full-text mirror (`catalog.index.fulltext`) must mirror to be searched.

Durable, in a file of their own (`ledger.sqlite3`, attached as `durable`), never dropped:
- `ledger`: per id, the content hash and the OAI-PMH datestamp, and the deletion time;
- `generation`: a counter every refresh that changes what is served moves; caches key on it;
- `set_departures`: when a record left an OAI-PMH set (removed, restricted, moved to another
  collection), so a harvester of that set learns it is gone from it.

Beside the derived tables, rebuilt with them: `problems` (bad files), `scans` (when the last full
scan began), `faults` (what keeps the index from following the folder: a vanished folder...).

What "public" means is written once, here: the `public_records` view and its complement
`withheld_records`. Every read goes through one of them.
"""

from __future__ import annotations

INDEX_VERSION = 12

PUBLIC = "public = 1"
"""A record is public when it is open, or restricted with a release date that has passed."""

DERIVED_SCHEMA = f"""
CREATE TABLE records (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    document_type TEXT NOT NULL,
    date TEXT NOT NULL,
    date_as_printed TEXT,
    year INTEGER NOT NULL,
    creators TEXT NOT NULL,
    recipients TEXT NOT NULL,
    collection TEXT NOT NULL,
    collection_slug TEXT NOT NULL,
    repository TEXT NOT NULL,
    classification TEXT NOT NULL,
    file_number TEXT,
    summary TEXT,
    page_count INTEGER NOT NULL,
    access TEXT NOT NULL,
    release_date TEXT,
    public INTEGER NOT NULL,
    warnings TEXT,
    source BLOB NOT NULL
);
CREATE INDEX records_public_date ON records(public, date, id);
CREATE INDEX records_public_title ON records(public, title, id);
CREATE INDEX records_public_size ON records(public, size);
CREATE INDEX records_release ON records(public, release_date);
CREATE INDEX records_stamp ON records(path, mtime_ns, size, id);
CREATE VIEW public_records AS SELECT * FROM records WHERE {PUBLIC};
CREATE VIEW withheld_records AS SELECT * FROM records WHERE NOT ({PUBLIC});
CREATE TABLE facets (
    record_rowid INTEGER NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (facet, value, record_rowid)
) WITHOUT ROWID;
CREATE INDEX facets_record ON facets(record_rowid);
CREATE TABLE manifests (
    record_rowid INTEGER PRIMARY KEY,
    template BLOB NOT NULL
);
CREATE VIEW record_text_source AS
    SELECT rowid, record_text_column(source, 0) AS title, record_text_column(source, 1) AS people,
           record_text_column(source, 2) AS provenance, record_text_column(source, 3) AS body,
           record_text_column(source, 4) AS notes
    FROM records;
CREATE VIRTUAL TABLE record_text USING fts5(
    title, people, provenance, body, notes,
    content = 'record_text_source', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE text_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    identity TEXT NOT NULL,
    counter INTEGER NOT NULL
);
INSERT INTO text_version(id, identity, counter) VALUES (1, lower(hex(randomblob(8))), 0);
CREATE TRIGGER records_added AFTER INSERT ON records BEGIN UPDATE text_version SET counter = counter + 1; END;
CREATE TRIGGER records_removed AFTER DELETE ON records BEGIN
    UPDATE text_version SET counter = counter + 1;
    DELETE FROM manifests WHERE record_rowid = old.rowid;
END;
"""

DERIVED_TABLES = ("record_text", "facets", "manifests", "records", "text_version")
DERIVED_VIEWS = ("record_text_source", "public_records", "withheld_records")

SECONDARY_INDEXES = [(line.split()[2], line.rstrip(";")) for line in DERIVED_SCHEMA.splitlines()
                     if line.startswith("CREATE INDEX")]
"""(name, statement) of the indexes a cold build drops and makes again once at the end."""

DURABLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS durable.ledger (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    datestamp TEXT NOT NULL,
    public INTEGER NOT NULL,
    ever_public INTEGER NOT NULL,
    deleted_at TEXT
);
CREATE INDEX IF NOT EXISTS durable.ledger_datestamp ON ledger(datestamp, id);
CREATE TABLE IF NOT EXISTS durable.generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO durable.generation(id, value) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS durable.set_departures (
    id TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    left_at TEXT NOT NULL,
    PRIMARY KEY (id, facet, value)
);
CREATE INDEX IF NOT EXISTS durable.set_departures_walk ON set_departures(facet, value, left_at, id);
CREATE INDEX IF NOT EXISTS durable.set_departures_stamp ON set_departures(left_at);
"""

STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    kind TEXT PRIMARY KEY,
    started REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS problems (
    path TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    messages TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    kind TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    since TEXT NOT NULL
);
"""

LEDGER_COLUMNS = ("id", "content_hash", "datestamp", "public", "ever_public", "deleted_at")
