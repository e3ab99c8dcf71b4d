"""Finding the fixture records: every facet, words from their text, file numbers, people, dates, phrases.

The expectations come from the record files themselves (read with the model), not from the index,
so a record the index files under the wrong value is caught.
"""

from __future__ import annotations

import json
import sqlite3
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from catalog.model import Record
from catalog.query import QueryError
from catalog.query import parse
from tests.conftest import ADDRESSEE_ID
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import write_record

PUBLIC = {path.stem: Record.model_validate_json(path.read_text(encoding="utf-8"))
          for path in sorted(FIXTURE_RECORDS.glob("*.json")) if path.stem in PUBLIC_IDS}
HULL = "hull-memorandum-1943-10-30"
WORDS_FROM_TEXT = {
    ADDRESSEE_ID: "Murmansk",
    "harriman-roosevelt-1943-11-04": "germinate",
    "harriman-truman-1945-06-08": "complaining",
    "harriman-truman-1945-06-16": "Chungking",
    HULL: "circulating",
    "stalin-truman-1946-04-06": "alignment",
}


def found(client, url: str) -> dict:
    """The JSON twin of a catalog URL, with the ids it lists (per_page large enough for the corpus)."""
    url = url.replace("http://localhost", "")
    separator = "&" if "?" in url else "?"
    extra = "format=json" + ("" if "per_page=" in url else "&per_page=100")
    response = client.get(f"{url}{separator}{extra}")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    data["ids"] = [item["id"] for item in data["items"]]
    return data


def expected_facets(record: Record) -> dict[str, set[str]]:
    """The facet values a record should be findable by, straight from the record."""
    agents, places = [*record.creators, *record.recipients], list(record.places)
    for part in record.parts or []:
        agents += [*part.creators, *part.recipients]
        places += part.places
    copy_roles = ("recipient", "addressee", "copy")
    return {
        "collection": {record.provenance.collection.name},
        "repository": {record.provenance.repository.name},
        "type": {record.document_type},
        "classification": {record.provenance.classification.level},
        "year": {str(record.date.date.year)},
        "decade": {f"{record.date.date.year // 10 * 10}s"},
        "creator": {a.name for a in agents if a.role not in copy_roles},
        "recipient": {a.name for a in agents if a.role in copy_roles},
        "place": {p.name for p in places},
    }


def test_every_public_record_is_listed_and_the_restricted_one_is_not(read_client):
    assert sorted(found(read_client, "/")["ids"]) == PUBLIC_IDS
    assert len(PUBLIC_IDS) == 6 and RESTRICTED_ID not in PUBLIC_IDS


@pytest.mark.parametrize("record_id", PUBLIC_IDS)
def test_each_record_is_found_by_every_facet_value_it_has(read_client, record_id):
    for facet, values in expected_facets(PUBLIC[record_id]).items():
        for value in values:
            data = found(read_client, f"/?{facet}={quote(value)}")
            assert record_id in data["ids"], f"{facet}={value!r}"
            listed = next(f for f in data["facets"] if f["name"] == facet)
            chosen = next(v for v in listed["values"] if v["value"] == value)
            assert chosen["selected"] and chosen["count"] == data["total"]


def test_facet_counts_on_the_home_page_match_what_each_link_finds(read_client):
    home = found(read_client, "/")
    assert {f["name"] for f in home["facets"]} == {"collection", "repository", "type", "classification", "decade",
                                                   "year", "creator", "recipient", "place"}
    for facet in home["facets"]:
        reached: set[str] = set()
        for value in facet["values"]:
            data = found(read_client, value["url"])
            assert data["total"] == value["count"], (facet["name"], value["value"])
            reached.update(data["ids"])
        has_value = {rid for rid, record in PUBLIC.items() if expected_facets(record)[facet["name"]]}
        assert reached == has_value, facet["name"]


def test_facets_combine_and_apply_to_search_results(read_client):
    data = found(read_client, "/search?q=Moscow&type=telegram&year=1945")
    assert sorted(data["ids"]) == ["harriman-truman-1945-06-16"]
    type_counts = {v["value"]: v["count"] for v in next(f for f in data["facets"] if f["name"] == "type")["values"]}
    assert type_counts == {"telegram": 1}
    both = found(read_client, "/?creator=Harriman,+W.+Averell&recipient=Truman,+Harry+S.")
    assert sorted(both["ids"]) == ["harriman-truman-1945-06-08", "harriman-truman-1945-06-16"]


@pytest.mark.parametrize("record_id", sorted(WORDS_FROM_TEXT))
def test_each_record_is_found_by_a_word_from_its_text_with_a_highlighted_snippet(read_client, record_id):
    word = WORDS_FROM_TEXT[record_id]
    data = found(read_client, f"/search?q={word}")
    assert data["ids"][0] == record_id
    snippet = data["items"][0]["snippet"]
    assert word.lower() in snippet.lower()
    html = read_client.get(f"/search?q={word}").get_data(as_text=True)
    assert f"<mark>{word}</mark>".lower() in html.lower()


@pytest.mark.parametrize("query", ["740.0011 Moscow/10-3043", "740.0011 Moscow/10–3043",
                                   'file:"740.0011 Moscow/10-3043"', 'file:"740.0011 Moscow/10–3043"',
                                   "10-3043", "10–3043"])
def test_file_number_with_hyphen_or_en_dash_finds_the_memorandum(read_client, query):
    data = found(read_client, f"/search?q={quote(query)}")
    assert data["ids"][0] == HULL


def test_file_number_search_is_a_phrase_not_loose_words(read_client):
    wrong_item = quote('file:"740.0011 Moscow/10-3044"')
    assert found(read_client, f"/search?q={wrong_item}")["ids"] == []


@pytest.mark.parametrize(("query", "expected"), [
    ("person:harriman", {"harriman-roosevelt-1943-11-04", "harriman-truman-1945-06-08", "harriman-truman-1945-06-16"}),
    ('person:"Cordell Hull"', {HULL}),
    ("person:Stalin", None),
])
def test_people_queries(read_client, query, expected):
    ids = set(found(read_client, f"/search?q={quote(query)}")["ids"])
    if expected is None:  # Stalin: every record naming him as creator, recipient or mentioned person
        expected = {rid for rid, r in PUBLIC.items()
                    if any("Stalin" in a.name for a in [*r.creators, *r.recipients, *r.persons_mentioned,
                                                       *(a for p in r.parts or [] for a in p.creators)])}
        assert "stalin-truman-1946-04-06" in expected
    assert ids == expected


@pytest.mark.parametrize("record_id", PUBLIC_IDS)
def test_person_links_on_a_record_page_find_the_record(read_client, record_id):
    data = read_client.get(f"/records/{record_id}.json").get_json()
    assert data["people"]
    for person in data["people"]:
        assert record_id in found(read_client, person["url"])["ids"], person["name"]


def test_an_addressee_and_a_copy_recipient_link_to_the_recipient_facet(read_client):
    """Addressees and copies are recipients: their links browse by recipient, not creator or a search."""
    data = read_client.get(f"/records/{ADDRESSEE_ID}.json").get_json()
    links = {person["name"]: person["url"] for person in data["people"]}
    facts = [fact for stage in data["history"] for fact in stage["facts"] if fact["url"]]
    for name in ("Kennan, George F.", "Winant, John G."):
        assert parse_qs(urlsplit(links[name]).query) == {"recipient": [name]}, name
        assert found(read_client, links[name])["ids"] == [ADDRESSEE_ID]
        assert any(name.split(",")[0] in fact["value"] and fact["url"] == links[name] for fact in facts), name
    assert parse_qs(urlsplit(links["Acheson, Dean"]).query) == {"creator": ["Acheson, Dean"]}


@pytest.mark.parametrize(("query", "expected"), [
    ("from=1943&to=1943", {"harriman-roosevelt-1943-11-04", HULL}),
    ("from=1943-11&to=1945-06-10", {"harriman-roosevelt-1943-11-04", "harriman-truman-1945-06-08"}),
    ("from=1945-06-16", {"harriman-truman-1945-06-16", ADDRESSEE_ID, "stalin-truman-1946-04-06"}),
    ("to=1943-10-30", {HULL}),
    ("from=1950", set()),
])
def test_date_range(read_client, query, expected):
    assert set(found(read_client, f"/?{query}")["ids"]) == expected


def test_the_year_chart_is_a_date_filter(read_client):
    years = found(read_client, "/")["years"]
    assert [y["year"] for y in years] == [1943, 1944, 1945, 1946]
    assert [y["count"] for y in years] == [2, 0, 2, 2]
    html = read_client.get("/").get_data(as_text=True)
    assert "<svg" in html and 'href="/?from=1945&amp;to=1945"' in html
    assert set(found(read_client, "/?from=1945&to=1945")["ids"]) == {"harriman-truman-1945-06-08",
                                                              "harriman-truman-1945-06-16"}


def test_phrase_queries_match_words_in_order_only(read_client):
    assert found(read_client, '/search?q="You have had a successful conference"')["ids"] == [HULL]
    assert found(read_client, '/search?q="conference successful a had have you"')["ids"] == []
    assert HULL in found(read_client, "/search?q=conference successful")["ids"]


def test_excluded_words_and_alternatives(read_client):
    harriman = set(found(read_client, "/search?q=person:harriman")["ids"])
    assert set(found(read_client, "/search?q=person:harriman -Chungking")["ids"]) == harriman - {"harriman-truman-1945-06-16"}
    assert set(found(read_client, "/search?q=germinate OR circulating")["ids"]) == {"harriman-roosevelt-1943-11-04", HULL}


def test_search_is_ranked_and_sortable(read_client):
    data = found(read_client, "/search?q=Stalin")
    assert data["sort"] == "relevance"
    by_date = found(read_client, "/search?q=Stalin&sort=date")
    dates = [item["date"] for item in by_date["items"]]
    assert dates == sorted(dates) and sorted(by_date["ids"]) == sorted(data["ids"])
    titles = [item["title"] for item in found(read_client, "/?sort=title")["items"]]
    assert titles == sorted(titles)
    newest = found(read_client, "/?sort=date-desc")["items"]
    assert newest[0]["id"] == "stalin-truman-1946-04-06"


def test_pagination_links_keep_the_filters(read_client):
    first = read_client.get("/?place=Moscow&per_page=2&format=json").get_json()
    assert first["total"] == 6 and len(first["items"]) == 2
    assert first["pagination"]["pages"] == 3
    next_url = first["pagination"]["next_url"]
    assert "place=Moscow" in next_url and "per_page=2" in next_url and "page=2" in next_url
    pages = [read_client.get(n["url"].replace("http://localhost", "") + "&format=json").get_json()
             for n in first["pagination"]["numbers"]]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert sorted(ids) == PUBLIC_IDS


def test_search_on_the_home_page_is_the_same_as_search(read_client):
    assert found(read_client, "/?q=Basra")["ids"] == found(read_client, "/search?q=Basra")["ids"] == [HULL]


def test_snippets_escape_record_text(make_app, tmp_path, synthetic):
    folder = tmp_path / "hostile"
    folder.mkdir()
    record = synthetic(3)
    record.pop("parts", None)
    record["access"] = {"status": "open"}
    record["pages"] = [{"label": "1", "text": "The <b>zanzibar</b> accord & <script>alert(1)</script> treaty"}]
    write_record(folder, record)
    client = make_app(folder).test_client()
    html = client.get("/search?q=zanzibar").get_data(as_text=True)
    assert "<b>" not in html and "<script>alert" not in html
    assert "&lt;b&gt;<mark>zanzibar</mark>&lt;/b&gt;" in html


def test_restricted_records_are_not_found_and_the_page_only_repeats_the_search(read_client):
    restricted = json.loads((FIXTURE_RECORDS / f"{RESTRICTED_ID}.json").read_text(encoding="utf-8"))
    assert "marmalade" in restricted["pages"][0]["text"]
    data = found(read_client, "/search?q=marmalade")
    assert data["total"] == 0 and data["items"] == [] and data["years"] == []
    assert all(v["count"] > 0 for f in data["facets"] for v in f["values"])
    body = read_client.get("/search?q=marmalade").get_data(as_text=True)
    assert RESTRICTED_ID not in body and restricted["title"] not in body and "agreed" not in body
    home = json.dumps(found(read_client, "/"))
    assert RESTRICTED_ID not in home
    assert "Stettinius" not in home, "the restricted record's recipient is not a facet value"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab "-*():OR AND NOT file person title \u2013\u00e9\u202e_.,/\\\'\x00'),
               max_size=40))
def test_any_search_text_is_either_refused_with_a_message_or_valid_fts5(text):
    """Whatever people type, the MATCH expression built from it never makes SQLite raise."""
    try:
        parsed = parse(text)
    except QueryError as error:
        assert str(error)  # refused, with a message to show
    else:
        if parsed.match is not None:
            FTS.execute("SELECT rowid FROM t WHERE t MATCH ?", (parsed.match,)).fetchall()


FTS = sqlite3.connect(":memory:", check_same_thread=False)
FTS.execute("CREATE VIRTUAL TABLE t USING fts5(title, people, provenance, body, notes, "
            "tokenize = 'unicode61 remove_diacritics 2')")
FTS.execute("INSERT INTO t VALUES ('a b', 'Hull, Cordell', '740.0011 Moscow/10–3043', 'ab ba', 'a')")
