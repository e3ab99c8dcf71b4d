"""The change stream (IIIF Change Discovery) over PostgreSQL: the embedded index's `changes` and
`change_count` (borrowed as they are: they merge the ledger's entries with dated collections) on
top of these queries."""

from __future__ import annotations

from catalog.index.oai import LIVE
from catalog.index.reads import Change
from catalog.index.reads import Reading as EmbeddedReading
from catalog.index.reads import dated_collections


class ChangeStream:
    """Mixed into `PostgresIndex`: the helpers `EmbeddedReading.changes` calls, in PostgreSQL."""

    change_count = EmbeddedReading.change_count
    changes = EmbeddedReading.changes

    def _ledger_change_count(self) -> int:
        return self.cache.get(("ledger change count",), lambda: self._one(
            "SELECT COUNT(*) AS n FROM ledger WHERE ever_public = 1")["n"])

    def _ledger_changes(self, start: int, limit: int) -> list[Change]:
        total = self._ledger_change_count()
        end = min(total, start + limit)
        if start >= end:
            return []
        backwards = start > total - end
        order = "DESC" if backwards else "ASC"
        rows = self._all(
            f"SELECT l.id, l.datestamp, ({LIVE} AND r.rowid IS NOT NULL) AS live FROM "
            f"(SELECT id, datestamp, public, deleted_at FROM ledger WHERE ever_public = 1 "
            f"ORDER BY datestamp {order}, id {order} LIMIT %s OFFSET %s) l "
            "LEFT JOIN public_records r ON r.id = l.id", (end - start, total - end if backwards else start))
        return sorted((Change("record", row["id"], row["datestamp"], bool(row["live"])) for row in rows),
                      key=lambda change: change.position)

    def _collection_changes(self) -> list[Change]:
        return self.cache.get(("collection changes",), self._dated_collections)

    def _dated_collections(self) -> list[Change]:
        return dated_collections(
            self._all("SELECT f.value AS name, MAX(l.datestamp) AS changed FROM facets f "
                      "JOIN public_records r ON r.rowid = f.record_rowid JOIN ledger l ON l.id = r.id "
                      "WHERE f.facet = 'collection' GROUP BY f.value ORDER BY f.value"),
            self._all("SELECT value AS name, MAX(left_at) AS changed FROM set_departures "
                      "WHERE facet = 'collection' GROUP BY value ORDER BY value"))

    def _collection_positions(self) -> list[int]:
        def positions() -> list[int]:
            total, collections = self._ledger_change_count(), self._collection_changes()
            later = {stamp: self._one("SELECT COUNT(*) AS n FROM ledger WHERE datestamp > %s AND ever_public = 1",
                                      (stamp,))["n"]
                     for stamp in {change.datestamp for change in collections}}
            return [n + total - later[change.datestamp] for n, change in enumerate(collections)]
        return self.cache.get(("collection change positions",), positions)
