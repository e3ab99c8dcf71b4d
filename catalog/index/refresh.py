"""Keeping the index in line with `records/`: scan, compare, read what changed, apply in one transaction.

`refresh()` compares the folder with the index by (mtime, size), reads only what changed (in a
process pool for a cold build), and applies the changes in one transaction. One process at a time
refreshes (an advisory file lock); the others go on reading. A watcher thread per worker applies
changes as inotify reports them, with a full scan now and then as a safety net.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from catalog.index import fulltext
from catalog.index import ledger
from catalog.index.processes import FileLock
from catalog.index.processes import parsing_pool
from catalog.index.projection import PreparedFile
from catalog.index.projection import decompress_source
from catalog.index.projection import prepare_bytes
from catalog.index.projection import prepare_file
from catalog.index.scan import FolderFault
from catalog.index.scan import scan
from catalog.index.schema import SECONDARY_INDEXES
from catalog.index.watch import FolderWatch

log = logging.getLogger("catalog.index")

FULL_SCAN_INTERVAL = 60.0
"""Seconds between full scans of the folder when inotify reports changes as they happen."""

PARALLEL_THRESHOLD = 2000
"""Read and parse in a process pool when at least this many files changed (a cold build)."""

CORRUPTION = ("malformed", "not a database", "disk image", "file is encrypted", "database corrupt")


def is_corruption(error: BaseException) -> bool:
    """Whether an SQLite error says the index file itself is damaged (not busy, not a bad query)."""
    return isinstance(error, sqlite3.DatabaseError) and any(word in str(error).lower() for word in CORRUPTION)


@dataclass
class RefreshResult:
    added: int = 0
    changed: int = 0
    removed: int = 0
    invalid: int = 0
    released: int = 0
    skipped: bool = False
    fault: str | None = None

    @property
    def touched(self) -> int:
        return self.added + self.changed + self.removed + self.released


class Refreshing:
    """The writing half of the SQLite index (mixed into `SQLiteIndex`)."""

    _text_writer: fulltext.Writer | None = None
    """The full-text mirror's writer while a refresh that keeps the mirror in step is applied."""

    def _lock_file(self, blocking: bool) -> FileLock:
        return FileLock(self.instance_dir / "refresh.lock", blocking)

    def keep_current(self) -> None:
        """Called on each request: start this process's watcher thread (after gunicorn forks, one per
        worker; the file lock lets one scan while the others serve), or (interval 0) refresh now."""
        if self.refresh_interval <= 0:
            self.refresh()
        elif self._watcher_pid != os.getpid():
            self._watcher_pid = os.getpid()
            threading.Thread(target=self._watch, name="records-watcher", daemon=True).start()

    def _watch(self) -> None:
        """Apply file changes as inotify reports them; scan everything now and then as a safety net."""
        watch = FolderWatch(str(self.records_dir))
        pending: set[str] | None = None  # a full scan first: changes before the watch began count too
        next_full = time.monotonic() + FULL_SCAN_INTERVAL
        while True:
            try:
                if watch.available:
                    changed = watch.changed(self.refresh_interval)
                    pending = None if changed is None or pending is None else pending | changed
                else:
                    time.sleep(self.refresh_interval)
                    pending = None
                if time.monotonic() >= next_full:
                    pending = None
                result = self.refresh(blocking=False, only=pending)
                if not result.skipped:
                    if pending is None:
                        next_full = time.monotonic() + FULL_SCAN_INTERVAL
                    pending = set()
            except Exception as error:  # a failed refresh must not stop later ones
                if isinstance(error, sqlite3.OperationalError | OSError) and self.write_failure != str(error):
                    self.write_failure = str(error)  # a full disk, a read-only mount: /api/health says so
                    log.error("the index cannot be written (%s); serving the last good index", error)
                elif not isinstance(error, sqlite3.OperationalError | OSError):
                    log.exception("refreshing the index failed")
                time.sleep(self.refresh_interval)
            else:
                if self.write_failure and not result.skipped:
                    log.warning("the index can be written again")
                    self.write_failure = None

    def rebuild(self, accept_deletions: bool = False) -> RefreshResult:
        """Recreate the derived tables from the files. The ledger is not touched, and a file that is
        bad now keeps its last good version, exactly as a refresh keeps it."""
        with self._lock_file(blocking=True):
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            db.execute("DROP TABLE IF EXISTS temp.last_good")
            db.execute("CREATE TEMP TABLE last_good AS SELECT id, path, mtime_ns, size, source FROM records")
            self._drop_derived(db)
            db.execute("COMMIT")
            self._create_derived(db)
        result = self.refresh(force=True, accept_deletions=accept_deletions)
        with self._lock_file(blocking=True):
            self._restore_last_good(self.db)
        return result

    def _restore_last_good(self, db) -> None:
        """Put back the saved version of every record whose file is bad now (see `rebuild`)."""
        today = self.clock().date().isoformat()
        now = ledger.datestamp(self.clock())
        rows = db.execute("SELECT g.* FROM temp.last_good g JOIN problems p ON p.path = g.path "
                          "WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = g.id)").fetchall()
        if rows:
            db.execute("BEGIN IMMEDIATE")
            for row in rows:
                entry = prepare_bytes(row["path"], (row["mtime_ns"], row["size"]),
                                      decompress_source(row["source"]), today, with_manifest=True)
                if not entry.problems:
                    self._upsert(db, entry, now, None)
            db.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
            db.execute("COMMIT")
        db.execute("DROP TABLE IF EXISTS temp.last_good")

    def refresh(self, force: bool = False, blocking: bool = True, only: set[str] | None = None,
                unless_scanned_within: float = 0.0, accept_deletions: bool = False) -> RefreshResult:
        """Bring the index in line with the folder (or with just the files named in `only`).

        `unless_scanned_within`: skip when another process began a full scan that recently, so
        workers starting together scan the folder once, not once each. `accept_deletions`: record
        deletions even when most of the catalog vanished at once (the operator says it is meant).
        A corrupted index found on the way is set aside and built again (`heal`).
        """
        try:
            return self._refresh(force, blocking, only, unless_scanned_within, accept_deletions)
        except sqlite3.DatabaseError as error:
            if not is_corruption(error):
                raise
            self.heal(error)
            return RefreshResult(added=self.count(), fault=f"index rebuilt after corruption ({error})")

    def _refresh(self, force: bool, blocking: bool, only: set[str] | None, unless_scanned_within: float,
                 accept_deletions: bool) -> RefreshResult:
        with self._lock_file(blocking) as locked:
            if not locked:
                return RefreshResult(skipped=True)
            db = self.db
            started = self.clock().timestamp()
            if only is None and unless_scanned_within > 0 and not force:
                row = db.execute("SELECT started FROM scans WHERE kind = 'full'").fetchone()
                if row and started - row[0] < unless_scanned_within:
                    return RefreshResult(skipped=True)
            result = self._refresh_locked(force, only, accept_deletions)
            if only is None and unless_scanned_within > 0:
                db.execute("INSERT OR REPLACE INTO scans (kind, started) VALUES ('full', ?)", (started,))
            return result

    def _indexed(self, only: set[str] | None) -> tuple[dict, dict]:
        """(path → ((mtime, size), id)) of indexed records and (path → (mtime, size)) of known bad files."""
        where, args = "", ()
        if only is not None:
            where, args = f" WHERE path IN ({', '.join('?' for _ in only)})", tuple(only)
        cursor = self.db.cursor()
        cursor.row_factory = None  # plain tuples: 100,000 rows at start-up
        indexed = {path: ((mtime, size), rid) for path, mtime, size, rid in
                   cursor.execute("SELECT path, mtime_ns, size, id FROM records" + where, args)}
        # a file that could not be read is tried again at every scan: permissions change the
        # outcome without changing its mtime or size
        known_bad = {path: (mtime, size) if readable else None for path, mtime, size, readable in
                     cursor.execute("SELECT path, mtime_ns, size, messages NOT LIKE '%cannot be read (%' "
                                    "FROM problems" + where, args)}
        return indexed, known_bad

    def _refresh_locked(self, force: bool, only: set[str] | None = None,
                        accept_deletions: bool = False) -> RefreshResult:
        result = RefreshResult()
        db = self.db
        try:
            on_disk = scan(self.records_dir, only)
        except FolderFault as fault:
            result.fault = str(fault)
            self._report_fault("folder", result.fault)
            return result
        indexed, known_bad = self._indexed(only)
        missing = (None, None)
        to_read = [(name, stamp) for name, stamp in on_disk.items()
                   if force or (indexed.get(name, missing)[0] != stamp and known_bad.get(name) != stamp)]
        vanished = [name for name in indexed if name not in on_disk]
        vanished_bad = [name for name in known_bad if name not in on_disk]
        if only is None:
            self._clear_fault("folder")
            if len(vanished) > 1 and len(vanished) > ledger.MASS_DELETION_SHARE * len(indexed) and not accept_deletions:
                result.fault = (f"{len(vanished):,} of {len(indexed):,} record files vanished at once; no deletion "
                                "is recorded until they return or an operator runs `catalog reindex "
                                "--accept-deletions`")
                self._report_fault("mass deletion", result.fault)
                vanished = []
            else:
                self._clear_fault("mass deletion")
        now_moment = self.clock()
        today = now_moment.date().isoformat()
        due = db.execute("SELECT COUNT(*) FROM withheld_records WHERE release_date IS NOT NULL "
                         "AND release_date <= ?", (today,)).fetchone()[0]
        unreconciled = only is None and ledger.out_of_step(db)
        mirror_behind = fulltext.behind(self.fulltext, db)
        if not to_read and not vanished and not vanished_bad and not due and not unreconciled:
            if mirror_behind:
                fulltext.rebuild(self.fulltext, db)
            return result

        names = sorted(to_read)
        pool = None
        prepare = functools.partial(prepare_file, str(self.records_dir), today=today, with_manifest=True)
        if len(names) >= PARALLEL_THRESHOLD and (os.cpu_count() or 1) > 1:
            pool = parsing_pool()
            parsed = pool.map(prepare, [n for n, _ in names], [st for _, st in names], chunksize=64)
        else:
            parsed = (prepare(name, stamp) for name, stamp in names)

        now = ledger.PENDING  # the real datestamp is given just before COMMIT (see `_stamp`)
        self._departed = db.execute("SELECT 1 FROM set_departures LIMIT 1").fetchone() is not None
        bulk = db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None
        if bulk:
            db.execute("PRAGMA synchronous=OFF")
        self._text_writer = self.fulltext.writer(bulk) if self.fulltext.enabled and (bulk or not mirror_behind) else None
        db.execute("BEGIN IMMEDIATE")
        try:
            known = ledger.all_entries(db) if bulk else None
            if bulk:  # building indexes once at the end is faster than row by row
                for name, _sql in SECONDARY_INDEXES:
                    db.execute(f"DROP INDEX IF EXISTS {name}")
                db.execute("CREATE TEMP TABLE bulk_facets(record_rowid INTEGER, facet TEXT, value TEXT)")
            for name in vanished:
                self._remove(db, indexed[name][1], now)
                result.removed += 1
            for name in vanished_bad:
                db.execute("DELETE FROM problems WHERE path = ?", (name,))
            for entry in parsed:
                if entry.problems:
                    db.execute("INSERT OR REPLACE INTO problems(path, mtime_ns, size, messages) VALUES (?,?,?,?)",
                               (entry.name, entry.stamp[0], entry.stamp[1], json.dumps(entry.problems)))
                    result.invalid += 1
                    for message in entry.problems:
                        log.warning("bad record file (not served; any last valid version still is): %s", message)
                    continue
                if entry.name in known_bad:
                    db.execute("DELETE FROM problems WHERE path = ?", (entry.name,))
                outcome = self._upsert(db, entry, now, known)
                if outcome == "added":
                    result.added += 1
                elif outcome == "changed":
                    result.changed += 1
            if bulk:
                db.execute("INSERT OR IGNORE INTO facets(record_rowid, facet, value) SELECT * FROM "
                           "temp.bulk_facets ORDER BY facet, value, record_rowid")
                db.execute("DROP TABLE temp.bulk_facets")
                for _name, sql in SECONDARY_INDEXES:
                    db.execute(sql)
            result.released = self._release_due(db, today, now)
            if only is None:
                result.removed += ledger.reconcile(db, on_disk, now, result.fault is None, accept_deletions)
            db.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
            self._stamp(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            if self._text_writer is not None:
                self._text_writer.rollback()
                self._text_writer = None
            raise
        finally:
            self._pending_marker().unlink(missing_ok=True)
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            if bulk:
                db.execute("PRAGMA synchronous=NORMAL")
        writer, self._text_writer = self._text_writer, None
        fulltext.follow(self.fulltext, db, writer)
        return result

    def _pending_marker(self) -> Path:
        return self.instance_dir / "refresh.pending"

    def _stamp(self, db) -> None:
        """Give this transaction's ledger changes their datestamp, as late as possible before COMMIT.

        First the moment is written to `refresh.pending`: until the commit is visible, OAI-PMH answers
        carry a responseDate no later than it, so a harvester that resumes `from` its last responseDate
        cannot skip these changes. Datestamps never go backwards."""
        moment = ledger.datestamp(self.clock())
        marker = self._pending_marker()
        temporary = marker.with_suffix(".tmp")
        temporary.write_text(moment)
        os.replace(temporary, marker)
        latest = db.execute("SELECT MAX(datestamp) FROM ledger WHERE datestamp < ?", (ledger.PENDING,)).fetchone()[0]
        stamp = max(ledger.datestamp(self.clock()), latest or "")
        db.execute("UPDATE ledger SET datestamp = ? WHERE datestamp = ?", (stamp, ledger.PENDING))
        db.execute("UPDATE ledger SET deleted_at = ? WHERE deleted_at = ?", (stamp, ledger.PENDING))
        db.execute("UPDATE set_departures SET left_at = ? WHERE left_at = ?", (stamp, ledger.PENDING))

    def _upsert(self, db, entry: PreparedFile, now: str, known: dict | None) -> str:
        row = None if known is not None else db.execute(
            "SELECT rowid, content_hash, public FROM records WHERE id = ?", (entry.record_id,)).fetchone()
        public = entry.columns["public"]
        if row is None or row["content_hash"] != entry.digest:
            before = ledger.set_memberships(db, row["rowid"]) if row is not None and row["public"] else set()
            after = {pair for pair in entry.facets if pair[0] in ledger.SET_FACETS} if public else set()
            ledger.record_set_moves(db, entry.record_id, before, after, now, known is None or bool(self._departed))
        if row is not None and row["content_hash"] == entry.digest:
            db.execute("UPDATE records SET path = ?, mtime_ns = ?, size = ?, source = ? WHERE rowid = ?",
                       (entry.name, entry.stamp[0], entry.stamp[1], entry.source, row["rowid"]))
            ledger.record_seen(db, entry.record_id, entry.digest, public, now)
            return "same"
        if row is not None:
            self._delete_derived(db, row["rowid"])
        columns = dict(entry.columns, id=entry.record_id, path=entry.name, mtime_ns=entry.stamp[0],
                       size=entry.stamp[1], content_hash=entry.digest, source=entry.source)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        rowid = db.execute(f"INSERT INTO records({names}) VALUES ({marks})", tuple(columns.values())).lastrowid
        facets = "temp.bulk_facets" if known is not None else "facets"  # a cold build sorts them at the end
        db.executemany(f"INSERT OR IGNORE INTO {facets}(record_rowid, facet, value) VALUES (?,?,?)",
                       [(rowid, facet, value) for facet, value in entry.facets])
        db.execute("INSERT INTO record_text(rowid, title, people, provenance, body, notes) VALUES (?,?,?,?,?,?)",
                   (rowid, *entry.texts))
        if entry.manifest is not None:
            db.execute("INSERT INTO manifests(record_rowid, template) VALUES (?,?)", (rowid, entry.manifest))
        if self._text_writer is not None:
            self._text_writer.add(fulltext.Row(rowid, entry.record_id, entry.columns["title"], entry.columns["date"],
                                               entry.texts, entry.facets))
        if known is None or entry.record_id in known:
            ledger.record_seen(db, entry.record_id, entry.digest, public, now)
        else:
            ledger.record_new(db, entry.record_id, entry.digest, public, now)
        return "changed" if row is not None else "added"

    def _remove(self, db, record_id: str, now: str) -> None:
        row = db.execute("SELECT rowid, public FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is not None:
            if row["public"]:
                ledger.record_set_moves(db, record_id, ledger.set_memberships(db, row["rowid"]), set(), now, True)
            self._delete_derived(db, row["rowid"])
        ledger.record_deleted(db, record_id, now)

    def _delete_derived(self, db, rowid: int) -> None:
        if self._text_writer is not None:
            self._text_writer.delete(rowid)
        # an external-content FTS table forgets a row only when told the exact text it indexed
        db.execute("INSERT INTO record_text(record_text, rowid, title, people, provenance, body, notes) "
                   "SELECT 'delete', * FROM record_text_source WHERE rowid = ?", (rowid,))
        db.execute("DELETE FROM records WHERE rowid = ?", (rowid,))
        db.execute("DELETE FROM facets WHERE record_rowid = ?", (rowid,))

    # -- faults and the ledger's agreement with the index -----------------------------------
    def _report_fault(self, kind: str, reason: str) -> None:
        """Record a fault for /api/health; log it when it begins or changes, not at every scan."""
        db = self.db
        row = db.execute("SELECT reason FROM faults WHERE kind = ?", (kind,)).fetchone()
        if row is None or row[0] != reason:
            db.execute("INSERT OR REPLACE INTO faults(kind, reason, since) VALUES (?,?,?)",
                       (kind, reason, ledger.datestamp(self.clock())))
            log.error("index not following the records folder (%s): %s; serving the last good index, "
                      "recording no deletions", kind, reason)

    def _clear_fault(self, kind: str) -> None:
        if self.db.execute("DELETE FROM faults WHERE kind = ?", (kind,)).rowcount:
            log.warning("fault over (%s): the records folder reads normally again", kind)

    @staticmethod
    def _release_due(db, today: str, now: str) -> int:
        due = db.execute("SELECT rowid, id FROM withheld_records WHERE release_date IS NOT NULL "
                         "AND release_date <= ?", (today,)).fetchall()
        for row in due:
            ledger.record_set_moves(db, row["id"], set(), ledger.set_memberships(db, row["rowid"]), now, True)
            db.execute("UPDATE records SET public = 1 WHERE id = ?", (row["id"],))
            ledger.record_released(db, row["id"], now)
        return len(due)
