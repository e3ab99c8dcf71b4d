"""The store: the only code that reads `records/`, and the embedded index built from it.

The index is one SQLite file in the instance folder, shared by every worker process:

- `records`: the current valid version of each record (its source bytes and the columns views
  sort and filter on). A file that turns invalid keeps its last valid version here.
- `facets`: (record, facet, value) rows, so facet counts are SQL `GROUP BY`s, never Python loops.
- `record_text`: an FTS5 table over title, people, provenance, body and notes. Its content is
  not stored twice: snippets read it back from `records.source` through a view (`search_texts`
  of the stored record), which halves the cost of indexing a transcription.
- `ledger`: per id, the content hash and the OAI-PMH datestamp, which changes exactly when the
  canonical content changes, and the deletion time. Rebuilding the derived tables keeps it.
- `problems`: bad files, with the same messages `catalog validate` prints.

`refresh()` compares the folder with the index by (mtime, size), reads only what changed, and
applies the changes in one transaction. One process at a time refreshes (an advisory file lock);
the others read the result. Nothing here holds every record in memory.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import hashlib
import json
import logging
import os
import re
import sqlite3
import stat
import threading
import time
import zlib
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from catalog.model import RECORD_ID_PATTERN
from catalog.model import Record
from catalog.model import slugify
from catalog.validation import Problem
from catalog.validation import check_bytes
from catalog.watch import FolderWatch

INDEX_VERSION = 4
log = logging.getLogger(__name__)
VALID_ID = re.compile(RECORD_ID_PATTERN)

DERIVED_SCHEMA = """
CREATE TABLE records (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    source BLOB NOT NULL,
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
    public INTEGER NOT NULL
);
CREATE INDEX records_public_date ON records(public, date, id);
CREATE INDEX records_public_title ON records(public, title, id);
CREATE INDEX records_release ON records(public, release_date);
CREATE INDEX records_stamp ON records(path, mtime_ns, size, id);
CREATE TABLE facets (
    record_rowid INTEGER NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (facet, value, record_rowid)
) WITHOUT ROWID;
CREATE INDEX facets_record ON facets(record_rowid);
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
"""

SECONDARY_INDEXES = [(line.split()[2], line.rstrip(";")) for line in DERIVED_SCHEMA.splitlines()
                     if line.startswith("CREATE INDEX")]

DURABLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    datestamp TEXT NOT NULL,
    public INTEGER NOT NULL,
    ever_public INTEGER NOT NULL,
    deleted_at TEXT
);
CREATE INDEX IF NOT EXISTS ledger_datestamp ON ledger(datestamp, id);
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
"""

FULL_SCAN_INTERVAL = 60.0
"""Seconds between full scans of the folder when inotify reports changes as they happen."""

RECORD_CACHE_SIZE = 256
"""Parsed records kept per worker (a few hundred: the records being read right now)."""

PARALLEL_THRESHOLD = 2000
"""Read and parse in a process pool when at least this many files changed (a cold build)."""

FACETS = ("collection", "repository", "type", "classification", "decade", "year", "creator", "recipient", "place")


def utc_now() -> str:
    """The current time as an OAI-PMH datestamp (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def content_hash(record: Record) -> str:
    """Hash of the canonical content: reformatting a file does not change it."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


@dataclass
class RefreshResult:
    added: int = 0
    changed: int = 0
    removed: int = 0
    invalid: int = 0
    released: int = 0
    skipped: bool = False

    @property
    def touched(self) -> int:
        return self.added + self.changed + self.removed + self.released


class Store:
    """Records and their index. Thread-safe: one SQLite connection per thread."""

    def __init__(self, records_dir: str | Path, instance_dir: str | Path, refresh_interval: float = 1.0):
        self.records_dir = Path(records_dir).resolve()
        self.instance_dir = Path(instance_dir)
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        self.index_path = self.instance_dir / "index.sqlite3"
        self.refresh_interval = refresh_interval
        self._local = threading.local()
        self._last_refresh = 0.0
        self._watcher_pid: int | None = None
        self._cache: OrderedDict[tuple[str, str], Record] = OrderedDict()
        self._cache_mutex = threading.Lock()
        self._migrate()

    # -- connections and schema ------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.index_path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.create_function("record_text_column", 2, record_text_column, deterministic=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def _migrate(self) -> None:
        with self._lock_file(blocking=True):
            db = self.db
            db.executescript(DURABLE_SCHEMA)
            if db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
                self._drop_derived(db)
                db.executescript(DERIVED_SCHEMA)
                db.execute(f"PRAGMA user_version={INDEX_VERSION}")

    @staticmethod
    def _drop_derived(db: sqlite3.Connection) -> None:
        for table in ("record_text", "facets", "records"):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("DROP VIEW IF EXISTS record_text_source")
        db.execute("DELETE FROM problems")

    def rebuild(self) -> RefreshResult:
        """Recreate the derived tables from the files; datestamps in the ledger are kept."""
        with self._lock_file(blocking=True):
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            self._drop_derived(db)
            db.execute("COMMIT")
            db.executescript(DERIVED_SCHEMA)
        return self.refresh(force=True)

    def _lock_file(self, blocking: bool):
        return _FileLock(self.instance_dir / "refresh.lock", blocking)

    # -- keeping the index current ---------------------------------------------------------
    def keep_current(self) -> None:
        """Called on each request: start this process's watcher thread, or (interval 0) refresh now.

        The watcher runs after gunicorn forks, one per worker; the file lock lets one of them scan
        while the others keep serving from the index.
        """
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
            except Exception:  # a failed refresh must not stop later ones
                log.exception("refreshing the index failed")
                time.sleep(self.refresh_interval)

    def refresh(self, force: bool = False, blocking: bool = True, only: set[str] | None = None,
                unless_scanned_within: float = 0.0) -> RefreshResult:
        """Bring the index in line with the folder (or with just the files named in `only`).

        `unless_scanned_within`: skip when another process began a full scan that recently, so
        workers starting together scan the folder once, not once each.
        """
        with self._lock_file(blocking) as locked:
            self._last_refresh = time.monotonic()
            if not locked:
                return RefreshResult(skipped=True)
            db = self.db
            if only is None and unless_scanned_within > 0 and not force:
                row = db.execute("SELECT started FROM scans WHERE kind = 'full'").fetchone()
                if row and time.time() - row[0] < unless_scanned_within:
                    return RefreshResult(skipped=True)
            started = time.time()
            result = self._refresh_locked(force, only)
            if only is None and unless_scanned_within > 0:  # (a write: it resets page caches everywhere)
                db.execute("INSERT OR REPLACE INTO scans (kind, started) VALUES ('full', ?)", (started,))
            return result

    def _scan(self, only: set[str] | None) -> dict[str, tuple[int, int]]:
        """(mtime_ns, size) of every record file: one stat per file, the floor of a start-up scan."""
        found: dict[str, tuple[int, int]] = {}
        try:
            if only is None:  # a generator: 100,000 directory entries are never all held at once
                entries = (e for e in os.scandir(self.records_dir)
                           if e.name.endswith(".json") and e.name[0] != "." and e.is_file(follow_symlinks=False))
            else:
                entries = (self.records_dir / name for name in only
                           if name.endswith(".json") and name[0] != "." and "/" not in name)
            return self._stat_all(entries)
        except FileNotFoundError:
            return found

    @staticmethod
    def _stat_all(entries) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for entry in entries:
            try:
                st = os.stat(entry, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found[entry.name] = (st.st_mtime_ns, st.st_size)
        return found

    def _indexed(self, only: set[str] | None) -> tuple[dict, dict]:
        """(path → ((mtime, size), id)) of indexed records and (path → (mtime, size)) of known bad files."""
        db = self.db
        where, args = "", ()
        if only is not None:
            where, args = f" WHERE path IN ({', '.join('?' for _ in only)})", tuple(only)
        cursor = db.cursor()
        cursor.row_factory = None  # plain tuples: 100,000 rows at start-up
        indexed = {path: ((mtime, size), rid) for path, mtime, size, rid in
                   cursor.execute("SELECT path, mtime_ns, size, id FROM records" + where, args)}
        known_bad = {path: (mtime, size) for path, mtime, size in
                     cursor.execute("SELECT path, mtime_ns, size FROM problems" + where, args)}
        return indexed, known_bad

    def _refresh_locked(self, force: bool, only: set[str] | None = None) -> RefreshResult:
        result = RefreshResult()
        db = self.db
        on_disk = self._scan(only)
        indexed, known_bad = self._indexed(only)

        to_read = []
        missing = (None, None)
        for name, stamp in on_disk.items():
            if force or (indexed.get(name, missing)[0] != stamp and known_bad.get(name) != stamp):
                to_read.append((name, stamp))
        vanished = [name for name in indexed if name not in on_disk]
        vanished_bad = [name for name in known_bad if name not in on_disk]
        today = dt.date.today().isoformat()
        due = db.execute(
            "SELECT COUNT(*) FROM records WHERE public = 0 AND release_date IS NOT NULL AND release_date <= ?",
            (today,)).fetchone()[0]
        if not to_read and not vanished and not vanished_bad and not due:
            return result

        names = sorted(to_read)
        pool = None
        if len(names) >= PARALLEL_THRESHOLD and (os.cpu_count() or 1) > 1:
            pool = ProcessPoolExecutor(os.cpu_count())
            parsed = pool.map(prepare_file, [str(self.records_dir)] * len(names), [n for n, _ in names],
                              [st for _, st in names], [today] * len(names), chunksize=64)
        else:
            parsed = (prepare_file(str(self.records_dir), name, stamp, today) for name, stamp in names)

        now = utc_now()
        bulk = db.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None
        if bulk:
            db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN IMMEDIATE")
        try:
            ledger = {row["id"]: row for row in db.execute("SELECT * FROM ledger")} if bulk else None
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
                outcome = self._upsert(db, entry, now, ledger)
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
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            if bulk:
                db.execute("PRAGMA synchronous=NORMAL")
        return result

    def _upsert(self, db, entry: PreparedFile, now: str, ledger: dict | None) -> str:
        row = None if ledger is not None else db.execute(
            "SELECT rowid, content_hash FROM records WHERE id = ?", (entry.record_id,)).fetchone()
        if row is not None and row["content_hash"] == entry.digest:
            db.execute("UPDATE records SET path = ?, mtime_ns = ?, size = ?, source = ? WHERE rowid = ?",
                       (entry.name, entry.stamp[0], entry.stamp[1], entry.source, row["rowid"]))
            self._touch_ledger(db, entry.record_id, entry.digest, entry.columns["public"], now)
            return "same"
        if row is not None:
            self._delete_derived(db, row["rowid"])
        columns = dict(entry.columns, id=entry.record_id, path=entry.name, mtime_ns=entry.stamp[0],
                       size=entry.stamp[1], content_hash=entry.digest, source=entry.source)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        cursor = db.execute(f"INSERT INTO records({names}) VALUES ({marks})", tuple(columns.values()))
        rowid = cursor.lastrowid
        facets = "temp.bulk_facets" if ledger is not None else "facets"  # a cold build sorts them at the end
        db.executemany(f"INSERT OR IGNORE INTO {facets}(record_rowid, facet, value) VALUES (?,?,?)",
                       [(rowid, facet, value) for facet, value in entry.facets])
        db.execute("INSERT INTO record_text(rowid, title, people, provenance, body, notes) VALUES (?,?,?,?,?,?)",
                   (rowid, *entry.texts))
        if ledger is None or entry.record_id in ledger:
            self._touch_ledger(db, entry.record_id, entry.digest, entry.columns["public"], now)
        else:
            db.execute("INSERT INTO ledger(id, content_hash, datestamp, public, ever_public, deleted_at) "
                       "VALUES (?,?,?,?,?,NULL)", (entry.record_id, entry.digest, now, entry.columns["public"],
                                                   entry.columns["public"]))
        return "changed" if row is not None else "added"

    @staticmethod
    def _touch_ledger(db, record_id: str, digest: str, public: int, now: str) -> None:
        """Move the datestamp only when content, visibility or existence changes."""
        old = db.execute("SELECT content_hash, public, deleted_at FROM ledger WHERE id = ?", (record_id,)).fetchone()
        if old is None:
            db.execute("INSERT INTO ledger(id, content_hash, datestamp, public, ever_public, deleted_at) "
                       "VALUES (?,?,?,?,?,NULL)", (record_id, digest, now, public, public))
        elif old["content_hash"] != digest or old["public"] != public or old["deleted_at"] is not None:
            db.execute("UPDATE ledger SET content_hash = ?, datestamp = ?, public = ?, "
                       "ever_public = MAX(ever_public, ?), deleted_at = NULL WHERE id = ?",
                       (digest, now, public, public, record_id))

    def _remove(self, db, record_id: str, now: str) -> None:
        row = db.execute("SELECT rowid FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is not None:
            self._delete_derived(db, row["rowid"])
        db.execute("UPDATE ledger SET deleted_at = ?, datestamp = ?, public = 0 WHERE id = ?",
                   (now, now, record_id))

    @staticmethod
    def _delete_derived(db, rowid: int) -> None:
        # an external-content FTS table forgets a row only when told the exact text it indexed
        db.execute("INSERT INTO record_text(record_text, rowid, title, people, provenance, body, notes) "
                   "SELECT 'delete', * FROM record_text_source WHERE rowid = ?", (rowid,))
        db.execute("DELETE FROM records WHERE rowid = ?", (rowid,))
        db.execute("DELETE FROM facets WHERE record_rowid = ?", (rowid,))

    def _release_due(self, db, today: str, now: str) -> int:
        due = db.execute("SELECT id FROM records WHERE public = 0 AND release_date IS NOT NULL "
                         "AND release_date <= ?", (today,)).fetchall()
        for row in due:
            db.execute("UPDATE records SET public = 1 WHERE id = ?", (row["id"],))
            db.execute("UPDATE ledger SET public = 1, ever_public = 1, datestamp = ? WHERE id = ?",
                       (now, row["id"]))
        return len(due)

    # -- reading ---------------------------------------------------------------------------
    def get(self, record_id: str, include_restricted: bool = False) -> Record | None:
        """The record with this id, or None (also for restricted records unless asked)."""
        row = self.get_row(record_id, include_restricted)
        return None if row is None else self.record_from_row(row)

    def get_row(self, record_id: str, include_restricted: bool = False) -> sqlite3.Row | None:
        if not isinstance(record_id, str) or not VALID_ID.fullmatch(record_id):
            return None
        sql = "SELECT * FROM records WHERE id = ?" + ("" if include_restricted else " AND public = 1")
        return self.db.execute(sql, (record_id,)).fetchone()

    def content_hash(self, record_id: str) -> str | None:
        """The public record's content hash (a cache key that changes with its content), or None."""
        if not isinstance(record_id, str) or not VALID_ID.fullmatch(record_id):
            return None
        row = self.db.execute("SELECT content_hash FROM records WHERE id = ? AND public = 1", (record_id,)).fetchone()
        return row[0] if row else None

    def record_from_row(self, row: sqlite3.Row) -> Record:
        """Parse a stored record, memoised by content hash (records are immutable values)."""
        key = (row["id"], row["content_hash"])
        with self._cache_mutex:
            record = self._cache.get(key)
            if record is not None:
                self._cache.move_to_end(key)
                return record
        record = Record.model_validate_json(source_bytes(row))
        with self._cache_mutex:
            self._cache[key] = record
            while len(self._cache) > RECORD_CACHE_SIZE:
                self._cache.popitem(last=False)
        return record

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM records WHERE public = 1").fetchone()[0]

    def list_rows(self, offset: int, limit: int) -> list[sqlite3.Row]:
        """Public records in date order (date, then id), without their source."""
        return self.db.execute(
            "SELECT id, title, date, date_as_printed, document_type, creators, recipients, collection, "
            "collection_slug, classification, content_hash FROM records WHERE public = 1 "
            "ORDER BY date, id LIMIT ? OFFSET ?", (limit, offset)).fetchall()

    def problems(self) -> list[dict]:
        """Bad files and their messages; a bad file whose record is still served says so."""
        out = []
        for row in self.db.execute("SELECT p.path, p.messages, r.id AS served FROM problems p "
                                   "LEFT JOIN records r ON r.path = p.path ORDER BY p.path"):
            out.append({"path": f"records/{row['path']}", "problems": json.loads(row["messages"]),
                        "serving_last_valid_version": row["served"] is not None})
        return out

    def last_change(self) -> str | None:
        """Latest datestamp in the ledger: a cheap validator for caches."""
        return self.db.execute("SELECT MAX(datestamp) FROM ledger").fetchone()[0]


class _FileLock:
    """An advisory inter-process lock; `__enter__` says whether it was obtained."""

    def __init__(self, path: Path, blocking: bool):
        self.path = path
        self.blocking = blocking
        self.handle = None

    def __enter__(self) -> bool:
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | (0 if self.blocking else fcntl.LOCK_NB))
            return True
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            return False

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


# -- what a record contributes to the index (pure functions) ----------------------------------

@dataclass
class PreparedFile:
    """One file read and checked, with everything the index needs; picklable for a process pool."""

    name: str
    stamp: tuple[int, int]
    problems: list[str]
    record_id: str = ""
    digest: str = ""
    source: bytes = b""
    """The file's bytes, zlib-compressed: the index holds every record, so this halves what a build writes."""
    columns: dict | None = None
    facets: list | None = None
    texts: tuple | None = None


def compress_source(data: bytes) -> bytes:
    """The fastest zlib level: it halves the index (and what a build writes) at the least CPU."""
    return zlib.compress(data, 1)


def source_bytes(row: sqlite3.Row) -> bytes:
    """The record file exactly as it was last valid (the index keeps it compressed)."""
    return zlib.decompress(row["source"])


@functools.lru_cache(maxsize=64)
def _stored_texts(source: bytes) -> tuple[str, str, str, str, str]:
    return search_texts(Record.model_validate_json(zlib.decompress(source)))


def record_text_column(source: bytes, column: int) -> str:
    """SQL function behind `record_text_source`: one full-text column of a stored record."""
    return _stored_texts(source)[column]


def prepare_file(folder: str, name: str, stamp: tuple[int, int], today: str) -> PreparedFile:
    shown = f"records/{name}"
    try:
        data = (Path(folder) / name).read_bytes()
    except OSError as exc:
        return PreparedFile(name, stamp, [str(Problem(shown, f"cannot be read ({exc.strerror})"))])
    record, problems = check_bytes(data, shown)
    if problems:
        return PreparedFile(name, stamp, [str(p) for p in problems])
    columns = index_columns(record)
    columns["public"] = int(record.is_public(dt.date.fromisoformat(today)))
    return PreparedFile(name, stamp, [], record.id, content_hash(record), compress_source(data), columns,
                        facet_values(record), search_texts(record))


def _agents(agents) -> list[str]:
    return [a.name for a in agents]


def _record_agents(record: Record, attr: str) -> list[str]:
    names = _agents(getattr(record, attr))
    for part in record.parts or []:
        names += [n for n in _agents(getattr(part, attr)) if n not in names]
    return names


def index_columns(record: Record) -> dict[str, object]:
    date = record.date
    return {
        "title": record.title,
        "document_type": record.document_type,
        "date": date.date.isoformat(),
        "date_as_printed": date.as_printed,
        "year": date.date.year,
        "creators": json.dumps(_record_agents(record, "creators"), ensure_ascii=False),
        "recipients": json.dumps(_record_agents(record, "recipients"), ensure_ascii=False),
        "collection": record.provenance.collection.name,
        "collection_slug": slugify(record.provenance.collection.name),
        "repository": record.provenance.repository.name,
        "classification": record.provenance.classification.level,
        "file_number": record.provenance.file_number,
        "summary": record.description.summary,
        "page_count": len(record.all_pages()),
        "access": record.access.status,
        "release_date": record.access.release_date.isoformat() if record.access.release_date else None,
    }


def facet_values(record: Record) -> list[tuple[str, str]]:
    """(facet, value) pairs: what the record is counted under in browse and OAI-PMH sets."""
    year = record.date.date.year
    pairs = [
        ("collection", record.provenance.collection.name),
        ("repository", record.provenance.repository.name),
        ("type", record.document_type),
        ("classification", record.provenance.classification.level),
        ("decade", f"{year // 10 * 10}s"),
        ("year", str(year)),
    ]
    pairs += [("type", part.document_type) for part in record.parts or []]
    pairs += [("creator", name) for name in _record_agents(record, "creators")]
    pairs += [("recipient", name) for name in _record_agents(record, "recipients")]
    places = list(record.places) + [p for part in record.parts or [] for p in part.places]
    pairs += [("place", place.name) for place in places]
    return list(dict.fromkeys(pairs))


def search_texts(record: Record) -> tuple[str, str, str, str, str]:
    """The five full-text columns: title, people, provenance, body, notes.

    The index recomputes these from stored records to forget a changed one, so a change here
    must bump INDEX_VERSION (a rebuild), or old rows could not be removed from the index."""
    agents = list(record.creators) + list(record.recipients)
    for part in record.parts or []:
        agents += list(part.creators) + list(part.recipients)
    people = [f"{a.name} {a.office or ''} {a.as_printed or ''}" for a in agents]
    people += [f"{p.name} {p.as_printed or ''}" for p in record.persons_mentioned]
    prov = record.provenance
    provenance = [prov.repository.name, prov.repository.division or "", prov.collection.name,
                  prov.collection.series or "", prov.collection.file or "", prov.file_number or "",
                  *prov.classification.as_marked, *(m.text for m in prov.markings),
                  *(d.authority for d in prov.declassification),
                  *(f"{e.title} {e.document_number or ''}" for e in prov.editions)]
    body = "\n\n".join(page.text for _part, page in record.all_pages())
    notes = [record.description.summary or "", *record.description.subjects,
             *(n.text for n in record.description.notes), *(f.text for f in record.footnotes),
             *(c.reading for c in record.corrections)]
    return (record.title, "\n".join(people), "\n".join(p for p in provenance if p), body,
            "\n".join(n for n in notes if n))
