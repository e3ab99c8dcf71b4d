"""Searches stay bounded whatever the records hold (issue 11): snippets of megabyte transcriptions cost
a bounded amount per hit, and a search past its deadline answers 503 with Retry-After, never a killed
worker. Speed is not timed here: the tests check the work is bounded (what snippet() sees, how long a
snippet is) and that the deadline stops a running query.
"""

from __future__ import annotations

import random
import re
import sqlite3
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from catalog import create_app
from catalog.index import search
from catalog.query import parse
from tests.conftest import LiveServer
from tests.conftest import app_config
from tests.conftest import synthetic_folder
from tests.conftest import write_record

WORDS = ["conference", "agreement", "government", "soviet", "united", "states", "president", "ambassador",
         "marshal", "reply", "message", "political", "military", "question", "relations", "security"]
WINDOWED = 2 * search.SNIPPET_WINDOW + 2 * len(search.ELLIPSIS) + 20
"""The most characters snippet() sees of a column cut to a window (around a match of at most 20)."""


def filler(size: int, rng: random.Random, every: int = 0, words: tuple[str, ...] = ()) -> str:
    """About `size` characters of words; with `every`, one of `words` (in turn) every `every` words."""
    out, length, n = [], 0, 0
    while length < size:
        word = words[n // every % len(words)] if every and n % every == 0 else rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
        n += 1
    return " ".join(out)


def one_page(synthetic, n: int, text: str) -> dict:
    record = synthetic(n)
    record.pop("parts", None)
    record.pop("footnotes", None)
    record["access"] = {"status": "open"}
    record["pages"] = [{"label": "1", "text": text}]
    return record


@pytest.fixture(scope="module")
def long_records(tmp_path_factory) -> Path:
    """The issue's records: one page of 5 MB, and pages of 100 KB, 300 KB and 1 MB where every third
    word is alpha or bravo (FTS5's snippet() took minutes and 16.6 s over them); and a long record whose
    only match is near its end, with a diacritic."""
    from bench.generate import synthetic_record

    folder = tmp_path_factory.mktemp("long") / "records"
    folder.mkdir()
    rng = random.Random(11)
    write_record(folder, one_page(synthetic_record, 1, filler(5_000_000, rng, every=5, words=("foxtrot",))))
    for n, size in ((2, 100_000), (3, 300_000), (4, 1_000_000)):
        write_record(folder, one_page(synthetic_record, n, filler(size, rng, every=3, words=("alpha", "bravo"))))
    late = filler(400_000, rng)
    write_record(folder, one_page(synthetic_record, 5, late + " the Quebec Foxtröt. " + filler(2_000, rng)))
    return folder


@pytest.fixture(scope="module")
def long_app(long_records):
    return create_app(app_config(long_records, long_records.parent / "instance"))


@pytest.fixture
def app(make_app, records_dir):
    """FTS5 alone: these safety nets guard the path searches take whenever the full-text mirror is behind."""
    return make_app(records_dir, CATALOG_FULLTEXT="fts5")


@pytest.fixture
def spy(monkeypatch):
    """The texts each search hands to snippet(), per record."""
    seen: list[dict[int, tuple[str, ...]]] = []
    original = search._fts5_snippets

    def recording(texts, match):
        seen.append(texts)
        return original(texts, match)

    monkeypatch.setattr(search, "_fts5_snippets", recording)
    return seen


def found(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def test_a_5mb_transcription_gets_a_short_highlighted_snippet_from_a_window(long_app, spy):
    client = long_app.test_client()
    data = found(client, "/search.json?q=foxtrot")
    assert [item["id"] for item in data["items"]] == ["syn-000001", "syn-000005"]
    for item in data["items"]:
        assert re.search("foxtr[oö]t", item["snippet"], re.IGNORECASE)
        assert len(item["snippet"]) <= search.SNIPPET_MAX_CHARS + 2
    assert all(len(text) <= WINDOWED for texts in spy for row in texts.values() for text in row)
    html = client.get("/search?q=foxtrot").get_data(as_text=True)
    assert html.count("<mark>foxtrot</mark>") >= 1 and "<mark>Foxtröt</mark>" in html


def test_dense_matches_in_100kb_300kb_and_1mb_records_are_snippeted_from_windows(long_app, spy):
    client = long_app.test_client()
    data = found(client, "/search.json?q=alpha%20bravo")
    assert sorted(item["id"] for item in data["items"]) == ["syn-000002", "syn-000003", "syn-000004"]
    html = client.get("/search?q=alpha%20bravo&per_page=3").get_data(as_text=True)
    assert html.count("<mark>alpha</mark>") >= 3 and html.count("<mark>bravo</mark>") >= 3
    for item in data["items"]:
        assert len(item["snippet"]) <= search.SNIPPET_MAX_CHARS + 2
    assert spy and all(len(text) <= WINDOWED for texts in spy for row in texts.values() for text in row)


@pytest.mark.slow
def test_gunicorn_answers_the_5mb_search_instead_of_killing_its_worker(long_records, tmp_path):
    """The issue's symptom: the request outlived gunicorn's 60 s worker timeout and the worker was killed."""
    server = LiveServer(long_records, tmp_path / "instance-live", workers=1)
    try:
        for url in ("/search.json?q=foxtrot", "/search?q=foxtrot", "/search.json?q=alpha%20bravo"):
            assert requests.get(server.url + url, timeout=120).status_code == 200, url
        assert "WORKER TIMEOUT" not in server.stderr()
    finally:
        server.stop()


def test_the_window_is_around_the_first_match_even_far_into_the_text(long_app):
    snippet = found(long_app.test_client(), "/search.json?q=quebec")["items"][0]["snippet"]
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "the Quebec Foxtröt." in snippet


def test_a_window_is_bounded_cut_at_words_and_says_where_it_was_cut():
    rng = random.Random(3)
    text = filler(1_000_000, rng) + " zanzibar " + filler(1_000_000, rng)
    terms = search.SearchTerms(parse("zanzibar"))
    cut = search.window(text, terms.first("body", text))
    assert len(cut) <= WINDOWED and cut.startswith("…") and cut.endswith("…")
    assert " zanzibar " in cut
    inner = cut.strip("…")
    assert text.find(inner) > 0 and text[text.find(inner) - 1] == " "  # starts at a word's start
    assert search.window("short text", None) == "short text"
    start = search.window("zanzibar " + filler(5_000, rng), terms.first("body", "zanzibar " + filler(5_000, rng)))
    assert start.startswith("zanzibar ") and start.endswith("…")


def test_one_enormous_word_still_gives_a_bounded_snippet(make_app, tmp_path, synthetic):
    folder = tmp_path / "huge-word"
    folder.mkdir()
    write_record(folder, one_page(synthetic, 7, "foxtrot " + "x" * 300_000 + " " + "y" * 300_000))
    write_record(folder, one_page(synthetic, 8, "x" * 50_000 + " foxtrot " + "y" * 50_000))
    data = found(make_app(folder).test_client(), "/search.json?q=foxtrot")
    assert len(data["items"]) == 2
    for item in data["items"]:
        assert "foxtrot" in item["snippet"] and len(item["snippet"]) <= search.SNIPPET_MAX_CHARS + 2


def test_snippets_of_ordinary_records_are_unchanged(make_app, tmp_path):
    """Short records with few matches: the snippet is FTS5's snippet() over the whole text, as always."""
    folder = synthetic_folder(tmp_path / "ordinary", 150)
    app = make_app(folder)
    client, db = app.test_client(), app.extensions["catalog.index"].db
    pieces = ", ".join(f"snippet(record_text, {c}, '{search.MARK_START}', '{search.MARK_END}', '…', 28)"
                       for c in search.SNIPPET_COLUMNS)
    for q in ["soviet", "conference agreement", '"united states"', "negot*", "person:harriman", "oil -troops",
              "title:ambassador", "quagmire OR zanzibar"]:
        data = found(client, f"/search.json?q={q}&per_page=100")
        assert data["items"], q
        for item in data["items"]:
            rowid = db.execute("SELECT rowid FROM records WHERE id = ?", [item["id"]]).fetchone()[0]
            old = db.execute(f"SELECT {pieces} FROM record_text WHERE record_text MATCH ? AND rowid = ?",
                             [parse(q).match, rowid]).fetchone()
            expected = next((text for text in old if search.MARK_START in text), old[-1])
            assert item["snippet"] == expected.replace(search.MARK_START, "").replace(search.MARK_END, ""), q


# -- the deadline ------------------------------------------------------------------------------------

SLOW = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000000) SELECT count(*) FROM n"
"""A query of about 10^8 steps: tens of seconds unless something stops it."""


def test_the_progress_handler_stops_a_running_query_and_is_removed_afterwards():
    db = sqlite3.connect(":memory:")
    with pytest.raises(search.SearchTimeout), search.deadline(0.05):
        search.within_deadline(db, lambda: db.execute(SLOW).fetchone())
    # the handler is gone: a query longer than that deadline now runs to its end on the same connection
    assert db.execute(SLOW.replace("100000000", "300000")).fetchone() == (300000,)
    with search.deadline(0.05):
        assert search.within_deadline(db, lambda: db.execute("SELECT 1").fetchone()) == (1,)


def test_a_search_past_its_deadline_answers_503_with_retry_after_and_is_not_remembered(client, monkeypatch):
    monkeypatch.setitem(client.application.config, "CATALOG_SEARCH_DEADLINE", 1e-6)
    response = client.get("/search.json?q=Moscow")
    assert response.status_code == 503 and response.is_json
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"]["message"].startswith("The search took too long; narrow it")
    page = client.get("/search?q=Moscow")
    assert page.status_code == 503 and page.mimetype == "text/html" and "Retry-After" in page.headers
    assert "The search took too long; narrow it" in page.get_data(as_text=True)
    monkeypatch.setitem(client.application.config, "CATALOG_SEARCH_DEADLINE", 10)
    assert found(client, "/search.json?q=Moscow")["total"] > 0
    assert client.get("/search?q=Moscow").status_code == 200


def test_a_query_running_past_the_deadline_is_stopped_and_answers_503(client, monkeypatch):
    """The deadline stops a query while it runs (not only between queries): the count takes forever here."""
    real_count = search.count

    def slow_count(db, filters):
        db.execute(SLOW).fetchone()
        return real_count(db, filters)

    monkeypatch.setattr(search, "count", slow_count)
    monkeypatch.setitem(client.application.config, "CATALOG_SEARCH_DEADLINE", 0.2)
    response = client.get("/search.json?q=Harriman")
    assert response.status_code == 503 and "Retry-After" in response.headers
    monkeypatch.setattr(search, "count", real_count)
    assert found(client, "/search.json?q=Harriman")["total"] > 0  # the thread's connection has no handler left


# -- counting matches: never fewer than the index finds ------------------------------------------------

FTS = sqlite3.connect(":memory:", check_same_thread=False)
FTS.execute(f"CREATE VIRTUAL TABLE t USING fts5({', '.join(search.TEXT_COLUMNS)}, {search.TOKENIZE})")


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.sampled_from(["ab", "Ab", "AB", "áb", "a\u0301b", "ba", "abc", "c", " ", "-", "–",
                                              "’", ".", "_", "\n", "é", "b"]), max_size=30).map("".join),
       query=st.sampled_from(["ab", "áb", "ab*", '"ab ba"', "c", "ab OR c", "body:ab", "ab -c"]))
def test_the_quick_count_never_counts_fewer_matches_than_fts5_marks(text, query):
    parsed = parse(query)
    FTS.execute("DELETE FROM t")
    FTS.execute("INSERT INTO t(rowid, body) VALUES (1, ?)", [text])
    row = FTS.execute("SELECT highlight(t, 3, '[', ']') FROM t WHERE t MATCH ?", [parsed.match]).fetchone()
    marked = row[0].count("[") if row else 0
    texts = ["", "", "", text, ""]
    assert search.SearchTerms(parsed).count(texts, 10_000) >= marked
    if marked:  # and the window goes to the first match FTS5 marks, or before it
        first = search.SearchTerms(parsed).first("body", text.ljust(2 * search.SNIPPET_WINDOW + 1))
        assert first is not None and first.start() <= row[0].index("[")
