"""The read API: every question a surface asks the index, answered through `public_records`.

Surfaces never write SQL; they call these methods (mixed into `SQLiteIndex`). `catalog.index.api`
lists them as the protocol a second backend (a server database) implements.
"""

from __future__ import annotations

import bisect
import dataclasses
import heapq
import itertools
import json
import os
import re
import sqlite3

from catalog.index import fulltext
from catalog.index import fulltext_search
from catalog.index import ledger
from catalog.index import oai
from catalog.index import search
from catalog.index import suggest
from catalog.index.projection import decompress_source
from catalog.model import RECORD_ID_PATTERN
from catalog.model import Record
from catalog.model import slugify

VALID_ID = re.compile(RECORD_ID_PATTERN)
LOW_DISK_BYTES = 64 * 2**20
"""Below this much free space in the instance folder, /api/health says the index may not be writable."""


def _free_bytes(folder) -> int | None:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def _valid_id(record_id: object) -> bool:
    return isinstance(record_id, str) and VALID_ID.fullmatch(record_id) is not None


CHANGE_KINDS = ("record", "collection", "collections")
"""What a change is about, in the order changes of one datestamp are listed: a record's manifest,
then an archival collection (after the members whose change dated it), then the collection of them all."""


@dataclasses.dataclass(frozen=True)
class Change:
    """One entry of the change stream (IIIF Change Discovery): what changed, its latest datestamp, and
    whether it is served now (False: removed, restricted, or, for a collection, left with no public member).

    `key` is the record id for a record, the slug for an archival collection, "" for the collection of all."""

    kind: str
    key: str
    datestamp: str
    live: bool

    @property
    def position(self) -> tuple[str, int, str]:
        """Where the change sorts in the stream: (datestamp, kind, key)."""
        return self.datestamp, CHANGE_KINDS.index(self.kind), self.key


class Reading:
    """The reading half of the SQLite index."""

    # -- one record ----------------------------------------------------------------------------
    def record(self, record_id: str) -> Record | None:
        """The public record with this id, or None (unknown and restricted alike)."""
        row = self._public_row(record_id)
        return None if row is None else self.record_from(row["id"], row["content_hash"], row["source"])

    def record_from(self, record_id: str, digest: str, stored_source: bytes) -> Record:
        """Parse a stored record, cached per content hash (records are immutable values)."""
        return self.cache.get(("record", record_id, digest),
                              lambda: Record.model_validate_json(decompress_source(stored_source)), per_record=True)

    def source(self, record_id: str) -> bytes | None:
        """The public record's file exactly as it was last valid, or None."""
        row = self._public_row(record_id)
        return None if row is None else decompress_source(row["source"])

    def content_hash(self, record_id: str) -> str | None:
        """The public record's content hash (a cache key that changes with its content), or None."""
        if not _valid_id(record_id):
            return None
        row = self.db.execute("SELECT content_hash FROM public_records WHERE id = ?", (record_id,)).fetchone()
        return row[0] if row else None

    def manifest_template(self, record_id: str, digest: str) -> bytes | None:
        """The manifest template (`manifests.templates`) of this version of the public record, or
        None: unknown, restricted, changed since, or none kept (released since it was indexed)."""
        if not _valid_id(record_id):
            return None
        row = self.db.execute("SELECT m.template FROM public_records r JOIN manifests m ON m.record_rowid = r.rowid "
                              "WHERE r.id = ? AND r.content_hash = ?", (record_id, digest)).fetchone()
        return row[0] if row else None

    def datestamp(self, record_id: str) -> str | None:
        """When the record last changed, as the OAI ledger says (also Last-Modified)."""
        row = self.db.execute("SELECT datestamp FROM ledger WHERE id = ?", (record_id,)).fetchone()
        return row[0] if row else None

    def _public_row(self, record_id: str) -> sqlite3.Row | None:
        if not _valid_id(record_id):
            return None
        return self.db.execute("SELECT id, content_hash, source FROM public_records WHERE id = ?",
                               (record_id,)).fetchone()

    # -- lists -----------------------------------------------------------------------------------
    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM public_records").fetchone()[0]

    def summaries(self, offset: int, limit: int) -> list[dict]:
        """Public records in date order (date, then id), without their source."""
        rows = self.db.execute(
            "SELECT id, title, date, date_as_printed, document_type, creators, recipients, collection, "
            "collection_slug, classification, content_hash FROM public_records "
            "ORDER BY date, id LIMIT ? OFFSET ?", (limit, offset)).fetchall()
        return [dict(row, creators=json.loads(row["creators"]), recipients=json.loads(row["recipients"]))
                for row in rows]

    def sitemap_entries(self, offset: int, limit: int) -> list[tuple[str, str | None]]:
        """(id, datestamp) of public records in date order."""
        return [tuple(row) for row in self.db.execute(
            "SELECT r.id, l.datestamp FROM (SELECT id FROM public_records ORDER BY date, id "
            "LIMIT ? OFFSET ?) r LEFT JOIN ledger l ON l.id = r.id", (limit, offset))]

    # -- browse and search -----------------------------------------------------------------------
    def search(self, filters: search.Filters, sort: str, page: int, per_page: int) -> search.Result:
        engine = self._mirror_engine(filters)
        if engine is not None:
            return fulltext_search.run_search(engine, self.search_db, self.cache, filters, sort, page, per_page)
        return search.search(self.search_db, self.cache, filters, sort, page, per_page)

    def facet_counts(self, filters: search.Filters) -> dict[str, list[tuple[str, int]]]:
        engine = self._mirror_engine(filters)
        counted = fulltext_search.run_facet_counts(engine, filters, self.cache) if engine is not None else None
        return counted if counted is not None else search.facet_counts(self.search_db, self.cache, filters)

    def suggest(self, text: str, limit: int) -> dict[str, list]:
        """Words (of public records) and headings that complete the last word of `text`."""
        table = self.cache.get(("heading table",), lambda: suggest.heading_table(self.facet_counts(search.Filters())))
        return {"words": self._suggest_words(text, limit),
                "headings": suggest.headings(table, suggest.last_word(text), limit)}

    def _suggest_words(self, text: str, limit: int) -> list[str]:
        typed = suggest.last_word(text)
        words = fulltext_search.index_words((typed,)) if typed and self.fulltext.enabled else []
        searcher = self.fulltext.searcher(fulltext.text_marker(self.search_db)) if words else None
        if searcher is None:
            return []
        withheld = self.cache.get(("withheld set",), lambda: frozenset(
            fulltext_search.withheld_rowids(self.search_db, self.cache)))
        candidates = suggest.candidate_words(searcher, fulltext.TEXT_FIELDS, words[-1])
        return suggest.public_words(self.search_db, candidates, withheld, limit)

    def _mirror_engine(self, filters: search.Filters) -> fulltext_search.Engine | None:
        """The full-text mirror's answer to `filters`, when the mirror is current and can say it exactly."""
        if not filters.narrowed or not self.fulltext.enabled:
            return None
        searcher = self.fulltext.searcher(fulltext.text_marker(self.search_db))
        if searcher is None:
            return None
        query = fulltext_search.query_for(self.fulltext.schema, filters,
                                          fulltext_search.withheld_rowids(self.search_db, self.cache))
        return None if query is None else fulltext_search.Engine(searcher, query)

    # -- people ----------------------------------------------------------------------------------
    def records_naming(self, words: tuple[str, ...], limit: int) -> list[Record]:
        """Public records whose people (creators, recipients, persons mentioned, in parts too) hold
        `words` in a row, in (date, id) order, at most `limit`: the candidates a person page keeps
        those of that name from (`facts.person_words` makes the words as the index holds them)."""
        if not words or not all(isinstance(w, str) and w.isalnum() for w in words) or limit <= 0:
            return []
        match = 'people : "' + " ".join(words) + '"'
        rows = self.db.execute(
            "SELECT r.id, r.content_hash, r.source FROM record_text t JOIN public_records r ON r.rowid = t.rowid "
            "WHERE record_text MATCH ? ORDER BY r.date, r.id LIMIT ?", (match, limit)).fetchall()
        return [self.record_from(row["id"], row["content_hash"], row["source"]) for row in rows]

    # -- collections -----------------------------------------------------------------------------
    def collections(self) -> list[dict]:
        """Every collection with public records: name, slug, holding repositories, count, first and last year."""
        return self.cache.get(("collections",), self._collections)

    def collection(self, slug: str) -> dict | None:
        return next((c for c in self.collections() if c["slug"] == slug), None)

    def collection_members(self, name: str, offset: int, limit: int) -> list[dict]:
        """(id, title, date) of a collection's public records in date order."""
        return [dict(row) for row in self.db.execute(
            "SELECT r.id, r.title, r.date FROM facets f JOIN public_records r ON r.rowid = f.record_rowid "
            "WHERE f.facet = 'collection' AND f.value = ? ORDER BY r.date, r.id LIMIT ? OFFSET ?",
            (name, limit, offset))]

    def _collections(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT c.value AS name, r.value AS repository, MIN(y.value) AS first, MAX(y.value) AS last, "
            "COUNT(*) AS n FROM facets c JOIN facets r ON r.record_rowid = c.record_rowid AND r.facet = 'repository' "
            "JOIN facets y ON y.record_rowid = c.record_rowid AND y.facet = 'year' "
            "WHERE c.facet = 'collection' AND +c.record_rowid NOT IN (SELECT rowid FROM withheld_records) "
            "GROUP BY c.value, r.value")
        found: dict[str, dict] = {}
        for row in rows:
            entry = found.setdefault(row["name"], {"name": row["name"], "slug": slugify(row["name"]), "count": 0,
                                                  "repositories": [], "first_year": row["first"],
                                                  "last_year": row["last"]})
            entry["count"] += row["n"]
            entry["repositories"].append(row["repository"])
            entry["first_year"] = min(entry["first_year"], row["first"])
            entry["last_year"] = max(entry["last_year"], row["last"])
        return sorted(found.values(), key=lambda entry: entry["name"].casefold())

    # -- OAI-PMH ---------------------------------------------------------------------------------
    def oai_earliest_datestamp(self) -> str | None:
        return oai.earliest_datestamp(self.db)

    def oai_sample_id(self) -> str | None:
        return oai.sample_id(self.db)

    def oai_sets(self) -> list[tuple[str, str]]:
        return oai.list_sets(self.db)

    def oai_has_live_items(self) -> bool:
        return oai.has_live_items(self.db)

    def oai_resolve_set(self, spec: str) -> oai.SetFilter | None:
        return oai.resolve_set(self.db, spec)

    def oai_item(self, record_id: str) -> oai.Item | None:
        return oai.get_item(self.db, record_id) if _valid_id(record_id) else None

    def oai_items(self, window: oai.Window, limit: int, with_source: bool) -> list[oai.Item]:
        return oai.list_items(self.db, window, limit, with_source)

    def oai_count(self, window: oai.Window) -> int:
        return self.cache.get(("oai count", window), lambda: oai.count_items(self.db, window))

    def oai_response_date(self) -> str:
        """The responseDate for an OAI-PMH answer given now: never later than a refresh whose changes
        are not yet visible, so `from=<responseDate>` on the next harvest cannot skip them."""
        now = ledger.datestamp(self.clock())
        try:
            pending = (self.instance_dir / "refresh.pending").read_text().strip()
        except OSError:
            return now
        return min(now, pending) if len(pending) == len(now) else now

    def oai_record(self, item: oai.Item) -> Record:
        """Parsed for one use, not cached: a harvest reads every record once (its metadata bytes are
        what is kept, `catalog.oai.fragments`), and caching them would fill each worker with a
        thousand parsed records and push out what pages reuse."""
        return Record.model_validate_json(decompress_source(item.row["source"]))

    # -- the change stream (IIIF Change Discovery) -------------------------------------------
    def change_count(self) -> int:
        """How many entries `changes` lists in all."""
        return self.cache.get(("change count",),
                              lambda: self._ledger_change_count() + len(self._collection_changes()))

    def changes(self, offset: int, limit: int) -> list[Change]:
        """Entries `offset` to `offset + limit` of the change stream, in (datestamp, kind, key) order.

        One entry per ledger entry that was ever public (its latest state only: the ledger keeps one
        datestamp per id), one per archival collection that ever had a public member, dated by the
        latest change among its members (a member's own datestamp, or when one left it), and one for
        the collection of them all, dated by the latest of those. Datestamps never go backwards, so a
        change moves its entry to the end of the stream: the entries after its old place move one
        place forward, and a client walking backwards from the end sees some twice, never misses one.
        """
        if offset < 0 or limit <= 0:
            return []
        collections = self._collection_changes()
        before = bisect.bisect_left(self._collection_positions(), offset)  # collection entries before it
        records = self._ledger_changes(offset - before, limit)
        merged = heapq.merge(records, collections[before:before + limit], key=lambda change: change.position)
        return list(itertools.islice(merged, limit))

    def _ledger_change_count(self) -> int:
        return self.cache.get(("ledger change count",), lambda: self.db.execute(
            "SELECT COUNT(*) FROM ledger WHERE ever_public = 1").fetchone()[0])

    def _ledger_changes(self, start: int, limit: int) -> list[Change]:
        """Ledger entries `start` to `start + limit` in (datestamp, id) order; read from the far end when
        nearer to it (a client reads the last pages first)."""
        total = self._ledger_change_count()
        end = min(total, start + limit)
        if start >= end:
            return []
        backwards = start > total - end
        order = "DESC" if backwards else "ASC"
        rows = self.db.execute(
            f"SELECT l.id, l.datestamp, {oai.LIVE} AND r.rowid IS NOT NULL AS live FROM "
            f"(SELECT id, datestamp, public, deleted_at FROM ledger WHERE ever_public = 1 "
            f"ORDER BY datestamp {order}, id {order} LIMIT ? OFFSET ?) l "
            "LEFT JOIN public_records r ON r.id = l.id",
            (end - start, total - end if backwards else start)).fetchall()
        return sorted((Change("record", row["id"], row["datestamp"], bool(row["live"])) for row in rows),
                      key=lambda change: change.position)

    def _collection_changes(self) -> list[Change]:
        return self.cache.get(("collection changes",), self._dated_collections)

    def _dated_collections(self) -> list[Change]:
        return dated_collections(
            self.db.execute(
                "SELECT f.value AS name, MAX(l.datestamp) AS changed FROM facets f "
                "CROSS JOIN public_records r ON r.rowid = f.record_rowid CROSS JOIN ledger l ON l.id = r.id "
                "WHERE f.facet = 'collection' GROUP BY f.value").fetchall(),
            self.db.execute("SELECT value AS name, MAX(left_at) AS changed FROM set_departures "
                            "WHERE facet = 'collection' GROUP BY value").fetchall())

    def _collection_positions(self) -> list[int]:
        """Where each collection entry stands in the whole stream: after every ledger entry of its
        datestamp or earlier (counted from the end, where collections' latest changes usually are)."""
        def positions() -> list[int]:
            total, collections = self._ledger_change_count(), self._collection_changes()
            later = {datestamp: self.db.execute("SELECT COUNT(*) FROM ledger WHERE datestamp > ? "
                                                "AND ever_public = 1", (datestamp,)).fetchone()[0]
                     for datestamp in {change.datestamp for change in collections}}
            return [n + total - later[change.datestamp] for n, change in enumerate(collections)]
        return self.cache.get(("collection change positions",), positions)

    # -- the catalog's state -------------------------------------------------------------------
    def problems(self) -> list[dict]:
        """Bad files and their messages; a bad file whose record is still served says so."""
        out = []
        for row in self.db.execute("SELECT p.path, p.messages, r.id AS served FROM problems p "
                                   "LEFT JOIN records r ON r.path = p.path ORDER BY p.path"):
            out.append({"path": f"records/{row['path']}", "problems": json.loads(row["messages"]),
                        "serving_last_valid_version": row["served"] is not None})
        return out

    def warnings(self) -> list[dict]:
        """What `catalog validate` warns about served records (public ones only: a warning may quote the
        record, and a restricted record's text never leaves the index)."""
        return [{"path": f"records/{row['path']}", "warnings": json.loads(row["warnings"])}
                for row in self.db.execute("SELECT path, warnings FROM public_records WHERE warnings IS NOT NULL "
                                           "ORDER BY path")]

    def faults(self) -> list[dict]:
        """What keeps the index from following the folder right now (empty when all is well)."""
        found = [dict(row) for row in self.db.execute("SELECT kind, reason, since FROM faults ORDER BY kind")]
        free = _free_bytes(self.instance_dir)
        if free is not None and free < LOW_DISK_BYTES:
            found.append({"kind": "disk", "since": None,
                          "reason": f"the instance folder has {free // 2**20} MiB free: the index cannot take changes"})
        if self.write_failure:
            found.append({"kind": "index write", "since": None, "reason": self.write_failure})
        if self.rebuilding():
            found.append({"kind": "index rebuilding", "since": None,
                          "reason": "the index was found corrupted and is being rebuilt from the record files"})
        return found

    def last_change(self) -> str | None:
        """Latest datestamp in the ledger: a cheap validator for caches."""
        return self.db.execute("SELECT MAX(datestamp) FROM ledger").fetchone()[0]

    def generation(self) -> int:
        """A number that moves whenever a refresh changes what is served (the cache's version)."""
        return self.db.execute("SELECT value FROM generation WHERE id = 1").fetchone()[0]


def dated_collections(members, departures) -> list[Change]:
    """Archival collections (by slug, as /iiif/collection/<slug> serves them) and the collection of
    them all, each dated by the latest change among its members, in stream order; from (name, changed)
    rows of collections with public members, then of collections records have left (either backend)."""
    dated: dict[str, list] = {}  # slug: [latest change, has a public member]
    for rows, live in ((members, True), (departures, False)):
        for row in rows:
            entry = dated.setdefault(slugify(row["name"]), [row["changed"], live])
            entry[0] = max(entry[0], row["changed"])
    found = [Change("collection", slug, changed, live) for slug, (changed, live) in dated.items()]
    if found:
        found.append(Change("collections", "", max(change.datestamp for change in found), True))
    return sorted(found, key=lambda change: change.position)
