"""OAI-PMH listing SQL: the same items, in the same order, whichever way a list is read or counted,
and lists walk the (datestamp, id) index instead of sorting or skipping rows."""

from __future__ import annotations

import itertools
import json

import pytest

from catalog.index import SQLiteIndex as Store
from catalog.index import oai as oai_query
from catalog.index.projection import decompress_source
from catalog.model import slugify
from tests.conftest import write_record

STAMPS = [f"2024-01-0{day}T00:00:0{second}Z" for day in range(1, 6) for second in range(3)]


@pytest.fixture
def db(tmp_path, synthetic):
    """An index of 60 records with datestamps spread over 15 values (many ties), some never public,
    some removed, one restricted after it was public."""
    folder = tmp_path / "records"
    folder.mkdir()
    for n in range(60):
        record = synthetic(n)
        record["access"] = {"status": "restricted", "reason": "Screening."} if n % 17 == 5 else {"status": "open"}
        write_record(folder, record)
    store = Store(folder, tmp_path / "instance")
    store.refresh()
    for n in (2, 9, 33):
        (folder / f"syn-{n:06d}.json").unlink()
    restricted = synthetic(40)
    restricted["access"] = {"status": "restricted", "reason": "Withdrawn."}
    write_record(folder, restricted)
    store.refresh()
    db = store.db
    for rowid, in db.execute("SELECT rowid FROM ledger").fetchall():
        db.execute("UPDATE ledger SET datestamp = ? WHERE rowid = ?", (STAMPS[rowid * 7 % len(STAMPS)], rowid))
    db.execute("UPDATE set_departures SET left_at = (SELECT datestamp FROM ledger WHERE ledger.id = set_departures.id)")
    return db


def truth(db) -> list[tuple[str, str, bool, set[str]]]:
    """(datestamp, id, live, setSpecs) of every listable item, computed without the module's SQL."""
    out = []
    for row in db.execute("SELECT * FROM ledger WHERE ever_public = 1"):
        live = row["public"] == 1 and row["deleted_at"] is None
        specs = set()
        if not live:  # the sets it left: their harvests list it as deleted
            specs = {f"{facet}:{slugify(value)}" for facet, value in db.execute(
                "SELECT facet, value FROM set_departures WHERE id = ?", (row["id"],))}
        if live:
            record = json.loads(decompress_source(db.execute("SELECT source FROM records WHERE id = ?", (row["id"],)).fetchone()[0]))
            specs = {f"collection:{slugify(record['provenance']['collection']['name'])}",
                     f"type:{slugify(record['document_type'])}", f"decade:{record['dates'][0]['date'][:3]}0s",
                     *(f"type:{slugify(p['document_type'])}" for p in record.get("parts", []))}
        out.append((row["datestamp"], row["id"], live, specs))
    return sorted(out)


def expected(items, start, end, spec) -> list[str]:
    def wanted(item):
        stamp, _id, _live, specs = item
        if (start and stamp < start) or (end and stamp > end):
            return False
        if spec is None or spec in oai_query.PARENT_SETS:  # a parent set holds every item, deleted ones too
            return True
        return spec in specs  # a live member, or a record that left the set
    return [item[1] for item in items if wanted(item)]


def walk(db, window, page) -> list[str]:
    """Ids of a window read page by page from the keyset position, as resumption tokens do."""
    ids, after = [], None
    while True:
        import dataclasses
        items = oai_query.list_items(db, dataclasses.replace(window, after=after), page, with_source=False)
        ids += [i.id for i in items]
        if len(items) < page:
            return ids
        after = (items[-1].datestamp, items[-1].id)


@pytest.mark.parametrize("set_limit", [0, 10**9], ids=["walk-ledger", "read-set-index"])
def test_lists_and_counts_agree_with_the_ledger_for_every_window_and_set(db, monkeypatch, set_limit):
    monkeypatch.setattr(oai_query, "_small_set_limit", lambda db, page_size: set_limit)
    items = truth(db)
    assert any(not live for _, _, live, _ in items)
    specs = [None, *[spec for spec, _ in oai_query.list_sets(db)]]
    assert {"collection", "type", "decade", "decade:1940s"} <= set(specs)
    bounds = [None, STAMPS[0], STAMPS[4], STAMPS[7], STAMPS[13], STAMPS[-1]]
    for spec, start, end in itertools.product(specs, bounds, bounds):
        if start and end and start > end:
            continue
        set_filter = oai_query.resolve_set(db, spec) if spec else None
        window = oai_query.Window(start, end, set_filter)
        want = expected(items, start, end, spec)
        assert [i.id for i in oai_query.list_items(db, window, 1000, with_source=True)] == want, (spec, start, end)
        assert walk(db, window, 4) == want, (spec, start, end)
        assert oai_query.count_items(db, window) == len(want), (spec, start, end)


def test_items_carry_their_sets_and_deleted_items_none(db):
    items = {i.id: i for i in oai_query.list_items(db, oai_query.Window(), 1000, with_source=False)}
    for stamp, record_id, live, specs in truth(db):
        item = items[record_id]
        assert item.datestamp == stamp and item.deleted == (not live)
        assert set(item.sets) == (specs | {"collection", "type", "decade"} if live else set())


def plan(db, window) -> str:
    sql, args = oai_query.list_query(db, window, 101, with_source=True)
    return " | ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql, args))


def test_lists_walk_the_datestamp_index_from_the_last_position_without_sorting(db, monkeypatch):
    after = (STAMPS[7], "syn-000030")
    decade = oai_query.resolve_set(db, "decade:1940s")
    monkeypatch.setattr(oai_query, "_small_set_limit", lambda db, page_size: 0)
    for window in (oai_query.Window(after=after), oai_query.Window(STAMPS[1], STAMPS[9], after=after),
                   oai_query.Window(set_filter=oai_query.SetFilter(), after=after),
                   oai_query.Window(set_filter=decade, after=after)):
        text = plan(db, window)
        assert "ledger_datestamp" in text and "(datestamp,id)>(?,?)" in text.replace(" ", ""), text
        assert "TEMP B-TREE" not in text, text
