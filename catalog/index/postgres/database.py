"""Connections to the shared database: a pool for reads (the replica when one is named), one for writes.

Every read runs in a transaction of its own at REPEATABLE READ, READ ONLY: one snapshot, so a read
never sees half of a refresh, and readers take no lock a refresh waits for. A replica that cannot be
reached is given up for the primary (and tried again a minute later).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Iterator

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from psycopg_pool import PoolTimeout

from catalog.index.postgres import schema

log = logging.getLogger("catalog.index")

POOL_MAX = 8
"""Connections per pool and process (each gunicorn worker has its own pools)."""
CONNECT_TIMEOUT = 10.0
REPLICA_RETRY_SECONDS = 60.0

MIGRATION_LOCK = 0x63617461_6c6f6700  # "catalog\0": migrations, one server at a time
REFRESH_LOCK = 0x63617461_6c6f6701  # one refresh at a time across every server


OPEN: weakref.WeakSet = weakref.WeakSet()
"""Every Database of this process, so `close_all` can end the pools of one database (tests, shutdown)."""


def close_all(url: str | None = None) -> None:
    """Close this process's pools (to the database at `url`, or to every one)."""
    for database in list(OPEN):
        if url is None or database.url == url:
            database.close()


def _configure_reader(conn: psycopg.Connection) -> None:
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True


class Database:
    """The pools of one index; made lazily, and again in a forked worker (a pool does not survive fork)."""

    def __init__(self, url: str, replica_url: str = ""):
        self.url = url
        self.replica_url = replica_url
        self._pools: dict[str, ConnectionPool] = {}
        self._pid = None
        self._lock = threading.Lock()
        self._replica_failed_at = 0.0
        self._dedicated: list[psycopg.Connection] = []
        OPEN.add(self)

    def _pool(self, kind: str) -> ConnectionPool:
        import os

        with self._lock:
            if self._pid != os.getpid():
                self._pools = {}  # a forked child: its parent's sockets are not its own
                self._pid = os.getpid()
            pool = self._pools.get(kind)
            if pool is None:
                url = self.replica_url if kind == "replica" else self.url
                configure = _configure_reader if kind in ("reader", "replica") else None
                pool = ConnectionPool(url, min_size=1 if kind != "replica" else 0, max_size=POOL_MAX,
                                      kwargs={"row_factory": dict_row}, configure=configure,
                                      timeout=CONNECT_TIMEOUT, open=True, name=f"catalog-{kind}")
                self._pools[kind] = pool
            return pool

    @contextlib.contextmanager
    def reading(self) -> Iterator[psycopg.Connection]:
        """A connection in a read-only snapshot transaction (the replica's when it answers)."""
        if self.replica_url and time.monotonic() - self._replica_failed_at > REPLICA_RETRY_SECONDS:
            try:
                pool = self._pool("replica")
                conn = pool.getconn(timeout=CONNECT_TIMEOUT)
            except (psycopg.Error, PoolTimeout, OSError) as error:  # an unreachable replica: the primary serves reads
                log.warning("the read replica cannot be reached (%s); reading from the primary", error)
                self._replica_failed_at = time.monotonic()
            else:
                try:
                    with conn.transaction():
                        yield conn
                finally:
                    pool.putconn(conn)
                return
        with self._pool("reader").connection() as conn:
            yield conn

    @contextlib.contextmanager
    def writing(self) -> Iterator[psycopg.Connection]:
        """A primary connection; its `with` block is one transaction (committed at the end)."""
        with self._pool("writer").connection() as conn:
            yield conn

    def dedicated(self, autocommit: bool = True) -> psycopg.Connection:
        """A connection of its own (not pooled): the refresh lock is held on it."""
        conn = psycopg.connect(self.url, autocommit=autocommit, row_factory=dict_row,
                               connect_timeout=int(CONNECT_TIMEOUT))
        self._dedicated = [c for c in self._dedicated if not c.closed] + [conn]
        return conn

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools = {}
            for conn in self._dedicated:
                conn.close()
            self._dedicated = []


def migrate(db: Database) -> bool:
    """Bring the schema up to date, one server at a time: durable tables migrated step by step (never
    dropped), derived tables made anew when their version changed. True when the index was remade."""
    with db.writing() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(schema.TEXT_CONFIG_SQL)
        conn.execute(schema.STATE_SCHEMA)
        versions = {row["part"]: row["version"] for row in conn.execute("SELECT part, version FROM schema_versions")}
        ledger_version = int(versions.get("ledger", 0))
        for step in range(ledger_version, len(schema.LEDGER_MIGRATIONS)):
            conn.execute(schema.LEDGER_MIGRATIONS[step])
            log.info("migrated the OAI-PMH ledger to version %d", step + 1)
        _set_version(conn, "ledger", str(len(schema.LEDGER_MIGRATIONS)))
        if versions.get("index") == schema.DERIVED_VERSION:
            return False
        conn.execute(schema.DERIVED_DROP)
        conn.execute(schema.DERIVED_SCHEMA)
        _set_version(conn, "index", schema.DERIVED_VERSION)
        conn.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
        log.info("made the index tables anew (version %s)", schema.DERIVED_VERSION)
        return True


def _set_version(conn: psycopg.Connection, part: str, version: str) -> None:
    conn.execute("INSERT INTO schema_versions(part, version) VALUES (%s, %s) "
                 "ON CONFLICT (part) DO UPDATE SET version = EXCLUDED.version", (part, version))
