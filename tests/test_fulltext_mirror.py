"""The tantivy full-text mirror: the same answers as FTS5, kept in step, and never trusted when behind.

Two indexes over one records folder, one searching with FTS5 alone, one with the mirror: every query
class, filter and sort gives the same totals, the same records in the same order (ties aside, by
relevance), and the same facet counts. Then the faults: a mirror that could not take a refresh, a
corrupt mirror, a vanished one: searches stay right (FTS5 answers) and the next refresh rebuilds it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import pytest

from catalog.index import SQLiteIndex
from catalog.index import fulltext
from catalog.index.search import Filters
from catalog.query import parse
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import synthetic_folder
from tests.conftest import write_record

pytestmark = pytest.mark.skipif(not fulltext.available(), reason="tantivy is not installed")

QUERIES = ["soviet", "Harriman", "zanzibar", '"soviet treaty"', "oil peace", "oil OR zanzibar", "neg*", "co*",
           "treaty -oil", 'person:"Averell Harriman"', 'person:"Harriman"', "title:telegram", "file:740.0011",
           "Moscow/10–3043", "conférence", "Tehran"]
FILTERS = [(), (("type", "telegram"),), (("classification", "secret"), ("place", "Moscow"))]
DATES = [(None, None), ("1944-01-01", "1945-12-31")]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from bench.generate import synthetic_record

    folder = tmp_path_factory.mktemp("mirror") / "records"
    shutil.copytree(FIXTURE_RECORDS, folder)
    for n in range(400):
        record = synthetic_record(n)
        (folder / f"{record['id']}.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def pair(corpus, tmp_path_factory):
    fts5 = SQLiteIndex(corpus, tmp_path_factory.mktemp("fts5"), refresh_interval=0, fulltext="fts5")
    mirrored = SQLiteIndex(corpus, tmp_path_factory.mktemp("tantivy"), refresh_interval=0)
    fts5.refresh()
    mirrored.refresh()
    return fts5, mirrored


def everything(index, filters: Filters, sort: str) -> tuple[int, list[str]]:
    first = index.search(filters, sort, 1, 100)
    ids = [row["id"] for row in first.rows]
    page = 2
    while len(ids) < first.total:
        ids += [row["id"] for row in index.search(filters, sort, page, 100).rows]
        page += 1
    return first.total, ids


@pytest.mark.parametrize("query", QUERIES)
def test_the_mirror_finds_what_fts5_finds_counted_and_ordered_alike(pair, query):
    fts5, mirrored = pair
    for selected in FILTERS:
        for date_from, date_to in DATES:
            filters = Filters(parse(query), selected, date_from, date_to)
            assert mirrored._mirror_engine(filters) is not None, "the mirror must answer this search"
            assert fts5._mirror_engine(filters) is None
            for sort in ("date", "date-desc", "title"):
                assert everything(mirrored, filters, sort) == everything(fts5, filters, sort), (query, selected, sort)
            total, ids = everything(mirrored, filters, "relevance")
            expected_total, expected_ids = everything(fts5, filters, "relevance")
            assert (total, sorted(ids)) == (expected_total, sorted(expected_ids))  # ties may fall either way
            assert mirrored.facet_counts(filters) == fts5.facet_counts(filters), (query, selected)


def test_a_title_word_ranks_above_the_same_word_in_the_text(pair):
    _fts5, mirrored = pair
    filters = Filters(parse("telegram"))
    top = mirrored.search(filters, "relevance", 1, 3).rows
    assert top and "telegram" in top[0]["title"].lower()


def test_facet_filters_without_words_are_answered_by_the_mirror_too(pair):
    fts5, mirrored = pair
    filters = Filters(None, (("type", "memorandum"),))
    assert mirrored._mirror_engine(filters) is not None
    assert everything(mirrored, filters, "date") == everything(fts5, filters, "date")
    assert mirrored.facet_counts(filters) == fts5.facet_counts(filters)


def test_a_prefix_after_a_phrase_falls_back_to_fts5_with_the_same_answer(pair):
    fts5, mirrored = pair
    filters = Filters(parse("Moscow/10-30*"))
    assert mirrored._mirror_engine(filters) is None
    assert everything(mirrored, filters, "date") == everything(fts5, filters, "date")


# -- kept in step --------------------------------------------------------------------------------

@pytest.fixture
def small(tmp_path):
    folder = synthetic_folder(tmp_path / "records", 30)
    return folder


def found_ids(index, query: str) -> list[str]:
    return sorted(row["id"] for row in index.search(Filters(parse(query)), "date", 1, 100).rows)


def test_edits_additions_and_removals_reach_the_mirror_and_other_workers(small, tmp_path, synthetic):
    instance = tmp_path / "instance"
    writer = SQLiteIndex(small, instance, refresh_interval=0)
    writer.refresh()
    reader = SQLiteIndex(small, instance, refresh_interval=0)  # another worker process's view
    record = synthetic(3)
    record["title"] = "Telegram about the Xanadu conference"
    write_record(small, record)
    writer.refresh()
    assert reader._mirror_engine(Filters(parse("xanadu"))) is not None
    assert found_ids(reader, "xanadu") == [record["id"]]
    assert mirrored_documents(reader) == 30  # the edited record's old version is gone from the mirror
    (small / f"{record['id']}.json").unlink()
    writer.refresh()
    assert found_ids(reader, "xanadu") == []
    assert reader._mirror_engine(Filters(parse("xanadu"))) is not None
    assert mirrored_documents(reader) == 29


def mirrored_documents(index) -> int:
    """Record documents in the mirror (its marker document aside)."""
    return index.fulltext.searcher(fulltext.text_marker(index.search_db)).num_docs - 1


def test_restricted_records_never_match_until_released(small, tmp_path, synthetic):
    today = dt.date(2026, 1, 1)
    clock = {"now": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    record = synthetic(5)
    record["title"] = "Memorandum on Quokka Island"
    record["access"] = {"status": "restricted", "reason": "Screening.", "release_date": (today + dt.timedelta(days=10)).isoformat()}
    write_record(small, record)
    index = SQLiteIndex(small, tmp_path / "instance", refresh_interval=0, clock=lambda: clock["now"])
    index.refresh()
    filters = Filters(parse("quokka"))
    assert index._mirror_engine(filters) is not None
    assert index.search(filters, "relevance", 1, 10).total == 0
    assert all(n == 0 for values in index.facet_counts(filters).values() for _v, n in values)
    clock["now"] += dt.timedelta(days=11)
    index.refresh()
    assert found_ids(index, "quokka") == [record["id"]]


def test_a_mirror_that_cannot_take_a_refresh_is_never_read_and_is_rebuilt(small, tmp_path, synthetic, monkeypatch,
                                                                            caplog):
    index = SQLiteIndex(small, tmp_path / "instance", refresh_interval=0)
    index.refresh()

    def full_disk(self, marker):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(fulltext.Writer, "commit", full_disk)
        patch.setattr(fulltext, "rebuild", lambda mirror, db: None)  # the rebuild fails too, for now
        record = synthetic(7)
        record["title"] = "Letter about the Yak caravan"
        write_record(small, record)
        with caplog.at_level(logging.WARNING, logger="catalog.fulltext"):
            result = index.refresh()
        assert result.changed == 1 and "No space left on device" in caplog.text
        filters = Filters(parse("yak"))
        assert index._mirror_engine(filters) is None  # behind: never read
        assert found_ids(index, "yak") == [record["id"]]  # FTS5 answers, and right
    index.refresh()  # nothing changed in the folder: the refresh still brings the mirror back
    assert index._mirror_engine(Filters(parse("yak"))) is not None
    assert found_ids(index, "yak") == [record["id"]]


@pytest.mark.parametrize("damage", ["corrupt", "vanished"])
def test_a_corrupt_or_vanished_mirror_is_searched_around_and_rebuilt(small, tmp_path, damage, caplog):
    instance = tmp_path / "instance"
    SQLiteIndex(small, instance, refresh_interval=0).refresh()
    reference = SQLiteIndex(small, tmp_path / "fts5", refresh_interval=0, fulltext="fts5")
    reference.refresh()
    expected = found_ids(reference, "soviet")
    assert expected
    mirror = instance / fulltext.FOLDER
    if damage == "corrupt":
        for path in mirror.iterdir():
            if path.is_file():
                path.write_bytes(b"\x00garbage" * 64)
    else:
        shutil.rmtree(mirror)
    index = SQLiteIndex(small, instance, refresh_interval=0)
    with caplog.at_level(logging.WARNING, logger="catalog.fulltext"):
        assert found_ids(index, "soviet") == expected
    assert index._mirror_engine(Filters(parse("soviet"))) is None
    index.refresh()
    assert index._mirror_engine(Filters(parse("soviet"))) is not None
    assert found_ids(index, "soviet") == expected
