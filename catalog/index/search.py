"""Browse and search over the index: filtered record sets, result pages, facet counts, year counts.

Everything is SQL over the index's `public_records`, `facets` and `record_text`; Python never walks
the record set. The filtered set ("hits") is built from the most selective source (the FTS5 match,
a facet, the date index) and narrowed with `rowid IN (...)` subqueries that SQLite answers from
indexes alone (`records` rows hold the whole source JSON, so reading them row by row is slow).
Public records are "not among the non-public ones": a small, indexed set.

Facet counts at 100,000 records are the expensive part, so two things keep them fast:
- when the hits are most of the catalog, counts are the catalog-wide counts minus the counts of the
  few public records *not* hit (the catalog-wide counts come from an index-only scan);
- results are kept in the index's version-keyed cache, so they are recomputed exactly when the
  index changes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from dataclasses import field

from catalog.cache import VersionedCache
from catalog.index.projection import FACETS
from catalog.query import ParsedQuery

SORTS = {"relevance": "Relevance", "date": "Date (oldest first)", "date-desc": "Date (newest first)",
         "title": "Title"}
ORDER_BY = {"date": "date, id", "date-desc": "date DESC, id DESC", "title": "title, id"}
BM25_WEIGHTS = (10.0, 5.0, 4.0, 1.0, 2.0)
"""Column weights for title, people, provenance, body, notes: a word in the title counts most."""

SNIPPET_COLUMNS = (3, 4, -1)
"""Where a result's snippet comes from: the transcription, else the summary and notes, else the best
column (a list of names or a file number reads badly as a snippet, so it comes last)."""

MARK_START = "\ue000"
MARK_END = "\ue001"
"""Private-use characters FTS5 puts around matches; turned into <mark> after escaping."""

RESULT_COLUMNS = ("rowid, id, title, date, date_as_printed, document_type, creators, recipients, collection, "
                  "collection_slug, repository, classification, file_number, summary")


@dataclass(frozen=True)
class Filters:
    """What narrows the catalog: a parsed search, selected facet values (all must hold), a date range."""

    query: ParsedQuery | None = None
    selected: tuple[tuple[str, str], ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    @property
    def match(self) -> str | None:
        return self.query.match if self.query else None

    @property
    def narrowed(self) -> bool:
        return bool(self.match or self.selected or self.date_from or self.date_to)

    def key(self) -> tuple:
        return (self.match, tuple(sorted(self.selected)), self.date_from, self.date_to)


@dataclass
class Result:
    total: int
    rows: list[dict] = field(default_factory=list)


def hits_sql(filters: Filters) -> tuple[str, list]:
    """`SELECT rid ...` of the public records that pass the filters, and its parameters."""
    selected = list(filters.selected)
    if filters.match:
        base, args = "SELECT rowid AS rid FROM record_text WHERE record_text MATCH ?", [filters.match]
    elif selected:
        facet, value = selected.pop(0)
        base, args = "SELECT record_rowid AS rid FROM facets WHERE facet = ? AND value = ?", [facet, value]
    else:
        date_sql, args = _date_range(filters)
        return "SELECT rowid AS rid FROM public_records WHERE 1" + date_sql, args
    conditions, more = narrowing(Filters(None, tuple(selected), filters.date_from, filters.date_to))
    return f"SELECT rid FROM ({base}) WHERE {conditions}", args + more


def narrowing(filters: Filters, column: str = "rid") -> tuple[str, list]:
    """SQL conditions on `column` for the facet and date filters (not the search), public only.

    The unary `+` keeps SQLite from pushing `rowid IN (...)` into FTS5 as one lookup per row.
    """
    conditions, args = [], []
    for facet, value in filters.selected:
        conditions.append(f"+{column} IN (SELECT record_rowid FROM facets WHERE facet = ? AND value = ?)")
        args += [facet, value]
    if filters.date_from or filters.date_to:
        date_sql, date_args = _date_range(filters)
        conditions.append(f"+{column} IN (SELECT rowid FROM public_records WHERE 1{date_sql})")
        args += date_args
    conditions.append(f"+{column} NOT IN (SELECT rowid FROM withheld_records)")
    return " AND ".join(conditions), args


def _date_range(filters: Filters) -> tuple[str, list]:
    sql, args = "", []
    if filters.date_from:
        sql, args = sql + " AND date >= ?", args + [filters.date_from]
    if filters.date_to:
        sql, args = sql + " AND date <= ?", args + [filters.date_to]
    return sql, args


def count(db: sqlite3.Connection, filters: Filters) -> int:
    if not filters.narrowed:
        return db.execute("SELECT COUNT(*) FROM public_records").fetchone()[0]
    sql, args = hits_sql(filters)
    return db.execute(f"SELECT COUNT(*) FROM ({sql})", args).fetchone()[0]


def page_rowids(db: sqlite3.Connection, filters: Filters, sort: str, offset: int, limit: int) -> list[int]:
    """The rowids of one page of results, in order; only indexes are read."""
    if sort == "relevance" and filters.match:
        conditions, args = narrowing(filters, "rowid")
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        query = (f"SELECT rowid FROM record_text WHERE record_text MATCH ? AND {conditions} "
                 f"ORDER BY bm25(record_text, {weights}), rowid LIMIT ? OFFSET ?")
        return [r[0] for r in db.execute(query, [filters.match, *args, limit, offset])]
    order = ORDER_BY.get(sort, ORDER_BY["date"])
    if not filters.narrowed:
        query, args = f"SELECT rowid FROM public_records ORDER BY {order} LIMIT ? OFFSET ?", []
    else:
        sql, args = hits_sql(filters)
        query = (f"SELECT rowid FROM public_records WHERE rowid IN ({sql}) "
                 f"ORDER BY {order} LIMIT ? OFFSET ?")
    return [r[0] for r in db.execute(query, [*args, limit, offset])]


def result_rows(db: sqlite3.Connection, rowids: list[int], match: str | None) -> list[dict]:
    """Summary rows for the given rowids (in that order), with a highlighted snippet when searching."""
    if not rowids:
        return []
    marks = ", ".join("?" for _ in rowids)
    rows = {r["rowid"]: dict(r) for r in db.execute(
        f"SELECT {RESULT_COLUMNS} FROM public_records WHERE rowid IN ({marks})", rowids)}
    snippets = {}
    if match:
        pieces = ", ".join(f"snippet(record_text, {column}, '{MARK_START}', '{MARK_END}', '…', 28)"
                           for column in SNIPPET_COLUMNS)
        for rowid, *found in db.execute(f"SELECT rowid, {pieces} FROM record_text "
                                        f"WHERE record_text MATCH ? AND rowid IN ({marks})", [match, *rowids]):
            snippets[rowid] = next((text for text in found if MARK_START in (text or "")), found[-1])
    out = []
    for rowid in rowids:
        row = rows.get(rowid)
        if row is None:
            continue
        row["creators"] = json.loads(row["creators"])
        row["recipients"] = json.loads(row["recipients"])
        row["snippet"] = snippets.get(rowid)
        del row["rowid"]
        out.append(row)
    return out


def search(db: sqlite3.Connection, cache: VersionedCache, filters: Filters, sort: str, page: int,
           per_page: int) -> Result:
    total = cache.get(("count", filters.key()), lambda: count(db, filters))
    offset = (page - 1) * per_page
    if offset >= total:
        return Result(total)
    rowids = cache.get(("page", filters.key(), sort, offset, per_page),
                    lambda: page_rowids(db, filters, sort, offset, per_page))
    return Result(total, result_rows(db, rowids, filters.match))


# -- facet counts --------------------------------------------------------------------------------

def facet_counts(db: sqlite3.Connection, cache: VersionedCache, filters: Filters) -> dict[str, list[tuple[str, int]]]:
    """For every facet, (value, count) over the filtered records, most frequent first."""
    return cache.get(("facets", filters.key()), lambda: _facet_counts(db, cache, filters))


def _facet_counts(db: sqlite3.Connection, cache: VersionedCache,
                  filters: Filters) -> dict[str, list[tuple[str, int]]]:
    if not filters.narrowed:
        return _ordered(_public_counts(db))
    public_total = cache.get(("count", Filters().key()), lambda: count(db, Filters()))
    total = cache.get(("count", filters.key()), lambda: count(db, filters))
    sql, args = hits_sql(filters)
    if total * 2 > public_total:
        missed = (f"SELECT rowid AS rid FROM public_records WHERE rowid NOT IN ({sql})", args)
        everywhere = cache.get(("public counts",), lambda: _public_counts(db))
        counts = dict(everywhere)
        for key, n in _counts_over(db, *missed).items():
            counts[key] -= n
    else:
        counts = _counts_over(db, sql, args)
    return _ordered({key: n for key, n in counts.items() if n > 0})


def _public_counts(db: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Catalog-wide counts: all rows (an index-only scan) minus those of non-public records."""
    counts = {(f, v): n for f, v, n in db.execute("SELECT facet, value, COUNT(*) FROM facets GROUP BY facet, value")}
    hidden = db.execute("SELECT f.facet, f.value, COUNT(*) FROM withheld_records r JOIN facets f ON f.record_rowid = r.rowid "
                        "GROUP BY f.facet, f.value")
    for facet, value, n in hidden:
        counts[(facet, value)] -= n
    return {key: n for key, n in counts.items() if n > 0}


def _counts_over(db: sqlite3.Connection, sql: str, args: list) -> dict[tuple[str, str], int]:
    query = (f"WITH hits(rid) AS MATERIALIZED ({sql}) SELECT f.facet, f.value, COUNT(*) FROM hits h "
             "JOIN facets f ON f.record_rowid = h.rid GROUP BY f.facet, f.value")
    return {(f, v): n for f, v, n in db.execute(query, args)}


def _ordered(counts: dict[tuple[str, str], int]) -> dict[str, list[tuple[str, int]]]:
    """Per facet, most frequent first (ties by value); years and decades in time order."""
    out: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
    for (facet, value), n in counts.items():
        if facet in out:
            out[facet].append((value, n))
    for facet, values in out.items():
        if facet in ("year", "decade"):
            values.sort()
        else:
            values.sort(key=lambda item: (-item[1], item[0]))
    return out
