"""Read-only SQL for OAI-PMH: items from the ledger, their sets, and keyset-paginated lists.

What is listable comes from the store's `ledger`, which keeps datestamps across restarts and
re-indexing: an item is *live* when `public = 1 AND deleted_at IS NULL` (and its record row is
public), *deleted* when it was once public but is now removed or restricted, and never listed
when it was never public. Lists walk the `ledger_datestamp` index on (datestamp, id) from the
last item sent, so a deep page costs what the first does.

Sets come from `facets` (collection, type, decade) of live records. A record that leaves a set
(removed, restricted, or moved to another collection) is listed in that set's harvests as deleted,
with the time it left (`set_departures`, kept in the ledger's file); the parent sets
("collection", "type", "decade") hold every item, deleted ones included.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sqlite3
from collections import defaultdict

from catalog.model import DocumentType
from catalog.model import slugify

SET_FACETS = ("collection", "type", "decade")
PARENT_SETS = {"collection": "Archival collections", "type": "Document types", "decade": "Decades"}
DOCUMENT_TYPES = {slugify(value): value for value in DocumentType.__args__}  # type: ignore[attr-defined]

LIVE = "l.public = 1 AND l.deleted_at IS NULL"


@dataclasses.dataclass(frozen=True)
class Item:
    """One listable item: a live record (with its row) or a deleted one (row is None)."""

    id: str
    datestamp: str
    row: sqlite3.Row | None
    sets: tuple[str, ...] = ()

    @property
    def deleted(self) -> bool:
        return self.row is None


@dataclasses.dataclass(frozen=True)
class SetFilter:
    """A set as SQL: live records with one of `values` under `facet` (no facet: every live record)."""

    facet: str | None = None
    values: tuple[str, ...] = ()


def distinct_values(db: sqlite3.Connection, facet: str) -> list[str]:
    """Distinct values of a facet by hopping along the facets primary key (a loose index scan)."""
    rows = db.execute(
        "WITH RECURSIVE v(value) AS ("
        " SELECT (SELECT MIN(value) FROM facets WHERE facet = ?1)"
        " UNION ALL SELECT (SELECT MIN(value) FROM facets WHERE facet = ?1 AND value > v.value)"
        " FROM v WHERE v.value IS NOT NULL) SELECT value FROM v WHERE value IS NOT NULL", (facet,))
    return [row[0] for row in rows]


def _has_public_member(db: sqlite3.Connection, facet: str, value: str) -> bool:
    return db.execute(
        "SELECT 1 FROM facets f CROSS JOIN public_records r ON r.rowid = f.record_rowid "
        "WHERE f.facet = ? AND f.value = ? LIMIT 1", (facet, value)).fetchone() is not None


@functools.lru_cache(maxsize=4096)
def set_spec(facet: str, value: str) -> str:
    """Remembered: every item of a list page names its sets, and there are few distinct ones."""
    return f"{facet}:{slugify(value)}"


def set_name(facet: str, value: str) -> str:
    if facet == "collection":
        return value
    if facet == "type":
        return f"Document type: {value}"
    return f"Dated in the {value}"


def list_sets(db: sqlite3.Connection) -> list[tuple[str, str]]:
    """(setSpec, setName) of every set with a public member, parents first; [] when there are none."""
    leaves: dict[str, str] = {}
    for facet in SET_FACETS:
        for value in distinct_values(db, facet):
            spec = set_spec(facet, value)
            if spec not in leaves and _has_public_member(db, facet, value):
                leaves[spec] = set_name(facet, value)
    if not leaves:
        return []
    parents = [(spec, name) for spec, name in PARENT_SETS.items()]
    return parents + sorted(leaves.items())


def resolve_set(db: sqlite3.Connection, spec: str) -> SetFilter | None:
    """The filter for setSpec `spec`, or None when no such set exists."""
    if spec in PARENT_SETS:
        return SetFilter()
    facet, _, slug = spec.partition(":")
    if facet == "collection":
        values = tuple(v for v in distinct_values(db, "collection") if slugify(v) == slug)
    elif facet == "type":
        values = (DOCUMENT_TYPES[slug],) if slug in DOCUMENT_TYPES else ()
    elif facet == "decade":
        values = (slug,)
    else:
        values = ()
    if ":" in slug or not any(_has_public_member(db, facet, v) for v in values):
        return None
    return SetFilter(facet, values)


def earliest_datestamp(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT datestamp FROM ledger WHERE ever_public = 1 ORDER BY datestamp, id LIMIT 1").fetchone()
    return row[0] if row else None


def has_live_items(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM public_records LIMIT 1").fetchone() is not None


def sample_id(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT id FROM public_records ORDER BY public, date, id LIMIT 1").fetchone()
    return row[0] if row else None


def _columns(with_source: bool) -> str:
    return "l.id, l.datestamp, r.rowid AS rowid, r.id AS record_id, r.content_hash" + (
        ", r.source" if with_source else "")


def _item(row: sqlite3.Row, live: bool) -> Item:
    return Item(row["id"], row["datestamp"], row if live else None)


def get_item(db: sqlite3.Connection, record_id: str, with_source: bool = True) -> Item | None:
    """The listable item with this record id (live or deleted), or None when it never was public."""
    row = db.execute(
        f"SELECT {_columns(with_source)}, {LIVE} AS live FROM ledger l "
        "LEFT JOIN public_records r ON r.id = l.id WHERE l.id = ? AND l.ever_public = 1",
        (record_id,)).fetchone()
    if row is None:
        return None
    items = attach_sets(db, [_item(row, bool(row["live"]) and row["rowid"] is not None)])
    return items[0]


@dataclasses.dataclass(frozen=True)
class Window:
    """What a list covers: datestamps from `start` to `end` (inclusive), one set, after a position."""

    start: str | None = None
    end: str | None = None
    set_filter: SetFilter | None = None
    after: tuple[str, str] | None = None


def _range(window: Window, use_position: bool = True) -> tuple[str, list]:
    clauses, args = [], []
    resuming = use_position and window.after is not None
    if window.start and not resuming:  # the position is past the start: one lower bound keeps the seek
        clauses.append("l.datestamp >= ?")
        args.append(window.start)
    if window.end:
        clauses.append("l.datestamp <= ?")
        args.append(window.end)
    if resuming:
        clauses.append("(l.datestamp, l.id) > (?, ?)")
        args += list(window.after)
    return "".join(f" AND {c}" for c in clauses), args


def _small_set_limit(db: sqlite3.Connection, page_size: int) -> int:
    """Sets smaller than this are read through the facets index and sorted; bigger ones are found by
    walking the ledger in datestamp order. Either way a page costs about sqrt(page size × items)."""
    top = db.execute("SELECT MAX(rowid) FROM ledger").fetchone()[0] or 0
    return max(500, math.isqrt(page_size * top))


def _set_size_below(db: sqlite3.Connection, set_filter: SetFilter, limit: int) -> bool:
    marks = ", ".join("?" for _ in set_filter.values)
    count = db.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM facets WHERE facet = ? AND value IN ({marks}) LIMIT ?)",
                       (set_filter.facet, *set_filter.values, limit)).fetchone()[0]
    return count < limit


def _select(db: sqlite3.Connection, window: Window, head: str, tail: str, page_size: int) -> tuple[str, list]:
    """SQL and arguments listing `window`: `head` is the SELECT list, `tail` what follows WHERE."""
    where, args = _range(window)
    set_filter = window.set_filter
    if set_filter is None or set_filter.facet is None:  # no set, or a parent set: every item
        sql = (f"SELECT {head} FROM ledger l LEFT JOIN public_records r ON r.id = l.id "
               f"WHERE l.ever_public = 1{where}{tail}")
        return sql, args
    marks = ", ".join("?" for _ in set_filter.values)
    if _set_size_below(db, set_filter, _small_set_limit(db, page_size)):
        sql = (f"SELECT {head} FROM facets f CROSS JOIN public_records r ON r.rowid = f.record_rowid "
               f"CROSS JOIN ledger l ON l.id = r.id WHERE f.facet = ? AND f.value IN ({marks}) "
               f"AND {LIVE}{where}{tail}")
        return sql, [set_filter.facet, *set_filter.values, *args]
    sql = (f"SELECT {head} FROM ledger l CROSS JOIN public_records r ON r.id = l.id "
           f"WHERE {LIVE}{where} AND EXISTS (SELECT 1 FROM facets f WHERE f.facet = ? "
           f"AND f.value IN ({marks}) AND f.record_rowid = r.rowid){tail}")
    return sql, [*args, set_filter.facet, *set_filter.values]


def list_query(db: sqlite3.Connection, window: Window, limit: int, with_source: bool) -> tuple[str, list]:
    """The SQL (and its arguments) for up to `limit` items of `window` in (datestamp, id) order."""
    head = f"{_columns(with_source)}, {LIVE} AND r.rowid IS NOT NULL AS live"
    sql, args = _select(db, window, head, " ORDER BY l.datestamp, l.id LIMIT ?", limit)
    return sql, [*args, limit]


def list_items(db: sqlite3.Connection, window: Window, limit: int, with_source: bool) -> list[Item]:
    """Up to `limit` items of `window` in (datestamp, id) order, with their sets; in a leaf set, the
    records that left it are merged in as deleted items."""
    rows = db.execute(*list_query(db, window, limit, with_source)).fetchall()
    items = [_item(row, bool(row["live"])) for row in rows]
    if window.set_filter is not None and window.set_filter.facet is not None:
        items = sorted(items + _departures(db, window, limit), key=lambda item: (item.datestamp, item.id))[:limit]
    return attach_sets(db, items)


def _departure_range(window: Window, use_position: bool = True) -> tuple[str, list]:
    where, args = _range(window, use_position)
    return where.replace("l.datestamp", "h.left_at").replace("l.id", "h.id"), args


def _departures(db: sqlite3.Connection, window: Window, limit: int) -> list[Item]:
    """Records that left the window's set, as deleted items dated when they left."""
    where, args = _departure_range(window)
    marks = ", ".join("?" for _ in window.set_filter.values)
    rows = db.execute(f"SELECT h.id, MAX(h.left_at) AS left_at FROM set_departures h WHERE h.facet = ? "
                      f"AND h.value IN ({marks}){where} GROUP BY h.id ORDER BY left_at, h.id LIMIT ?",
                      [window.set_filter.facet, *window.set_filter.values, *args, limit]).fetchall()
    return [Item(row["id"], row["left_at"], None) for row in rows]


def _count_departures(db: sqlite3.Connection, window: Window) -> int:
    where, args = _departure_range(window, use_position=False)
    marks = ", ".join("?" for _ in window.set_filter.values)
    return db.execute(f"SELECT COUNT(DISTINCT h.id) FROM set_departures h WHERE h.facet = ? AND h.value IN ({marks})"
                      f"{where}", [window.set_filter.facet, *window.set_filter.values, *args]).fetchone()[0]


def count_items(db: sqlite3.Connection, window: Window) -> int:
    """How many items `window` holds from its start (its position is ignored).

    Counts use indexes only where they can (the records table, whose rows carry the source, is
    slow to walk); a set within a datestamp range is counted from whichever is cheapest: the set's
    members, the items in the range, or the set less its members outside the range.
    """
    where, args = _range(window, use_position=False)
    set_filter = window.set_filter
    if set_filter is None or set_filter.facet is None:
        return db.execute(f"SELECT COUNT(*) FROM ledger l WHERE l.ever_public = 1{where}", args).fetchone()[0]
    return _count_live_members(db, window, where, args) + _count_departures(db, window)


def _count_live_members(db: sqlite3.Connection, window: Window, where: str, args: list) -> int:
    set_filter = window.set_filter
    marks = ", ".join("?" for _ in set_filter.values)
    members = (set_filter.facet, *set_filter.values)
    in_set = db.execute(f"SELECT COUNT(*) FROM facets WHERE facet = ? AND value IN ({marks})", members).fetchone()[0]
    hidden = db.execute("SELECT COUNT(*) FROM withheld_records r CROSS JOIN facets f ON f.record_rowid = r.rowid "
                        f"WHERE f.facet = ? AND f.value IN ({marks})", members).fetchone()[0]
    if not where:
        return in_set - hidden
    in_range = db.execute(f"SELECT COUNT(*) FROM ledger l WHERE 1{where}", args).fetchone()[0]
    everything = db.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    in_set_clause = f"f.facet = ? AND f.value IN ({marks})"
    if in_set <= min(in_range, everything - in_range):
        sql = (f"SELECT COUNT(*) FROM facets f CROSS JOIN public_records r ON r.rowid = f.record_rowid "
               f"CROSS JOIN ledger l ON l.id = r.id WHERE {in_set_clause} AND {LIVE}{where}")
        return db.execute(sql, [*members, *args]).fetchone()[0]
    ledger_walk = (f"SELECT COUNT(*) FROM ledger l CROSS JOIN public_records r ON r.id = l.id WHERE {LIVE} AND {{}} "
                   f"AND EXISTS (SELECT 1 FROM facets f WHERE {in_set_clause} AND f.record_rowid = r.rowid)")
    if in_range <= everything - in_range:
        return db.execute(ledger_walk.format("1" + where), [*args, *members]).fetchone()[0]
    outside = 0
    for clause, bound in (("l.datestamp < ?", window.start), ("l.datestamp > ?", window.end)):
        if bound:
            outside += db.execute(ledger_walk.format(clause), [bound, *members]).fetchone()[0]
    return in_set - hidden - outside


def attach_sets(db: sqlite3.Connection, items: list[Item]) -> list[Item]:
    """Items with the setSpecs of live ones filled in: parent sets, then leaf sets."""
    rowids = [item.row["rowid"] for item in items if not item.deleted]
    if not rowids:
        return items
    found: dict[int, list[str]] = defaultdict(list)
    marks = ", ".join("?" for _ in rowids)
    for row in db.execute(f"SELECT record_rowid, facet, value FROM facets WHERE record_rowid IN ({marks}) "
                          "AND facet IN ('collection', 'type', 'decade')", rowids):
        found[row[0]].append(set_spec(row[1], row[2]))
    return with_sets(items, found)


def with_sets(items: list, found: dict[int, list[str]]) -> list:
    """Each live item with its set specs (`found`: leaf specs by record rowid), parents first; deleted
    items as they are (either backend)."""
    out = []
    for item in items:
        if item.deleted:
            out.append(item)
            continue
        leaves = sorted(set(found[item.row["rowid"]]))
        parents = [p for p in PARENT_SETS if any(leaf.startswith(p + ":") for leaf in leaves)]
        out.append(dataclasses.replace(item, sets=tuple(parents + leaves)))
    return out
