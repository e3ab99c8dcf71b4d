"""The read API over PostgreSQL: the same answers as `catalog.index.reads`, through `public_records`.

Each method reads with one statement, and so in one snapshot and one round trip (`Database.read`).
The generation counter is read at most every GENERATION_POLL_SECONDS: caches key on it, so every app
server sees another's refresh within that time, and a request costs no extra query.
"""

from __future__ import annotations

import json
import time

from catalog.index import suggest
from catalog.index.ledger import datestamp as format_datestamp
from catalog.index.postgres.schema import TEXT_CONFIG
from catalog.index.projection import decompress_source
from catalog.index.reads import _valid_id
from catalog.index.search import Filters
from catalog.model import Record
from catalog.model import slugify

GENERATION_POLL_SECONDS = 0.5
"""How stale this process's idea of the generation may be (another server's change shows within it)."""


class Reading:
    """The reading half of the PostgreSQL index (mixed into `PostgresIndex`)."""

    def _all(self, sql: str, args=()) -> list[dict]:
        return self.database.read(lambda conn: conn.execute(sql, args).fetchall(), snapshot=False)

    def _one(self, sql: str, args=()) -> dict | None:
        return self.database.read(lambda conn: conn.execute(sql, args).fetchone(), snapshot=False)

    # -- one record ------------------------------------------------------------------------------
    def record(self, record_id: str) -> Record | None:
        """The public record with this id, or None (unknown and restricted alike)."""
        row = self._public_row(record_id)
        return None if row is None else self.record_from(row["id"], row["content_hash"], row["source"])

    def record_from(self, record_id: str, digest: str, stored_source: bytes) -> Record:
        return self.cache.get(("record", record_id, digest),
                              lambda: Record.model_validate_json(decompress_source(stored_source)), per_record=True)

    def source(self, record_id: str) -> bytes | None:
        row = self._public_row(record_id)
        return None if row is None else decompress_source(row["source"])

    def content_hash(self, record_id: str) -> str | None:
        row = self._public_row(record_id)
        return row["content_hash"] if row else None

    def manifest_template(self, record_id: str, digest: str) -> bytes | None:
        """None: this backend keeps no manifest templates; manifests are built on first use."""
        return None

    def datestamp(self, record_id: str) -> str | None:
        row = self._one("SELECT datestamp FROM ledger WHERE id = %s", (record_id,))
        return row["datestamp"] if row else None

    def _public_row(self, record_id: str) -> dict | None:
        """The record's row, remembered until the generation moves (in `rows`, a cache of its own so
        a crawl through every record does not push rendered pages out of `cache`)."""
        if not _valid_id(record_id):
            return None
        return self.rows.get(("public row", record_id), lambda: self._one(
            "SELECT id, content_hash, source FROM public_records WHERE id = %s", (record_id,)))

    # -- lists -------------------------------------------------------------------------------------
    def count(self) -> int:
        return self._one("SELECT COUNT(*) AS n FROM public_records")["n"]

    def summaries(self, offset: int, limit: int) -> list[dict]:
        rows = self._all(
            "SELECT id, title, date, date_as_printed, document_type, creators, recipients, collection, "
            "collection_slug, classification, content_hash FROM public_records "
            "ORDER BY date, id LIMIT %s OFFSET %s", (limit, offset))
        return [dict(row, creators=json.loads(row["creators"]), recipients=json.loads(row["recipients"]))
                for row in rows]

    def sitemap_entries(self, offset: int, limit: int) -> list[tuple[str, str | None]]:
        return [(row["id"], row["datestamp"]) for row in self._all(
            "SELECT r.id, l.datestamp FROM (SELECT id, date FROM public_records ORDER BY date, id "
            "LIMIT %s OFFSET %s) r LEFT JOIN ledger l ON l.id = r.id ORDER BY r.date, r.id", (limit, offset))]

    def suggest(self, text: str, limit: int) -> dict[str, list]:
        """Headings that complete the last word of `text` (word suggestions come from the embedded
        index's full-text mirror, which PostgreSQL has no counterpart of yet)."""
        table = self.cache.get(("heading table",), lambda: suggest.heading_table(self.facet_counts(Filters())))
        return {"words": [], "headings": suggest.headings(table, suggest.last_word(text), limit)}

    def records_naming(self, words: tuple[str, ...], limit: int) -> list[Record]:
        """Public records whose people hold `words` in a row, in (date, id) order (as SQLite's)."""
        if not words or not all(isinstance(w, str) and w.isalnum() for w in words) or limit <= 0:
            return []
        phrase = " <-> ".join("'" + word.replace("'", "''") + "'" for word in words)
        rows = self._all(f"SELECT id, content_hash, source FROM public_records WHERE people_tsv @@ "
                         f"to_tsquery('{TEXT_CONFIG}', %s) ORDER BY date, id LIMIT %s", (phrase, limit))
        return [self.record_from(row["id"], row["content_hash"], row["source"]) for row in rows]

    # -- collections -------------------------------------------------------------------------------
    def collections(self) -> list[dict]:
        return self.cache.get(("collections",), self._collections)

    def collection(self, slug: str) -> dict | None:
        return next((c for c in self.collections() if c["slug"] == slug), None)

    def collection_members(self, name: str, offset: int, limit: int) -> list[dict]:
        return self._all(
            "SELECT r.id, r.title, r.date FROM facets f JOIN public_records r ON r.rowid = f.record_rowid "
            "WHERE f.facet = 'collection' AND f.value = %s ORDER BY r.date, r.id LIMIT %s OFFSET %s",
            (name, limit, offset))

    def _collections(self) -> list[dict]:
        rows = self._all(
            "SELECT c.value AS name, r.value AS repository, MIN(y.value) AS first, MAX(y.value) AS last, "
            "COUNT(*) AS n FROM facets c JOIN facets r ON r.record_rowid = c.record_rowid AND r.facet = 'repository' "
            "JOIN facets y ON y.record_rowid = c.record_rowid AND y.facet = 'year' "
            "JOIN public_records p ON p.rowid = c.record_rowid "
            "WHERE c.facet = 'collection' GROUP BY c.value, r.value ORDER BY c.value, r.value")
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

    # -- the catalog's state ---------------------------------------------------------------------
    def problems(self) -> list[dict]:
        return [{"path": f"records/{row['path']}", "problems": json.loads(row["messages"]),
                 "serving_last_valid_version": row["served"] is not None}
                for row in self._all("SELECT p.path, p.messages, r.id AS served FROM problems p "
                                     "LEFT JOIN records r ON r.path = p.path ORDER BY p.path")]

    def warnings(self) -> list[dict]:
        return [{"path": f"records/{row['path']}", "warnings": json.loads(row["warnings"])}
                for row in self._all("SELECT path, warnings FROM public_records WHERE warnings IS NOT NULL "
                                     "ORDER BY path")]

    def faults(self) -> list[dict]:
        found = self._all("SELECT kind, reason, since FROM faults ORDER BY kind")
        if self.write_failure:
            found.append({"kind": "index write", "since": None, "reason": self.write_failure})
        return found

    def last_change(self) -> str | None:
        return self._one("SELECT MAX(datestamp) AS m FROM ledger")["m"]

    def generation(self) -> int:
        """The counter every refresh moves, polled at most every GENERATION_POLL_SECONDS."""
        now = time.monotonic()
        seen = self._seen_generation
        if seen is not None and now - seen[1] < GENERATION_POLL_SECONDS:
            return seen[0]
        value = self._one("SELECT value FROM generation WHERE id = 1")["value"]
        self._seen_generation = (value, now)
        return value

    def oai_response_date(self) -> str:
        """Never later than a refresh whose changes are not visible yet (see the embedded index)."""
        now = format_datestamp(self.clock())
        pending = self._one("SELECT moment FROM refresh_pending WHERE id = 1")
        moment = pending["moment"] if pending else None
        return min(now, moment) if moment and len(moment) == len(now) else now

    def rebuilding(self) -> bool:
        """Never: a rebuild is one transaction, and readers see the old index until it commits."""
        return False

    def heal(self, error: BaseException) -> None:
        """Nothing to heal here: the database server owns its files' integrity."""
