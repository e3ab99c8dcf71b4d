"""The embedded index: SQLite files in the instance folder, shared by every worker process.

`index.sqlite3` holds what is derived from `records/` and can be rebuilt at any time;
`ledger.sqlite3` (attached as `durable`) holds the OAI-PMH ledger, the one state the server owns.
Deleting or rebuilding the index never touches the ledger; back it up (`catalog ledger export`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from catalog.cache import VersionedCache
from catalog.index.fulltext import Mirror
from catalog.index.processes import file_inode
from catalog.index.processes import process_alive
from catalog.index.projection import record_text_column
from catalog.index.reads import Reading
from catalog.index.refresh import Refreshing
from catalog.index.refresh import is_corruption
from catalog.index.schema import DERIVED_SCHEMA
from catalog.index.schema import DERIVED_TABLES
from catalog.index.schema import DERIVED_VIEWS
from catalog.index.schema import DURABLE_SCHEMA
from catalog.index.schema import INDEX_VERSION
from catalog.index.schema import LEDGER_COLUMNS
from catalog.index.schema import STATE_SCHEMA

log = logging.getLogger("catalog.index")

Clock = Callable[[], dt.datetime]

INODE_CHECK_SECONDS = 1.0
"""How often a thread checks that the index file is still the one it has open (a heal replaces it)."""

PAGE_CACHE_KIB = 4096
"""SQLite's page cache per connection (two a worker): the full-text index's hot pages between searches, within
the 150 MB a worker may use."""

FULLTEXT_ENGINES = ("tantivy", "fts5")
"""What answers searches: the tantivy mirror (FTS5 while it is behind), or FTS5 alone."""

REBUILDING = "index.rebuilding"
"""Marker file (holding the healer's pid) while a corrupted index is being built anew."""


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SQLiteIndex(Refreshing, Reading):
    """Records and their index. Thread-safe: one SQLite connection per thread (and per process).

    `clock` gives the current time for datestamps and release dates; tests pass their own, so they
    move time instead of sleeping.
    """

    def __init__(self, records_dir: str | Path, instance_dir: str | Path, refresh_interval: float = 1.0,
                 clock: Clock = system_clock, cache_size: int | None = None, fulltext: str = "tantivy"):
        self.records_dir = Path(records_dir).resolve()
        self.instance_dir = Path(instance_dir)
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        self.index_path = self.instance_dir / "index.sqlite3"
        self.ledger_path = self.instance_dir / "ledger.sqlite3"
        self.refresh_interval = refresh_interval
        self.clock = clock
        if fulltext not in FULLTEXT_ENGINES:
            raise ValueError(f"unknown full-text engine {fulltext!r}: use one of {', '.join(FULLTEXT_ENGINES)}")
        self.fulltext = Mirror(self.instance_dir, enabled=fulltext == "tantivy")
        self.cache = VersionedCache(self.generation, *([cache_size] if cache_size else []))
        self._local = threading.local()
        self._watcher_pid: int | None = None
        self._healing = threading.Lock()
        self._departed = True  # whether set departures exist (a cold build skips forgetting them if not)
        self.write_failure: str | None = None
        """Why the last refresh in this process could not write the index (a full disk), if it failed."""
        try:
            self._migrate()
        except sqlite3.DatabaseError as error:
            if not is_corruption(error):
                raise
            self.heal(error)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection, opened anew when the index file was replaced (after a heal)."""
        return self._connection("main")

    @property
    def search_db(self) -> sqlite3.Connection:
        """This thread's connection for searches: its temporary tables keep a search's matches
        (`catalog.index.hits`), so searching writes nothing through `db`."""
        return self._connection("search")

    def _connection(self, slot: str) -> sqlite3.Connection:
        opened = getattr(self._local, slot, None)
        if opened is not None and opened["pid"] == os.getpid():
            now = time.monotonic()
            if now - opened["checked"] < INODE_CHECK_SECONDS:
                return opened["conn"]
            opened["checked"] = now
            if opened["inode"] == file_inode(self.index_path):
                return opened["conn"]
        if opened is not None:
            with contextlib.suppress(sqlite3.Error):
                opened["conn"].close()
        conn = sqlite3.connect(self.index_path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.create_function("record_text_column", 2, record_text_column, deterministic=True)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        conn.execute("ATTACH DATABASE ? AS durable", (str(self.ledger_path),))
        conn.execute("PRAGMA durable.journal_mode=WAL")
        conn.execute("PRAGMA durable.synchronous=FULL")  # the ledger is what must survive a crash
        setattr(self._local, slot, {"conn": conn, "pid": os.getpid(), "inode": file_inode(self.index_path),
                                    "checked": time.monotonic()})
        return conn

    def _migrate(self) -> None:
        """Durable tables always; derived tables dropped and made anew when INDEX_VERSION changed."""
        with self._lock_file(blocking=True):
            db = self.db
            db.executescript(DURABLE_SCHEMA)
            db.executescript(STATE_SCHEMA)
            self._move_ledger_out_of_the_index(db)
            if db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
                self._drop_derived(db)
                self._create_derived(db)
                db.execute(f"PRAGMA user_version={INDEX_VERSION}")

    # -- a corrupted index is set aside and built again ---------------------------------------
    def rebuilding(self) -> bool:
        """Whether some process is building the index anew after finding it corrupted."""
        marker = self.instance_dir / REBUILDING
        try:
            holder = int(marker.read_text().strip() or 0)
        except (OSError, ValueError):
            return False
        if holder and not process_alive(holder):
            marker.unlink(missing_ok=True)  # a healer that died: the next failure starts another
            return False
        return True

    def heal(self, error: BaseException) -> None:
        """Set the corrupted index file aside and build a new one from `records/`. The ledger (its own
        file) is untouched, so every datestamp and deletion survives. Logged once per heal."""
        if not self._healing.acquire(blocking=False):
            return
        marker = self.instance_dir / REBUILDING
        opened = getattr(self._local, "main", None)
        damaged = opened["inode"] if opened else None  # the file this thread found corrupted
        self._local.main = self._local.search = None  # whatever happens, this thread reopens the index file
        try:
            with self._lock_file(blocking=True):
                if damaged is not None and file_inode(self.index_path) != damaged:
                    return  # another process set it aside and built a new one while we waited
                marker.write_text(str(os.getpid()))
                stamp = self.clock().strftime("%Y%m%dT%H%M%S")
                log.error("the index %s is corrupted (%s): set aside as %s.corrupt-%s and rebuilt from %s; "
                          "the OAI-PMH ledger is kept", self.index_path, error, self.index_path.name, stamp,
                          self.records_dir)
                for suffix in ("", "-wal", "-shm"):
                    path = self.index_path.with_name(self.index_path.name + suffix)
                    if path.exists():
                        path.rename(path.with_name(f"{self.index_path.name}.corrupt-{stamp}{suffix}"))
                db = self.db
                db.executescript(DURABLE_SCHEMA)
                db.executescript(STATE_SCHEMA)
                self._create_derived(db)
                db.execute(f"PRAGMA user_version={INDEX_VERSION}")
                self._refresh_locked(force=True)
            log.warning("the index is rebuilt: %d records served", self.count())
        finally:
            marker.unlink(missing_ok=True)
            self._healing.release()

    @staticmethod
    def _move_ledger_out_of_the_index(db: sqlite3.Connection) -> None:
        """Indexes before version 5 kept the ledger inside: move it to its own file, once."""
        if db.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'ledger' AND type = 'table'").fetchone():
            columns = ", ".join(LEDGER_COLUMNS)
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"INSERT OR IGNORE INTO durable.ledger({columns}) SELECT {columns} FROM main.ledger")
            db.execute("DROP TABLE main.ledger")
            db.execute("DROP TABLE IF EXISTS main.generation")
            db.execute("COMMIT")
            log.info("moved the OAI-PMH ledger out of the index into %s", db.execute(
                "SELECT file FROM pragma_database_list WHERE name = 'durable'").fetchone()[0])

    @staticmethod
    def _drop_derived(db: sqlite3.Connection) -> None:
        for view in DERIVED_VIEWS:
            db.execute(f"DROP VIEW IF EXISTS {view}")
        for table in DERIVED_TABLES:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("DELETE FROM problems")

    @staticmethod
    def _create_derived(db: sqlite3.Connection) -> None:
        db.executescript(DERIVED_SCHEMA)
        db.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
