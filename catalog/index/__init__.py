"""The index: derived from `records/`, rebuildable, with the durable OAI ledger beside it.

- `schema`: the tables as SQL, versioned; the one definition of "public".
- `projection`: what a record contributes (columns, facets, full text), from `catalog.facts`.
- `refresh` and `watch`: keeping the index in line with the folder.
- `ledger`: OAI-PMH datestamps and deletions, which survive rebuilds.
- `reads`, `search`, `oai`: the read API every surface uses; `api` states it as a protocol.
- `sqlite`: the embedded backend that puts these together.
- `postgres`: the same protocol on PostgreSQL, shared by several app servers (`CATALOG_DATABASE_URL`).
"""

from __future__ import annotations

from catalog.index.refresh import RefreshResult
from catalog.index.sqlite import SQLiteIndex
from catalog.index.sqlite import system_clock

__all__ = ["RefreshResult", "SQLiteIndex", "open_index", "system_clock"]


def open_index(records_dir, instance_dir, refresh_interval: float = 1.0, clock=system_clock,
               database_url: str = "", replica_url: str = "", fulltext: str = "tantivy"):
    """The index for these folders: the embedded SQLite one, or PostgreSQL when `database_url` is
    given (psycopg is imported only then)."""
    if database_url:
        from catalog.index.postgres import PostgresIndex

        return PostgresIndex(records_dir, instance_dir, database_url, replica_url or "", refresh_interval, clock)
    return SQLiteIndex(records_dir, instance_dir, refresh_interval, clock, fulltext=fulltext)
