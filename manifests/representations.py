"""IIIF documents that change only when their record does, built once per content hash and kept as bytes.

A manifest (or a canvas's annotation page) is a pure function of the record version, the base URL and
the provider, so it is keyed by exactly those: `(name, record id, content hash, context)`. Two tiers:
- per worker, in memory, bounded by size (least recently used out): a warm request is a lookup;
- on disk under the instance folder (`iiif-json/<record id>/`), shared by every worker and surviving
  restarts: one file per representation and context, the record's older versions removed when a new
  one is written, so the folder is bounded by the catalog, not by its history.

A file holds its body's digest on its first line; a file that does not match (torn by a crash) is
rebuilt, never served. A disk that cannot be written costs only the disk tier.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MEMORY_BYTES = 16 * 2**20
"""Bytes of documents kept per worker (some 1,000 manifests of a few pages; the rest are read from disk):
with the OAI-PMH fragments and the index's page caches, a worker stays within 150 MB."""
FOLDER = "iiif-json"

log = logging.getLogger("catalog.iiif")


def digest_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Stored:
    """A document's bytes and their digest (the ETag)."""

    body: bytes
    digest: str


class Representations:
    def __init__(self, folder: Path, memory_bytes: int = MEMORY_BYTES):
        self.folder = folder
        self._limit = memory_bytes
        self._entries: OrderedDict[tuple, Stored] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, name: str, record_id: str, digest: str, context: str, build: Callable[[], bytes],
            kept: Callable[[], bytes | None] | None = None) -> Stored:
        """The document `build()` makes for this record version and context, built at most once.
        `kept()`, when given, is asked before the disk tier: a copy the index already keeps
        (a manifest filled in from its template), remembered in memory only."""
        key = (name, record_id, digest, context)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        body = kept() if kept is not None else None
        if body is not None:
            found = Stored(body, digest_of(body))
            self._remember(key, found)
            return found
        path = self._path(name, record_id, digest, context)
        found = _read(path)
        if found is None:
            body = build()
            found = Stored(body, digest_of(body))
            self._write(path, found)
        self._remember(key, found)
        return found

    def _remember(self, key: tuple, stored: Stored) -> None:
        with self._lock:
            if key not in self._entries:
                self._entries[key] = stored
                self._size += len(stored.body)
            while self._size > self._limit and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped.body)

    def _path(self, name: str, record_id: str, digest: str, context: str) -> Path:
        where = hashlib.blake2b(context.encode(), digest_size=6).hexdigest()
        return self.folder / record_id / f"{name}.{where}.{digest[:20]}.json"

    def _write(self, path: Path, stored: Stored) -> None:
        """Write through a temporary file renamed into place, then remove this document's older
        versions. A record's first document creates its folder, so there is nothing old to look
        for: a first-time manifest costs a mkdir, one write and one rename."""
        try:
            try:
                path.parent.mkdir(parents=True)
                fresh = True
            except FileExistsError:
                fresh = False
            temporary = path.parent / f".{os.getpid()}.{threading.get_ident()}.part"
            try:
                with open(temporary, "wb") as out:
                    out.write(stored.digest.encode() + b"\n" + stored.body)
                os.replace(temporary, path)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            if not fresh:
                prefix = path.name.rsplit(".", 2)[0] + "."
                for old in path.parent.iterdir():
                    if old.name.startswith(prefix) and old.name != path.name and not old.name.endswith(".part"):
                        old.unlink(missing_ok=True)
        except OSError as error:
            log.warning("IIIF document not kept on disk (%s): %s", path, error)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


def _read(path: Path) -> Stored | None:
    """The stored document, or None when absent, unreadable or not the bytes its digest names."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, _, body = data.partition(b"\n")
    digest = head.decode("ascii", "replace")
    return Stored(body, digest) if digest_of(body) == digest else None
