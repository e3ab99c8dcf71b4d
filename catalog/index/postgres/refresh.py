"""Keeping the shared index in line with `records/`: one server at a time, one transaction per refresh.

The refresh lock is a PostgreSQL session advisory lock held on a connection of its own: whichever
app server takes it scans the folder and applies the changes in one transaction; the others skip
(or wait, when asked to). When its holder dies, its connection ends and the lock is free again.
Readers are on snapshots (`database.Database.read`): they never see half a refresh and never
hold a lock a refresh waits for. What changes is decided exactly as in the embedded index:
`catalog.index.projection` reads the files, `catalog.index.scan` the folder. A refresh of an empty
index (a cold build) loads everything in bulk (`bulk`), in the same one transaction.

When the database cannot be reached, a refresh raises `IndexUnavailable` (logged once, by
`database`) and changes nothing: no file is taken for deleted, and the watcher tries again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

import psycopg

from catalog.index.api import IndexUnavailable
from catalog.index.ledger import MASS_DELETION_SHARE
from catalog.index.ledger import PENDING
from catalog.index.ledger import datestamp
from catalog.index.postgres import bulk
from catalog.index.postgres import ledger
from catalog.index.postgres.database import REFRESH_LOCK
from catalog.index.postgres.database import connection_lost
from catalog.index.postgres.schema import TEXT_CONFIG
from catalog.index.postgres.schema import VECTORS
from catalog.index.postgres.textsearch import tsvector_literal
from catalog.index.processes import LOCK_WAIT_SECONDS
from catalog.index.processes import parsing_pool
from catalog.index.projection import PreparedFile
from catalog.index.projection import prepare_file
from catalog.index.refresh import FULL_SCAN_INTERVAL
from catalog.index.refresh import PARALLEL_THRESHOLD
from catalog.index.refresh import RefreshResult
from catalog.index.scan import FolderFault
from catalog.index.scan import scan
from catalog.index.watch import FolderWatch
from catalog.query import tokens

log = logging.getLogger("catalog.index")

RECORD_COLUMNS = ("id", "path", "mtime_ns", "size", "content_hash", "source", "title", "document_type", "date",
                  "date_as_printed", "year", "creators", "recipients", "collection", "collection_slug",
                  "repository", "classification", "file_number", "summary", "page_count", "access",
                  "release_date", "public", "warnings")
INSERT_RECORD = (f"INSERT INTO records({', '.join(RECORD_COLUMNS)}, {', '.join(VECTORS)}) VALUES "
                 f"({', '.join('%s' for _ in RECORD_COLUMNS)}, "
                 f"{', '.join(f'to_tsvector({chr(39)}{TEXT_CONFIG}{chr(39)}, %s)' for _ in VECTORS)}) RETURNING rowid")


def prepare_for_index(folder: str, name: str, stamp: tuple[int, int], today: str,
                      vectors: bool = False) -> PreparedFile:
    """`prepare_file`, with the texts already as the index takes them (`indexed_text`) and, for a bulk
    build, as `vectors` (`tsvector_literal`; a text is kept only where its vector is None, for the
    server to parse): done in the parsing pool's processes, not in the one that writes."""
    entry = prepare_file(folder, name, stamp, today)
    if not entry.problems:
        words = [tokens(text) for text in entry.texts]
        entry.vectors = tuple(tsvector_literal(each) for each in words) if vectors else (None,) * len(words)
        entry.texts = tuple(" ".join(each) if vector is None else None  # not sent twice
                            for each, vector in zip(words, entry.vectors))
    return entry


def _columns(entry: PreparedFile) -> list:
    columns = dict(entry.columns, id=entry.record_id, path=entry.name, mtime_ns=entry.stamp[0],
                   size=entry.stamp[1], content_hash=entry.digest, source=entry.source)
    return [columns[name] for name in RECORD_COLUMNS]


def _row(entry: PreparedFile) -> list:
    """An entry's RECORD_COLUMNS values, then its five indexed texts."""
    return _columns(entry) + list(entry.texts)


def _bulk_row(entry: PreparedFile) -> list:
    """An entry's RECORD_COLUMNS values, its five texts (None where there is a vector), its five vectors."""
    return _columns(entry) + list(entry.texts) + list(entry.vectors)


class Refreshing:
    """The writing half of the PostgreSQL index (mixed into `PostgresIndex`)."""

    def _lock_connection(self) -> psycopg.Connection:
        conn = getattr(self, "_lock_conn", None)
        if conn is None or conn.closed or getattr(self, "_lock_pid", None) != os.getpid():
            conn = self.database.dedicated()
            conn.execute(f"SET lock_timeout = '{int(LOCK_WAIT_SECONDS)}s'")
            self._lock_conn, self._lock_pid = conn, os.getpid()
        return conn

    def keep_current(self) -> None:
        """Called on each request: start this process's watcher thread, or (interval 0) refresh now."""
        self.ensure_schema()
        if self.refresh_interval <= 0:
            self.refresh()
        elif self._watcher_pid != os.getpid():
            self._watcher_pid = os.getpid()
            threading.Thread(target=self._watch, name="records-watcher", daemon=True).start()

    def _watch(self) -> None:
        """Apply file changes as inotify reports them; scan everything now and then (and whenever
        inotify is missing, as on a folder shared over the network)."""
        watch = FolderWatch(str(self.records_dir))
        pending: set[str] | None = None
        next_full = time.monotonic() + FULL_SCAN_INTERVAL
        while not self._closing.is_set():
            try:
                if watch.available:
                    changed = watch.changed(self.refresh_interval)
                    pending = None if changed is None or pending is None else pending | changed
                else:
                    self._closing.wait(self.refresh_interval)
                    pending = None
                if self._closing.is_set():
                    break
                if time.monotonic() >= next_full:
                    pending = None
                result = self.refresh(blocking=False, only=pending)
                if not result.skipped:
                    if pending is None:
                        next_full = time.monotonic() + FULL_SCAN_INTERVAL
                    pending = set()
                self.write_failure = None
            except Exception as error:  # noqa: BLE001 - a failed refresh (the database away) must not stop later ones
                if self._closing.is_set():
                    break
                if self.write_failure != str(error) and not isinstance(error, IndexUnavailable):  # logged already
                    log.error("the index cannot be refreshed (%s); serving what it holds", error)
                self.write_failure = str(error)
                self._closing.wait(max(self.refresh_interval, 1.0))
        watch.close()

    def refresh(self, force: bool = False, blocking: bool = True, only: set[str] | None = None,
                unless_scanned_within: float = 0.0, accept_deletions: bool = False) -> RefreshResult:
        """Bring the index in line with the folder (or with the files named in `only`); see
        `catalog.index.refresh.Refreshing.refresh` for what the arguments mean."""
        self.ensure_schema()
        if not self._refreshing.acquire(blocking=blocking):
            return RefreshResult(skipped=True)
        try:
            for attempt in (1, 2):
                conn = self._lock_connection()
                try:
                    return self._refresh_under_lock(conn, force, blocking, only, unless_scanned_within,
                                                    accept_deletions)
                except (psycopg.OperationalError, IndexUnavailable) as error:
                    self._lock_conn = None  # a broken connection: the lock went with it; reconnect next time
                    conn.close()
                    if isinstance(error, IndexUnavailable) or not connection_lost(error):
                        raise
                    if attempt == 2 or not self.database.answers():
                        raise self.database.unavailable(error) from error
                    # the connection was broken by a restart of the server: once more, on a new one
            raise AssertionError("unreachable")
        finally:
            self._refreshing.release()

    def _refresh_under_lock(self, conn, force, blocking, only, unless_scanned_within, accept_deletions):
        got = conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (REFRESH_LOCK,)).fetchone()["got"]
        if not got:
            if not blocking:
                return RefreshResult(skipped=True)
            conn.execute("SELECT pg_advisory_lock(%s)", (REFRESH_LOCK,))
        try:
            started = self.clock().timestamp()
            if only is None and unless_scanned_within > 0 and not force:
                row = conn.execute("SELECT started FROM scans WHERE kind = 'full'").fetchone()
                if row and started - row["started"] < unless_scanned_within:
                    return RefreshResult(skipped=True)
            result = self._refresh_locked(conn, force, only, accept_deletions)
            if only is None and unless_scanned_within > 0:
                conn.execute("INSERT INTO scans(kind, started) VALUES ('full', %s) "
                             "ON CONFLICT (kind) DO UPDATE SET started = EXCLUDED.started", (started,))
            return result
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (REFRESH_LOCK,))

    def rebuild(self, accept_deletions: bool = False) -> RefreshResult:
        """Every record read again from its file, in one transaction: readers see the old index until
        the new one is whole, and a file that is bad now keeps its last good version."""
        self._remake = True
        try:
            return self.refresh(force=True, accept_deletions=accept_deletions)
        finally:
            self._remake = False

    def _indexed(self, conn, only: set[str] | None) -> tuple[dict, dict]:
        where, args = "", ()
        if only is not None:
            where, args = " WHERE path = ANY(%s)", (list(only),)
        indexed = {row["path"]: ((row["mtime_ns"], row["size"]), row["id"]) for row in
                   conn.execute("SELECT path, mtime_ns, size, id FROM records" + where, args)}
        known_bad = {row["path"]: (row["mtime_ns"], row["size"]) if row["readable"] else None for row in
                     conn.execute("SELECT path, mtime_ns, size, messages NOT LIKE '%%cannot be read (%%' AS readable "
                                  "FROM problems" + where, args)}
        return indexed, known_bad

    def _refresh_locked(self, conn, force: bool, only: set[str] | None, accept_deletions: bool) -> RefreshResult:
        result = RefreshResult()
        try:
            on_disk = scan(self.records_dir, only)
        except FolderFault as fault:
            result.fault = str(fault)
            self._report_fault(conn, "folder", result.fault)
            return result
        indexed, known_bad = self._indexed(conn, only)
        missing = (None, None)
        to_read = [(name, stamp) for name, stamp in on_disk.items()
                   if force or (indexed.get(name, missing)[0] != stamp and known_bad.get(name) != stamp)]
        vanished = [name for name in indexed if name not in on_disk]
        vanished_bad = [name for name in known_bad if name not in on_disk]
        if only is None:
            self._clear_fault(conn, "folder")
            if len(vanished) > 1 and len(vanished) > MASS_DELETION_SHARE * len(indexed) and not accept_deletions:
                result.fault = (f"{len(vanished):,} of {len(indexed):,} record files vanished at once; no deletion "
                                "is recorded until they return or an operator runs `catalog reindex "
                                "--accept-deletions`")
                self._report_fault(conn, "mass deletion", result.fault)
                vanished = []
            else:
                self._clear_fault(conn, "mass deletion")
        today = self.clock().date().isoformat()
        due = conn.execute("SELECT COUNT(*) AS n FROM withheld_records WHERE release_date IS NOT NULL "
                           "AND release_date <= %s", (today,)).fetchone()["n"]
        unreconciled = only is None and ledger.out_of_step(conn)
        if not to_read and not vanished and not vanished_bad and not due and not unreconciled:
            return result

        names = sorted(to_read)
        cold = bool(names) and conn.execute("SELECT NOT EXISTS (SELECT 1 FROM records) AS cold").fetchone()["cold"]
        pool = None
        if len(names) >= PARALLEL_THRESHOLD and (os.cpu_count() or 1) > 1:
            pool = parsing_pool()
            parsed = pool.map(prepare_for_index, [str(self.records_dir)] * len(names), [n for n, _ in names],
                              [st for _, st in names], [today] * len(names), [cold] * len(names), chunksize=64)
        else:
            parsed = (prepare_for_index(str(self.records_dir), name, stamp, today, cold) for name, stamp in names)
        now = PENDING  # the real datestamp is given just before COMMIT (see `_stamp`)
        try:
            with conn.transaction():
                for name in vanished:
                    self._remove(conn, indexed[name][1], now)
                    result.removed += 1
                if vanished_bad:
                    conn.execute("DELETE FROM problems WHERE path = ANY(%s)", (vanished_bad,))
                if cold:  # an empty index: everything in bulk, into fresh tables
                    result.added += bulk.build(conn, parsed, RECORD_COLUMNS, _bulk_row,
                                               lambda entry: self._record_problem(conn, entry, result))
                    if known_bad:
                        conn.execute("DELETE FROM problems p USING records r WHERE p.path = r.path")
                for entry in () if cold else parsed:
                    if entry.problems:
                        self._record_problem(conn, entry, result)
                        continue
                    if entry.name in known_bad:
                        conn.execute("DELETE FROM problems WHERE path = %s", (entry.name,))
                    outcome = self._upsert(conn, entry, now)
                    if outcome == "added":
                        result.added += 1
                    elif outcome == "changed":
                        result.changed += 1
                result.released = self._release_due(conn, today, now)
                if only is None:
                    result.removed += ledger.reconcile(conn, on_disk, now, result.fault is None, accept_deletions)
                conn.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
                self._stamp(conn)
        finally:
            self._set_pending(None)
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        self._seen_generation = None  # this process sees its own change at once
        return result

    @staticmethod
    def _record_problem(conn, entry: PreparedFile, result: RefreshResult) -> None:
        conn.execute("INSERT INTO problems(path, mtime_ns, size, messages) VALUES (%s, %s, %s, %s) "
                     "ON CONFLICT (path) DO UPDATE SET mtime_ns = EXCLUDED.mtime_ns, "
                     "size = EXCLUDED.size, messages = EXCLUDED.messages",
                     (entry.name, *entry.stamp, json.dumps(entry.problems)))
        result.invalid += 1
        for message in entry.problems:
            log.warning("bad record file (not served; any last valid version still is): %s", message)

    def _set_pending(self, moment: str | None) -> None:
        """Published at once (its own transaction): OAI-PMH responseDates stay at or before it until
        the refresh's changes are visible."""
        self.database.write(lambda conn: conn.execute("UPDATE refresh_pending SET moment = %s WHERE id = 1",
                                                      (moment,)))

    def _stamp(self, conn) -> None:
        """Give this transaction's ledger changes their datestamp, as late as possible before COMMIT;
        datestamps never go backwards."""
        self._set_pending(datestamp(self.clock()))
        latest = conn.execute("SELECT MAX(datestamp) AS m FROM ledger WHERE datestamp < %s", (PENDING,)).fetchone()["m"]
        stamp = max(datestamp(self.clock()), latest or "")
        conn.execute("UPDATE ledger SET datestamp = %s WHERE datestamp = %s", (stamp, PENDING))
        conn.execute("UPDATE ledger SET deleted_at = %s WHERE deleted_at = %s", (stamp, PENDING))
        conn.execute("UPDATE set_departures SET left_at = %s WHERE left_at = %s", (stamp, PENDING))

    def _upsert(self, conn, entry: PreparedFile, now: str) -> str:
        row = conn.execute("SELECT rowid, content_hash, public FROM records WHERE id = %s",
                           (entry.record_id,)).fetchone()
        public = entry.columns["public"]
        if row is None or row["content_hash"] != entry.digest:
            before = ledger.set_memberships(conn, row["rowid"]) if row is not None and row["public"] else set()
            after = {pair for pair in entry.facets if pair[0] in ledger.SET_FACETS} if public else set()
            ledger.record_set_moves(conn, entry.record_id, before, after, now)
        if row is not None and row["content_hash"] == entry.digest and not self._remake:
            conn.execute("UPDATE records SET path = %s, mtime_ns = %s, size = %s, source = %s WHERE rowid = %s",
                         (entry.name, *entry.stamp, entry.source, row["rowid"]))
            ledger.record_seen(conn, entry.record_id, entry.digest, public, now)
            return "same"
        if row is not None:
            conn.execute("DELETE FROM records WHERE rowid = %s", (row["rowid"],))
        rowid = conn.execute(INSERT_RECORD, _row(entry)).fetchone()["rowid"]
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO facets(record_rowid, facet, value) VALUES (%s, %s, %s) "
                               "ON CONFLICT DO NOTHING", [(rowid, facet, value) for facet, value in entry.facets])
        ledger.record_seen(conn, entry.record_id, entry.digest, public, now)
        return "changed" if row is not None else "added"

    def _remove(self, conn, record_id: str, now: str) -> None:
        row = conn.execute("SELECT rowid, public FROM records WHERE id = %s", (record_id,)).fetchone()
        if row is not None:
            if row["public"]:
                ledger.record_set_moves(conn, record_id, ledger.set_memberships(conn, row["rowid"]), set(), now)
            conn.execute("DELETE FROM records WHERE rowid = %s", (row["rowid"],))
        ledger.record_deleted(conn, record_id, now)

    def _release_due(self, conn, today: str, now: str) -> int:
        due = conn.execute("SELECT rowid, id FROM withheld_records WHERE release_date IS NOT NULL "
                           "AND release_date <= %s", (today,)).fetchall()
        for row in due:
            ledger.record_set_moves(conn, row["id"], set(), ledger.set_memberships(conn, row["rowid"]), now)
            conn.execute("UPDATE records SET public = 1 WHERE id = %s", (row["id"],))
            ledger.record_released(conn, row["id"], now)
        return len(due)

    def _report_fault(self, conn, kind: str, reason: str) -> None:
        """Record a fault for /api/health; logged when it begins or changes, not at every scan."""
        row = conn.execute("SELECT reason FROM faults WHERE kind = %s", (kind,)).fetchone()
        if row is None or row["reason"] != reason:
            conn.execute("INSERT INTO faults(kind, reason, since) VALUES (%s, %s, %s) ON CONFLICT (kind) "
                         "DO UPDATE SET reason = EXCLUDED.reason, since = EXCLUDED.since",
                         (kind, reason, datestamp(self.clock())))
            log.error("index not following the records folder (%s): %s; serving the last good index, "
                      "recording no deletions", kind, reason)

    def _clear_fault(self, conn, kind: str) -> None:
        if conn.execute("DELETE FROM faults WHERE kind = %s", (kind,)).rowcount:
            log.warning("fault over (%s): the records folder reads normally again", kind)

