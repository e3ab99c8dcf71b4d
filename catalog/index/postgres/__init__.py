"""The index on PostgreSQL, for catalogs that outgrow one machine: several app servers, one database.

Selected by `CATALOG_DATABASE_URL=postgresql://...` (the embedded SQLite index stays the default).
It keeps the embedded index's guarantees with the database's own means:
- `schema`: derived tables (rebuilt when their version changes) and the durable ledger (migrated
  step by step, never dropped);
- `database`: pools (reads on snapshots, from a replica when one is named, the primary when it is
  not reachable; `IndexUnavailable`, a 503, when neither is), the schema's migration;
- `refresh`: one server at a time (an advisory lock), one transaction per refresh;
- `bulk`: a cold build with COPY into fresh tables, indexed after loading, swapped in at the end;
- `reads`, `search`, `textsearch`, `oai`, `changes`: the read API (`catalog.index.api`);
- `index`: `PostgresIndex`, which puts them together.

The folder scan, the projection of a record into rows, validation and the search box's parser are
the embedded index's, imported as they are.
"""

from __future__ import annotations

from catalog.index.postgres.index import PostgresIndex

__all__ = ["PostgresIndex"]
