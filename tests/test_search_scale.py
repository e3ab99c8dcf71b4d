"""Searches built for a large catalog give the answers a plain reading of the index gives.

A search's matches are found once and kept (catalog.index.hits); pages sort them by an index or in
memory, and a common search ranks a bounded set of candidates. Each path is forced here on a small
synthetic catalog and compared with straightforward SQL over the same index.
"""

from __future__ import annotations

import pytest

from catalog.index import SQLiteIndex
from catalog.index import search
from catalog.query import parse
from tests.conftest import synthetic_folder
from tests.conftest import write_record

WEIGHTS = ", ".join(str(w) for w in search.BM25_WEIGHTS)


@pytest.fixture
def store(tmp_path):
    folder = synthetic_folder(tmp_path / "records", 60)
    index = SQLiteIndex(folder, tmp_path / "instance", refresh_interval=0)
    index.refresh()
    assert index.db.execute("SELECT COUNT(*) FROM withheld_records").fetchone()[0] < 60
    return index


def plain_hits(store, filters: search.Filters) -> list[int]:
    """The public records passing the filters, by date then id, with no kept table and no shortcut."""
    sql, args = "SELECT rowid FROM public_records WHERE 1", []
    if filters.match:
        sql, args = sql + " AND rowid IN (SELECT rowid FROM record_text WHERE record_text MATCH ?)", [filters.match]
    for facet, value in filters.selected:
        sql += " AND rowid IN (SELECT record_rowid FROM facets WHERE facet = ? AND value = ?)"
        args += [facet, value]
    if filters.date_from:
        sql, args = sql + " AND date >= ?", args + [filters.date_from]
    return [r[0] for r in store.db.execute(sql + " ORDER BY date, id", args)]


def plain_facets(store, rowids: list[int]) -> dict[str, list[tuple[str, int]]]:
    marks = ", ".join("?" for _ in rowids) or "NULL"
    counts = {(f, v): n for f, v, n in store.db.execute(
        f"SELECT facet, value, COUNT(*) FROM facets WHERE record_rowid IN ({marks}) GROUP BY facet, value", rowids)}
    return search._ordered(counts)


def every_page(store, filters: search.Filters, sort: str, per_page: int) -> list[int]:
    db = store.search_db
    return [rowid for offset in range(0, search.count(db, filters), per_page)
            for rowid in search.page_rowids(db, filters, sort, offset, per_page)]


FILTERS = [
    search.Filters(parse("government")),  # nearly every record: facet counts by subtraction
    search.Filters(parse('"peace cooperation"')),
    search.Filters(parse("reply"), (("type", "telegram"),)),
    search.Filters(parse("quagmire OR zanzibar")),
    search.Filters(None, (("classification", "secret"),)),
    search.Filters(parse("troops"), date_from="1945-01-01"),
]


@pytest.mark.parametrize("in_memory", [0, 10_000], ids=["by index", "in memory"])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: str(f.key()))
def test_counts_date_pages_and_facets_are_those_of_a_plain_query(store, filters, in_memory, monkeypatch):
    monkeypatch.setattr(search, "SORT_IN_MEMORY", in_memory)
    expected = plain_hits(store, filters)
    assert search.count(store.search_db, filters) == len(expected)
    assert every_page(store, filters, "date", 7) == expected
    assert search._facet_counts(store.search_db, store.cache, filters) == plain_facets(store, expected)


def test_a_common_search_ranks_its_shortest_matches_by_bm25_then_lists_the_others(store, monkeypatch):
    monkeypatch.setattr(search, "RANK_ALL", 5)
    monkeypatch.setattr(search, "RANK_CANDIDATES", 8)
    filters = search.Filters(parse("government"))
    hits = plain_hits(store, filters)
    assert len(hits) > 20
    by_size = [r[0] for r in store.db.execute(
        f"SELECT rowid FROM public_records WHERE rowid IN ({', '.join(map(str, hits))}) ORDER BY size, rowid")]
    candidates = by_size[:8]
    ranked = [r[0] for r in store.db.execute(
        f"SELECT rowid FROM record_text WHERE record_text MATCH ? AND rowid IN ({', '.join(map(str, candidates))}) "
        f"ORDER BY bm25(record_text, {WEIGHTS}), rowid", [filters.match])]
    pages = every_page(store, filters, "relevance", 3)  # pages of 3 straddle the candidates' end
    assert pages == ranked + by_size[8:]


def test_few_matches_are_all_ranked_by_bm25(store):
    filters = search.Filters(parse("peace"), (("type", "telegram"),))
    hits = plain_hits(store, filters)
    assert 0 < len(hits) <= search.RANK_ALL
    ranked = [r[0] for r in store.db.execute(
        f"SELECT rowid FROM record_text WHERE record_text MATCH ? AND rowid IN ({', '.join(map(str, hits))}) "
        f"ORDER BY bm25(record_text, {WEIGHTS}), rowid", [filters.match])]
    assert every_page(store, filters, "relevance", 4) == ranked


def test_kept_matches_follow_edits_made_here_and_by_another_process(store, tmp_path, synthetic):
    filters = search.Filters(parse("marmalade"))
    assert store.search(filters, "relevance", 1, 20).total == 0
    record = synthetic(100)
    record["access"] = {"status": "open"}
    record["title"] = "Marmalade for the conference"
    write_record(tmp_path / "records", record)
    store.refresh()  # this process: the kept (empty) matches must not be served again
    store.cache.clear()
    assert [row["id"] for row in store.search(filters, "relevance", 1, 20).rows] == [record["id"]]
    other = SQLiteIndex(tmp_path / "records", tmp_path / "instance", refresh_interval=0)
    (tmp_path / "records" / f"{record['id']}.json").unlink()
    other.refresh(accept_deletions=True)  # another connection commits: the kept matches are stale
    store.cache.clear()
    assert store.search(filters, "relevance", 1, 20).total == 0
    assert store.facet_counts(filters)["type"] == []


def test_searching_writes_nothing_to_the_index(store):
    before = store.db.total_changes
    for filters in FILTERS:
        store.search(filters, "relevance", 1, 5)
        store.facet_counts(filters)
    assert store.db.total_changes == before
