"""The PostgreSQL index: the `CatalogIndex` protocol over a database several app servers share."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from catalog.cache import VersionedCache
from catalog.index import oai as oai_types
from catalog.index import search as neutral_search
from catalog.index.api import IndexUnavailable
from catalog.index.postgres import oai
from catalog.index.postgres import search
from catalog.index.postgres.changes import ChangeStream
from catalog.index.postgres.database import Database
from catalog.index.postgres.database import migrate
from catalog.index.postgres.reads import Reading
from catalog.index.postgres.refresh import Refreshing
from catalog.index.projection import decompress_source
from catalog.index.reads import _valid_id
from catalog.model import Record

ROW_CACHE_SIZE = 4096
"""Record rows (source included, about 3 kB each) kept per process until the generation moves."""


class PostgresIndex(Refreshing, Reading, ChangeStream):
    """Records and their index in PostgreSQL (`database_url`), read from `replica_url` when given.

    `instance_dir` keeps only what is this server's own (the OAI token key); `clock` as in the
    embedded index.
    """

    def __init__(self, records_dir: str | Path, instance_dir: str | Path, database_url: str,
                 replica_url: str = "", refresh_interval: float = 1.0, clock=None, cache_size: int | None = None):
        from catalog.index.sqlite import system_clock

        self.records_dir = Path(records_dir).resolve()
        self.instance_dir = Path(instance_dir)
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        self.refresh_interval = refresh_interval
        self.clock = clock or system_clock
        self.database = Database(database_url, replica_url)
        self.cache = VersionedCache(self.generation, *([cache_size] if cache_size else []))
        self.rows = VersionedCache(self.generation, ROW_CACHE_SIZE)
        self._seen_generation: tuple[int, float] | None = None
        self._refreshing = threading.Lock()
        self._closing = threading.Event()
        self._watcher_pid: int | None = None
        self._lock_conn = None
        self._remake = False
        self.write_failure: str | None = None
        self._migrated = False
        with contextlib.suppress(IndexUnavailable):  # start anyway: the outage is logged once by the
            self.ensure_schema()                    # database, and requests answer 503 until it is back

    def ensure_schema(self) -> None:
        """Migrate once per process, as soon as the primary answers (IndexUnavailable until then):
        a server started while its database is down serves 503s, then everything once it is up."""
        if not self._migrated:
            migrate(self.database)
            self._migrated = True

    def close(self) -> None:
        """Close this process's connections and stop its watcher (tests open many indexes)."""
        self._closing.set()
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn = None
        self.database.close()

    # -- browse and search ---------------------------------------------------------------------
    def search(self, filters: neutral_search.Filters, sort: str, page: int, per_page: int) -> neutral_search.Result:
        return search.search(self.database, self.cache, filters, sort, page, per_page)

    def facet_counts(self, filters: neutral_search.Filters) -> dict[str, list[tuple[str, int]]]:
        return search.facet_counts(self.database, self.cache, filters)

    # -- OAI-PMH ---------------------------------------------------------------------------------
    def _reading(self, work, snapshot: bool = True):
        return self.database.read(work, snapshot)

    def oai_earliest_datestamp(self) -> str | None:
        return self._reading(oai.earliest_datestamp)

    def oai_sample_id(self) -> str | None:
        return self._reading(oai.sample_id)

    def oai_sets(self) -> list[tuple[str, str]]:
        return self._reading(oai.list_sets)

    def oai_has_live_items(self) -> bool:
        return self.count() > 0

    def oai_resolve_set(self, spec: str) -> oai_types.SetFilter | None:
        return self._reading(lambda conn: oai.resolve_set(conn, spec))

    def oai_item(self, record_id: str) -> oai_types.Item | None:
        return self._reading(lambda conn: oai.get_item(conn, record_id)) if _valid_id(record_id) else None

    def oai_items(self, window: oai_types.Window, limit: int, with_source: bool) -> list[oai_types.Item]:
        return self._reading(lambda conn: oai.list_items(conn, window, limit, with_source),
                             snapshot=not oai.single_statement(window))

    def oai_count(self, window: oai_types.Window) -> int:
        return self.cache.get(("oai count", window), lambda: self._reading(lambda conn: oai.count_items(conn, window)))

    def oai_record(self, item: oai_types.Item) -> Record:
        """Parsed for one use, not cached: a harvest reads every record once (its metadata bytes are
        what is kept, `catalog.oai.fragments`), and caching them would fill each worker with a
        thousand parsed records and push out what pages reuse."""
        return Record.model_validate_json(decompress_source(item.row["source"]))
