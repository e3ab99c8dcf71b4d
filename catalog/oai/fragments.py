"""Each record's `<metadata>` per format, serialized once per record version and served as bytes.

A record's metadata in a format depends only on its content (the content hash), the format and a
few settings (the base URL, the repository identifier, the institution's name: the "context"), so it
is built once and kept as the exact bytes it serializes to inside a response: a ListRecords page is
the envelope with these fragments spliced in (`xml.Document`), never a tree of every record. Two
tiers, both keyed by (content hash, prefix, context):

- per worker, in memory: least recently used out once `MEMORY_BYTES` are held;
- per server, on disk (`oai-fragments.sqlite3` in the instance folder), written on first use, so a
  new worker or a harvest after a restart does not rebuild them. Its rows are tagged with
  `SERIALIZER_VERSION` (the source of every module the bytes depend on): a new version of the code
  makes the table anew. Content hashes are immutable, so an edit or a deletion never makes
  a row wrong; writing a record's new version removes its old ones, so edits do not pile up.

Only live items are looked up (a deleted or restricted record has no `<metadata>`), so nothing is
ever served from here that the index does not list as public now.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import logging
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from catalog.oai.xml import OAI_NS
from catalog.oai.xml import XSI_NS
from catalog.oai.xml import oai
from catalog.oai.xml import serialize

log = logging.getLogger(__name__)

MEMORY_BYTES = 16 * 2**20
"""Per worker: about 10,000 Dublin Core records; the rest come from the file on disk."""

STORE_NAME = "oai-fragments.sqlite3"
WRITE_TIMEOUT = 0.05
"""Seconds a worker waits to write fragments; a busy file is skipped (they are written next time)."""
SETUP_TIMEOUT = 5.0
"""Seconds a worker waits for the file when it first opens it (once per version of the code)."""

Key = tuple[str, str, str]
"""(content hash, metadata prefix, context: the settings the bytes depend on, see `verbs._context`)."""


def _serializer_version() -> str:
    """A digest of the code the bytes depend on: the serializers, the facts, the URLs, the model, lxml
    and pycountry (language codes)."""
    from catalog import facts
    from catalog import languages
    from catalog import model
    from catalog import urls

    package = Path(__file__).parent
    files = sorted(package.glob("*.py")) + [Path(m.__file__) for m in (facts, languages, model, urls)]
    versions = (etree.LXML_VERSION, etree.LIBXML_VERSION, importlib.metadata.version("pycountry"))
    digest = hashlib.sha256(repr(versions).encode())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


SERIALIZER_VERSION = _serializer_version()

_METADATA_OPEN = b"<metadata>"
_METADATA_CLOSE = b"</metadata>"


def metadata_bytes(element: etree._Element) -> bytes:
    """`<metadata>` holding `element`, as it serializes inside a response.

    Namespace declarations that the envelope already makes are dropped when an element is moved into
    it, so the element is serialized under the envelope's own root (the `<OAI-PMH>` element declares
    the OAI and xsi namespaces; `<GetRecord>`, `<ListRecords>` and `<record>` declare none)."""
    root = etree.Element(oai("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    etree.SubElement(etree.SubElement(root, oai("record")), oai("metadata")).append(element)
    body = serialize(root)
    return body[body.index(_METADATA_OPEN):body.rindex(_METADATA_CLOSE) + len(_METADATA_CLOSE)]


class MemoryTier:
    """Fragments bounded by their total size, least recently used out first."""

    def __init__(self, limit: int = MEMORY_BYTES):
        self.limit = limit
        self.size = 0
        self._entries: OrderedDict[Key, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Key, value: bytes) -> None:
        if len(value) > self.limit:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.size += len(value) - (len(old) if old is not None else 0)
            self._entries[key] = value
            while self.size > self.limit:
                _, dropped = self._entries.popitem(last=False)
                self.size -= len(dropped)


class DiskTier:
    """Fragments in a SQLite file of the server's own (both index backends): never blocks a reader."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._broken = False

    def _db(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():  # a connection is never used across a fork
            try:
                conn = sqlite3.connect(self.path, timeout=SETUP_TIMEOUT, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=OFF")  # a lost row is rebuilt; no fsync per page
                self._made_for_this_version(conn)
                conn.execute(f"PRAGMA busy_timeout={int(WRITE_TIMEOUT * 1000)}")
            except sqlite3.Error as error:
                log.warning("OAI-PMH fragments are kept in memory only: %s: %s", self.path, error)
                self._broken = True
                return None
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @staticmethod
    def _made_for_this_version(conn: sqlite3.Connection) -> None:
        """The table as this version of the code makes it: made anew (empty) when another version wrote it."""
        conn.execute("CREATE TABLE IF NOT EXISTS written_by (version TEXT PRIMARY KEY)")
        if conn.execute("SELECT 1 FROM written_by WHERE version = ?", (SERIALIZER_VERSION,)).fetchone():
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not conn.execute("SELECT 1 FROM written_by WHERE version = ?", (SERIALIZER_VERSION,)).fetchone():
                conn.execute("DROP TABLE IF EXISTS fragments")
                conn.execute("CREATE TABLE fragments (content_hash TEXT NOT NULL, prefix TEXT NOT NULL, "
                             "context TEXT NOT NULL, version TEXT NOT NULL, record_id TEXT NOT NULL, xml BLOB NOT NULL, "
                             "PRIMARY KEY (content_hash, prefix, context, version)) WITHOUT ROWID")
                conn.execute("CREATE INDEX fragments_record ON fragments(record_id)")
                conn.execute("DELETE FROM written_by")
                conn.execute("INSERT INTO written_by VALUES (?)", (SERIALIZER_VERSION,))
            conn.execute("COMMIT")
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            raise

    def get_many(self, keys: list[Key]) -> dict[Key, bytes]:
        conn = self._db()
        if conn is None or not keys:
            return {}
        found: dict[Key, bytes] = {}
        by_group: dict[tuple[str, str], list[str]] = {}
        for digest, prefix, context in keys:
            by_group.setdefault((prefix, context), []).append(digest)
        try:
            for (prefix, context), digests in by_group.items():
                marks = ", ".join("?" for _ in digests)
                for digest, xml in conn.execute(
                        f"SELECT content_hash, xml FROM fragments WHERE prefix = ? AND context = ? AND version = ? "
                        f"AND content_hash IN ({marks})", (prefix, context, SERIALIZER_VERSION, *digests)):
                    found[(digest, prefix, context)] = xml
        except sqlite3.Error as error:
            log.warning("OAI-PMH fragments could not be read from %s: %s", self.path, error)
            return {}
        return found

    def put_many(self, entries: dict[Key, tuple[str, bytes]]) -> None:
        """Write `entries` ({key: (record id, bytes)}), removing the rows of the records' earlier
        versions: an edited record keeps one version here, not one per edit."""
        conn = self._db()
        if conn is None or not entries:
            return
        rows = [(digest, prefix, context, SERIALIZER_VERSION, record_id, xml)
                for (digest, prefix, context), (record_id, xml) in entries.items()]
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM fragments WHERE record_id = ? AND content_hash != ?",
                             {(row[4], row[0]) for row in rows})
            conn.executemany("INSERT OR IGNORE INTO fragments VALUES (?, ?, ?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
        except sqlite3.Error:  # busy (another worker writes): these are written by whoever builds them next
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")


class Fragments:
    """The two tiers together: `many(wanted)` answers every key, building what neither holds."""

    def __init__(self, instance_dir: Path | None, memory_bytes: int = MEMORY_BYTES):
        self.memory = MemoryTier(memory_bytes)
        self.disk = DiskTier(Path(instance_dir) / STORE_NAME) if instance_dir is not None else None

    def many(self, wanted: dict[Key, tuple[str, Callable[[], etree._Element]]]) -> dict[Key, bytes]:
        """The fragment for each key; `wanted[key]` is (record id, a function building the metadata
        element when no tier has it)."""
        found: dict[Key, bytes] = {}
        missing = []
        for key in wanted:
            value = self.memory.get(key)
            if value is None:
                missing.append(key)
            else:
                found[key] = value
        if missing and self.disk is not None:
            for key, value in self.disk.get_many(missing).items():
                found[key] = value
                self.memory.put(key, value)
        built = {key: metadata_bytes(wanted[key][1]()) for key in missing if key not in found}
        for key, value in built.items():
            self.memory.put(key, value)
        if built and self.disk is not None:
            self.disk.put_many({key: (wanted[key][0], value) for key, value in built.items()})
        return {**found, **built}
