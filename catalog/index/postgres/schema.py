"""The PostgreSQL index's tables, versioned: derived ones (rebuilt), durable ones (migrated, never dropped).

Same split as the embedded index (`catalog.index.schema`): `records`, `facets` are derived from
`records/` and made anew whenever their version changes; `ledger`, `generation`, `set_departures`
hold the OAI-PMH state the server owns and are only ever migrated forward, step by step.

Text columns that lists sort or seek on use the "C" collation, so order is byte order exactly as in
SQLite, whatever the database's locale. Full text is one `tsvector` per column (title, people,
provenance, body, notes) built with the `catalog_text` configuration (`unaccent`, then `simple`), in
one multicolumn GIN index.
"""

from __future__ import annotations

from catalog.index.schema import INDEX_VERSION

DERIVED_VERSION = f"{INDEX_VERSION}.pg1"
"""Changes with the embedded index's version (what a record contributes) and with this file's tables."""

TEXT_CONFIG = "catalog_text"
TEXT_COLUMNS = ("title", "people", "provenance", "body", "notes")
VECTORS = tuple(f"{column}_tsv" for column in TEXT_COLUMNS)

WORD_TOKENS = ("asciiword", "asciihword", "hword_asciipart", "word", "hword", "hword_part",
               "numword", "numhword", "hword_numpart", "int", "uint", "float", "version", "sfloat")

TEXT_CONFIG_SQL = f"""
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{TEXT_CONFIG}') THEN
    CREATE TEXT SEARCH CONFIGURATION {TEXT_CONFIG} (COPY = simple);
    ALTER TEXT SEARCH CONFIGURATION {TEXT_CONFIG} ALTER MAPPING FOR {", ".join(WORD_TOKENS)} WITH unaccent, simple;
  END IF;
END $$;
"""

RECORDS_TABLES = f"""
CREATE TABLE records (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    mtime_ns BIGINT NOT NULL,
    size BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    source BYTEA NOT NULL,
    title TEXT COLLATE "C" NOT NULL,
    document_type TEXT NOT NULL,
    date TEXT COLLATE "C" NOT NULL,
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
    release_date TEXT COLLATE "C",
    public INTEGER NOT NULL,
    warnings TEXT,
    {", ".join(f"{vector} TSVECTOR NOT NULL" for vector in VECTORS)}
);
CREATE TABLE facets (
    record_rowid BIGINT NOT NULL,
    facet TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL
);
"""
"""`records` and `facets` as a bulk build fills them: only the rowid's key, so loading maintains no index."""

RECORDS_INDEXES: list[str] = [
    "ALTER TABLE records ADD CONSTRAINT records_id_key UNIQUE (id)",
    "CREATE INDEX records_public_date ON records(public, date, id)",
    "CREATE INDEX records_public_title ON records(public, title, id)",
    "CREATE INDEX records_release ON records(public, release_date)",
    "CREATE INDEX records_path ON records(path)",
    f"CREATE INDEX records_text ON records USING gin ({', '.join(VECTORS)})",
    "ALTER TABLE facets ADD CONSTRAINT facets_pkey PRIMARY KEY (facet, value, record_rowid)",
    ("ALTER TABLE facets ADD CONSTRAINT facets_record_rowid_fkey FOREIGN KEY (record_rowid) "
     "REFERENCES records(rowid) ON DELETE CASCADE"),
    "CREATE INDEX facets_record ON facets(record_rowid)",
]
"""Keys, constraints and indexes of `records` and `facets`: made with the tables, or after a bulk load."""

VIEWS = """
CREATE VIEW public_records AS SELECT * FROM records WHERE public = 1;
CREATE VIEW withheld_records AS SELECT * FROM records WHERE public <> 1;
"""

DERIVED_SCHEMA = RECORDS_TABLES + ";\n".join(RECORDS_INDEXES) + ";\n" + VIEWS + """
CREATE TABLE problems (
    path TEXT COLLATE "C" PRIMARY KEY,
    mtime_ns BIGINT NOT NULL,
    size BIGINT NOT NULL,
    messages TEXT NOT NULL
);
"""

DERIVED_DROP = "DROP VIEW IF EXISTS public_records, withheld_records; DROP TABLE IF EXISTS facets, records, problems;"

STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_versions (
    part TEXT PRIMARY KEY,
    version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scans (
    kind TEXT PRIMARY KEY,
    started DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS faults (
    kind TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_pending (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    moment TEXT
);
INSERT INTO refresh_pending(id, moment) VALUES (1, NULL) ON CONFLICT DO NOTHING;
"""

LEDGER_MIGRATIONS: list[str] = [
    """
    CREATE TABLE ledger (
        id TEXT COLLATE "C" PRIMARY KEY,
        content_hash TEXT NOT NULL,
        datestamp TEXT COLLATE "C" NOT NULL,
        public INTEGER NOT NULL,
        ever_public INTEGER NOT NULL,
        deleted_at TEXT COLLATE "C"
    );
    CREATE INDEX ledger_datestamp ON ledger(datestamp, id);
    CREATE TABLE generation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value BIGINT NOT NULL
    );
    INSERT INTO generation(id, value) VALUES (1, 0);
    CREATE TABLE set_departures (
        id TEXT COLLATE "C" NOT NULL,
        facet TEXT COLLATE "C" NOT NULL,
        value TEXT COLLATE "C" NOT NULL,
        left_at TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (id, facet, value)
    );
    CREATE INDEX set_departures_walk ON set_departures(facet, value, left_at, id);
    CREATE INDEX set_departures_stamp ON set_departures(left_at);
    """,
]
"""The ledger's schema as steps: step n takes version n to n + 1. Append; never edit a step or drop data."""
