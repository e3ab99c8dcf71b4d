"""Connections to the shared database: a pool for reads (the replica when one is named), one for writes.

Every read runs in a transaction of its own at REPEATABLE READ, READ ONLY: one snapshot, so a read
never sees half of a refresh, and readers take no lock a refresh waits for.

When a server stops answering, its pools are closed (their connections are broken, and a pool would
keep reconnecting in the background) and the outage is logged once:
- a replica that cannot be reached is given up for the primary, and tried again every
  REPLICA_RETRY_SECONDS; a replica that merely lags (a table not there yet, a recovery conflict)
  gives that one read to the primary;
- a primary that cannot be reached makes reads and refreshes raise `IndexUnavailable` (the surfaces
  answer 503) at once; one request tries it again every PRIMARY_RETRY_SECONDS.
A connection broken by a server's restart is replaced and the read tried once more, so the first
request after an outage is served.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from typing import TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from psycopg_pool import PoolTimeout

from catalog.index.api import IndexUnavailable
from catalog.index.postgres import schema

log = logging.getLogger("catalog.index")

T = TypeVar("T")

POOL_MAX = 8
"""Connections per pool and process (each gunicorn worker has its own pools)."""
CONNECT_TIMEOUT = 10.0
PROBE_TIMEOUT = 2
"""Seconds to connect when trying whether a server answers (libpq takes whole seconds)."""
REPLICA_RETRY_SECONDS = 60.0
PRIMARY_RETRY_SECONDS = 1.0

UNREACHABLE = "The catalog's database cannot be reached just now; try again in a moment."
BUSY = "The catalog's database is too busy just now; try again in a moment."

LOST_STATES = ("57P01", "57P02", "57P03", "53300")
"""Admin shutdown, crash shutdown, cannot connect now (starting or stopping), too many connections."""
REPLICA_BEHIND = ("42P01", "3D000", "40001")
"""On a replica: a table or database not replayed yet, a query cancelled by a recovery conflict."""

MIGRATION_LOCK = 0x63617461_6c6f6700  # "catalog\0": migrations, one server at a time
REFRESH_LOCK = 0x63617461_6c6f6701  # one refresh at a time across every server


OPEN: weakref.WeakSet = weakref.WeakSet()
"""Every Database of this process, so `close_all` can end the pools of one database (tests, shutdown)."""


def close_all(url: str | None = None) -> None:
    """Close this process's pools (to the database at `url`, or to every one)."""
    for database in list(OPEN):
        if url is None or database.url == url:
            database.close()


def connection_lost(error: BaseException) -> bool:
    """Whether `error` says a server cannot be used just now (down, restarting, full, a broken
    connection, no connection from the pool) rather than that one statement failed."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith("08") or state in LOST_STATES


def _configure_reader(conn: psycopg.Connection) -> None:
    """Readers run in autocommit: a read of one statement is one round trip (a statement is its own
    snapshot), and a transaction they open (`read`) is REPEATABLE READ, READ ONLY by default."""
    conn.autocommit = True
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _where(url: str) -> str:
    """host:port/dbname of a URL, for the log (never its password)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        return "(unparsable URL)"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class Database:
    """The pools of one index; made lazily, and again in a forked worker (a pool does not survive fork).

    Pools: "reader" and "writer" on the primary, "replica" on the replica; each connection's
    application_name is `catalog-<pool>`, so pg_stat_activity shows which is which.
    """

    def __init__(self, url: str, replica_url: str = ""):
        self.url = url
        self.replica_url = replica_url
        self._pools: dict[str, ConnectionPool] = {}
        self._pid = None
        self._lock = threading.Lock()
        self._down: dict[str, float] = {}
        """Server ("primary", "replica") not answering -> when it was last tried."""
        self._dedicated: list[psycopg.Connection] = []
        OPEN.add(self)

    # -- pools -------------------------------------------------------------------------------------
    @staticmethod
    def _server(kind: str) -> str:
        return "replica" if kind == "replica" else "primary"

    def _url(self, server: str) -> str:
        return self.replica_url if server == "replica" else self.url

    def _pool(self, kind: str) -> ConnectionPool:
        with self._lock:
            if self._pid != os.getpid():
                self._pools = {}  # a forked child: its parent's sockets are not its own
                self._pid = os.getpid()
            pool = self._pools.get(kind)
        if pool is not None:
            return pool
        self._probe(self._server(kind))  # a pool would retry a server that is down until its timeout
        with self._lock:
            pool = self._pools.get(kind)
            if pool is None:
                server = self._server(kind)
                configure = _configure_reader if kind in ("reader", "replica") else None
                pool = ConnectionPool(self._url(server), min_size=1 if kind != "replica" else 0, max_size=POOL_MAX,
                                      kwargs={"row_factory": dict_row, "application_name": f"catalog-{kind}"},
                                      configure=configure, timeout=CONNECT_TIMEOUT, open=True, name=f"catalog-{kind}")
                self._pools[kind] = pool
            return pool

    def _drop_pools(self, server: str) -> None:
        """Close `server`'s pools: their connections are broken (connections out are closed when returned)."""
        with self._lock:
            dropped = [self._pools.pop(kind) for kind in list(self._pools) if self._server(kind) == server]
        for pool in dropped:
            pool.close(timeout=1.0)

    # -- whether a server answers ------------------------------------------------------------------
    def _probe(self, server: str) -> None:
        """Connect once, briefly (raises the connection's error when the server does not answer)."""
        psycopg.connect(self._url(server), connect_timeout=PROBE_TIMEOUT, autocommit=True).close()

    def answers(self, server: str = "primary") -> bool:
        """Whether `server` ("primary" or "replica") accepts a connection now."""
        try:
            self._probe(server)
        except psycopg.Error:
            return False
        return True

    def _usable(self, server: str) -> bool:
        """False while `server` is known to be down and not due for another try (one caller tries it)."""
        retry = REPLICA_RETRY_SECONDS if server == "replica" else PRIMARY_RETRY_SECONDS
        with self._lock:
            tried = self._down.get(server)
            if tried is None:
                return True
            if time.monotonic() - tried < retry:
                return False
            self._down[server] = time.monotonic()
        if not self.answers(server):
            return False
        with self._lock:
            back = self._down.pop(server, None) is not None
        if back:
            log.warning("the %s answers again (%s)", "read replica" if server == "replica" else "database",
                        _where(self._url(server)))
        return True

    def _lost(self, server: str, error: BaseException) -> None:
        """`server` does not answer: its pools go, and the outage is logged when it begins."""
        self._drop_pools(server)
        with self._lock:
            first = server not in self._down
            self._down[server] = time.monotonic()
        if not first:
            return
        if server == "replica":
            log.warning("the read replica %s cannot be reached (%s); reading from the primary, trying the replica "
                        "again every %g s", _where(self.replica_url), _first_line(error), REPLICA_RETRY_SECONDS)
        else:
            log.error("the database %s cannot be reached (%s); answering 503 until it answers again, recording "
                      "no change meanwhile", _where(self.url), _first_line(error))

    def unavailable(self, error: BaseException) -> IndexUnavailable:
        """The primary failed with `error` (a lost connection): note the outage and say so to the caller."""
        if isinstance(error, PoolTimeout) and self.answers("primary"):
            return IndexUnavailable(BUSY)
        self._lost("primary", error)
        return IndexUnavailable(UNREACHABLE)

    def require_primary(self) -> None:
        """Raise IndexUnavailable at once while the primary is known to be down (and not due for a try)."""
        if not self._usable("primary"):
            raise IndexUnavailable(UNREACHABLE)

    # -- reading -----------------------------------------------------------------------------------
    def _run(self, kind: str, work: Callable[[psycopg.Connection], T], snapshot: bool) -> T:
        pool = self._pool(kind)
        conn = pool.getconn(timeout=CONNECT_TIMEOUT)
        try:
            if not snapshot:
                return work(conn)
            with conn.transaction():
                return work(conn)
        except psycopg.Error as error:
            if connection_lost(error) and not isinstance(error, PoolTimeout):
                self._drop_pools(self._server(kind))  # before the broken connection goes back
            raise
        finally:
            pool.putconn(conn)

    def read(self, work: Callable[[psycopg.Connection], T], snapshot: bool = True) -> T:
        """`work(conn)` in one read-only snapshot: on the replica while it answers, else on the primary
        (IndexUnavailable when neither can be reached). `work` may run twice: it must only read. With
        `snapshot` False, `work` runs one statement (its own snapshot), without BEGIN and COMMIT."""
        if self.replica_url and self._usable("replica"):
            try:
                return self._run("replica", work, snapshot)
            except psycopg.Error as error:
                lost = connection_lost(error)
                if not lost and error.sqlstate not in REPLICA_BEHIND:
                    raise
                if lost and not self.answers("replica"):
                    self._lost("replica", error)
        self.require_primary()
        for attempt in (1, 2):
            try:
                return self._run("reader", work, snapshot)
            except psycopg.Error as error:
                if not connection_lost(error):
                    raise
                if attempt == 2 or isinstance(error, PoolTimeout) or not self.answers("primary"):
                    raise self.unavailable(error) from error
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def reading(self) -> Iterator[psycopg.Connection]:
        """A connection in a read-only snapshot transaction, held across the `with` block (for reads that
        span several calls; `read` is the usual way, and recovers from a broken connection)."""
        kind = "replica" if self.replica_url and self._usable("replica") else "reader"
        if kind == "reader":
            self.require_primary()
        try:
            pool = self._pool(kind)
            with pool.connection() as conn, conn.transaction():
                yield conn
        except psycopg.Error as error:
            if not connection_lost(error):
                raise
            if kind == "replica":
                self._lost("replica", error)
                raise IndexUnavailable(UNREACHABLE) from error
            raise self.unavailable(error) from error

    # -- writing -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[psycopg.Connection]:
        """A primary connection; its `with` block is one transaction (committed at the end)."""
        self.require_primary()
        try:
            with self._pool("writer").connection() as conn:
                yield conn
        except psycopg.Error as error:
            if not connection_lost(error):
                raise
            raise self.unavailable(error) from error

    def write(self, work: Callable[[psycopg.Connection], T]) -> T:
        """`work(conn)` in one transaction on the primary, tried once more on a fresh connection when the
        first was broken by a restart of the server (`work` must be safe to repeat)."""
        for attempt in (1, 2):
            self.require_primary()
            try:
                return self._run("writer", work, snapshot=True)
            except psycopg.Error as error:
                if not connection_lost(error):
                    raise
                if attempt == 2 or isinstance(error, PoolTimeout) or not self.answers():
                    raise self.unavailable(error) from error
        raise AssertionError("unreachable")

    def dedicated(self, autocommit: bool = True) -> psycopg.Connection:
        """A connection of its own (not pooled): the refresh lock is held on it."""
        self.require_primary()
        try:
            conn = psycopg.connect(self.url, autocommit=autocommit, row_factory=dict_row,
                                   connect_timeout=int(CONNECT_TIMEOUT), application_name="catalog-refresh")
        except psycopg.OperationalError as error:
            raise self.unavailable(error) from error
        self._dedicated = [c for c in self._dedicated if not c.closed] + [conn]
        return conn

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            dedicated, self._dedicated = self._dedicated, []
        for pool in pools:
            pool.close()
        for conn in dedicated:
            conn.close()


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
