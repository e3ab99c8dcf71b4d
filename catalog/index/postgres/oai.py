"""OAI-PMH over PostgreSQL: items from the durable ledger, their sets, keyset-paginated lists.

The rules are the embedded index's (`catalog.index.oai`, whose Item, Window and SetFilter the
protocol layer builds its stateless tokens from): live items are `public = 1 AND deleted_at IS NULL`
with a public record row; deleted ones were public once; lists seek on (datestamp, id) from the last
item sent; a record that left a leaf set is listed in it as deleted, dated when it left.
"""

from __future__ import annotations

from collections import defaultdict

from catalog.index.oai import DOCUMENT_TYPES
from catalog.index.oai import LIVE
from catalog.index.oai import PARENT_SETS
from catalog.index.oai import SET_FACETS
from catalog.index.oai import Item
from catalog.index.oai import SetFilter
from catalog.index.oai import Window
from catalog.index.oai import set_name
from catalog.index.oai import set_spec
from catalog.index.oai import with_sets
from catalog.model import slugify


def public_values(conn, facet: str) -> list[str]:
    """Values of a facet that some public record has, in byte order."""
    return [row["value"] for row in conn.execute(
        "SELECT DISTINCT f.value FROM facets f JOIN public_records r ON r.rowid = f.record_rowid "
        "WHERE f.facet = %s ORDER BY f.value", (facet,))]


def list_sets(conn) -> list[tuple[str, str]]:
    """(setSpec, setName) of every set with a public member, parents first; [] when there are none."""
    leaves: dict[str, str] = {}
    for facet in SET_FACETS:
        for value in public_values(conn, facet):
            leaves.setdefault(set_spec(facet, value), set_name(facet, value))
    if not leaves:
        return []
    return list(PARENT_SETS.items()) + sorted(leaves.items())


def resolve_set(conn, spec: str) -> SetFilter | None:
    """The filter for setSpec `spec`, or None when no such set (with a public member) exists."""
    if spec in PARENT_SETS:
        return SetFilter()
    facet, _, slug = spec.partition(":")
    if facet == "collection":
        values = tuple(row["value"] for row in conn.execute(
            "SELECT DISTINCT value FROM facets WHERE facet = 'collection' ORDER BY value") if slugify(row["value"]) == slug)
    elif facet == "type":
        values = (DOCUMENT_TYPES[slug],) if slug in DOCUMENT_TYPES else ()
    elif facet == "decade":
        values = (slug,)
    else:
        values = ()
    if ":" in slug or not values or not conn.execute(
            "SELECT EXISTS (SELECT 1 FROM facets f JOIN public_records r ON r.rowid = f.record_rowid "
            "WHERE f.facet = %s AND f.value = ANY(%s)) AS found", (facet, list(values))).fetchone()["found"]:
        return None
    return SetFilter(facet, values)


def earliest_datestamp(conn) -> str | None:
    row = conn.execute("SELECT datestamp FROM ledger WHERE ever_public = 1 ORDER BY datestamp, id LIMIT 1").fetchone()
    return row["datestamp"] if row else None


def sample_id(conn) -> str | None:
    row = conn.execute("SELECT id FROM public_records ORDER BY date, id LIMIT 1").fetchone()
    return row["id"] if row else None


def _columns(with_source: bool) -> str:
    return ("l.id, l.datestamp, r.rowid AS rowid, r.id AS record_id, r.content_hash"
            + (", r.source" if with_source else "") + f", ({LIVE} AND r.rowid IS NOT NULL) AS live")


def _item(row: dict) -> Item:
    if row["live"] and row.get("source") is not None:
        row = dict(row, source=bytes(row["source"]))
    return Item(row["id"], row["datestamp"], row if row["live"] else None)


def get_item(conn, record_id: str) -> Item | None:
    """The listable item with this record id (live or deleted), or None when it never was public."""
    row = conn.execute(f"SELECT {_columns(True)} FROM ledger l LEFT JOIN public_records r ON r.id = l.id "
                       "WHERE l.id = %s AND l.ever_public = 1", (record_id,)).fetchone()
    return None if row is None else attach_sets(conn, [_item(row)])[0]


def _range(window: Window, stamp: str = "l.datestamp", key: str = "l.id", use_position: bool = True):
    clauses, args = [], []
    resuming = use_position and window.after is not None
    if window.start and not resuming:
        clauses.append(f"{stamp} >= %s")
        args.append(window.start)
    if window.end:
        clauses.append(f"{stamp} <= %s")
        args.append(window.end)
    if resuming:
        clauses.append(f"({stamp}, {key}) > (%s, %s)")
        args += list(window.after)
    return "".join(f" AND {c}" for c in clauses), args


def _members(window: Window) -> tuple[str, list]:
    return ("EXISTS (SELECT 1 FROM facets f WHERE f.record_rowid = r.rowid AND f.facet = %s AND f.value = ANY(%s))",
            [window.set_filter.facet, list(window.set_filter.values)])


def _leaf(window: Window) -> bool:
    return window.set_filter is not None and window.set_filter.facet is not None


def list_items(conn, window: Window, limit: int, with_source: bool) -> list[Item]:
    """Up to `limit` items of `window` in (datestamp, id) order, with their sets; in a leaf set, the
    records that left it are merged in as deleted items."""
    where, args = _range(window)
    if not _leaf(window):
        return list_all_items(conn, where, args, limit, with_source)
    members, member_args = _members(window)
    rows = conn.execute(f"SELECT {_columns(with_source)} FROM ledger l JOIN public_records r ON r.id = l.id "
                        f"WHERE {LIVE}{where} AND {members} ORDER BY l.datestamp, l.id LIMIT %s",
                        [*args, *member_args, limit])
    items = [_item(row) for row in rows] + _departures(conn, window, limit)
    return attach_sets(conn, sorted(items, key=lambda item: (item.datestamp, item.id))[:limit])


def list_all_items(conn, where: str, args: list, limit: int, with_source: bool) -> list[Item]:
    """A page of the whole repository with each item's sets, in one statement (one round trip, one
    snapshot: `list_items` runs it without a transaction of its own)."""
    rows = conn.execute(
        f"SELECT {_columns(with_source)}, s.facets, s.facet_values FROM ledger l "
        "LEFT JOIN public_records r ON r.id = l.id LEFT JOIN LATERAL (SELECT array_agg(f.facet) AS facets, "
        "array_agg(f.value) AS facet_values FROM facets f WHERE f.record_rowid = r.rowid AND f.facet = ANY(%s)) s "
        f"ON TRUE WHERE l.ever_public = 1{where} ORDER BY l.datestamp, l.id LIMIT %s",
        [list(SET_FACETS), *args, limit]).fetchall()
    found: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        if row["live"]:
            found[row["rowid"]] = [set_spec(facet, value)
                                   for facet, value in zip(row["facets"] or (), row["facet_values"] or ())]
    items = [_item({key: value for key, value in row.items() if key not in ("facets", "facet_values")})
             for row in rows]
    return with_sets(items, found)


def single_statement(window: Window) -> bool:
    """Whether `list_items` reads `window` with one statement (so it needs no transaction)."""
    return not _leaf(window)


def _departures(conn, window: Window, limit: int) -> list[Item]:
    where, args = _range(window, "h.left_at", "h.id")
    rows = conn.execute(f"SELECT h.id, MAX(h.left_at) AS left_at FROM set_departures h WHERE h.facet = %s "
                        f"AND h.value = ANY(%s){where} GROUP BY h.id ORDER BY left_at, h.id LIMIT %s",
                        [window.set_filter.facet, list(window.set_filter.values), *args, limit])
    return [Item(row["id"], row["left_at"], None) for row in rows]


def count_items(conn, window: Window) -> int:
    """How many items `window` holds from its start (its position is ignored)."""
    where, args = _range(window, use_position=False)
    if not _leaf(window):
        return conn.execute(f"SELECT COUNT(*) AS n FROM ledger l WHERE l.ever_public = 1{where}", args).fetchone()["n"]
    members, member_args = _members(window)
    live = conn.execute(f"SELECT COUNT(*) AS n FROM ledger l JOIN public_records r ON r.id = l.id "
                        f"WHERE {LIVE}{where} AND {members}", [*args, *member_args]).fetchone()["n"]
    where, args = _range(window, "h.left_at", "h.id", use_position=False)
    gone = conn.execute(
        f"SELECT COUNT(DISTINCT h.id) AS n FROM set_departures h WHERE h.facet = %s AND h.value = ANY(%s){where}",
        [window.set_filter.facet, list(window.set_filter.values), *args]).fetchone()["n"]
    return live + gone


def attach_sets(conn, items: list[Item]) -> list[Item]:
    """Items with the setSpecs of live ones filled in: parent sets, then leaf sets."""
    rowids = [item.row["rowid"] for item in items if not item.deleted]
    if not rowids:
        return items
    found: dict[int, list[str]] = defaultdict(list)
    for row in conn.execute("SELECT record_rowid, facet, value FROM facets WHERE record_rowid = ANY(%s) "
                            "AND facet = ANY(%s)", (rowids, list(SET_FACETS))):
        found[row["record_rowid"]].append(set_spec(row["facet"], row["value"]))
    return with_sets(items, found)
