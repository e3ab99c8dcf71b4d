"""The one cache every surface uses: results keyed by what they depend on, per app instance.

Two kinds of entry, one rule each:
- `get(key, compute)`: depends on the index as a whole (counts, result pages, facet counts,
  collections, rendered browse pages). Kept until the index's generation moves, then dropped.
- `get(key, compute, per_record=True)`: depends on one record version only; the key must carry the
  record's content hash (parsed records, Dublin Core, manifests, rendered page images). Survives
  changes to other records, so an edit elsewhere does not make every manifest cold.

Both are bounded (least recently used first out). The cache belongs to one index (one app
instance); nothing is kept at module level, so two apps in one process never see each other's data.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

DEFAULT_SIZE = 1024


class VersionedCache:
    def __init__(self, version: Callable[[], object], size: int = DEFAULT_SIZE):
        self._version = version
        self._size = size
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._seen_version: object = None
        self._lock = threading.Lock()

    def get(self, key: tuple, compute: Callable[[], Any], per_record: bool = False) -> Any:
        """`compute()`, remembered under `key` (and, unless `per_record`, the index generation)."""
        full_key = ("record", key) if per_record else ("index", self._current_version(), key)
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                return self._entries[full_key]
        value = compute()
        with self._lock:
            self._entries[full_key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def _current_version(self) -> object:
        version = self._version()
        if version != self._seen_version:
            with self._lock:
                if version != self._seen_version:  # the index moved: drop what depended on it
                    for stale in [k for k in self._entries if k[0] == "index"]:
                        del self._entries[stale]
                    self._seen_version = version
        return version

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
