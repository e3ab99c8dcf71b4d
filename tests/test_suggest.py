"""/api/suggest: what completes the word being typed, never a word or heading of a record not public."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.index import fulltext
from tests.conftest import synthetic_folder
from tests.conftest import write_record


@pytest.fixture
def folder(tmp_path):
    records = synthetic_folder(tmp_path / "records", 20)
    return records


def suggested(client, q: str, **params) -> dict:
    response = client.get("/api/suggest", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.mark.skipif(not fulltext.available(), reason="word suggestions come from the tantivy mirror")
def test_words_complete_the_last_word_and_search_for_the_whole_box(make_app, folder):
    client = make_app(folder).test_client()
    found = suggested(client, "soviet neg")
    assert [w["word"] for w in found["words"]] == ["negotiation"]
    assert found["words"][0]["search"].endswith("/search?q=soviet+negotiation")
    assert suggested(client, "soviet neg ")["words"] == []  # the word is finished: nothing to complete
    assert suggested(client, "qqqz")["words"] == []


@pytest.mark.both_backends
def test_headings_are_people_places_and_collections_counted_over_public_records(make_app, folder, backend):
    client = make_app(folder).test_client()
    found = suggested(client, "harr", limit=20)
    values = {(h["facet"], h["value"]) for h in found["headings"]}
    assert ("creator", "Harriman, W. Averell") in values or ("recipient", "Harriman, W. Averell") in values
    for heading in found["headings"]:
        narrowed = client.get(heading["browse"].replace("http://localhost", "") + "&format=json").get_json()
        assert narrowed["total"] == heading["records"]
    assert suggested(client, "mosc")["headings"][0]["value"] == "Moscow"


@pytest.mark.both_backends
@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "21"}, {"limit": "many"}, {"q": "x" * 501}])
def test_bad_parameters_get_400_saying_what_is_allowed(make_app, folder, backend, params):
    response = make_app(folder).test_client().get("/api/suggest", query_string={"q": "harr", **params})
    assert response.status_code == 400 and response.get_json()["error"]["message"]


@pytest.mark.both_backends
def test_a_restricted_record_lends_no_word_and_no_heading_until_it_is_released(make_app, folder, synthetic, backend):
    clock = {"now": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
    record = synthetic(30)
    record["title"] = "Telegram on the Quokkaland frontier"
    record["creators"][0]["name"] = "Quillfeather, Ambrose"
    record["access"] = {"status": "restricted", "reason": "Screening.", "release_date": "2026-02-01"}
    write_record(folder, record)
    client = make_app(folder, CATALOG_CLOCK=lambda: clock["now"]).test_client()
    assert suggested(client, "quokka")["words"] == []
    assert suggested(client, "quill")["headings"] == []
    clock["now"] = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    client.get("/api/health")  # a request refreshes the index (interval 0): the release is applied
    assert suggested(client, "quill")["headings"] == [
        {"facet": "creator", "value": "Quillfeather, Ambrose", "records": 1,
         "browse": "http://localhost/?creator=Quillfeather%2C+Ambrose"}]
    if backend.name == "sqlite":
        assert [w["word"] for w in suggested(client, "quokka")["words"]] == ["quokkaland"]


@pytest.mark.skipif(not fulltext.available(), reason="word suggestions come from the tantivy mirror")
def test_a_word_of_a_removed_or_edited_record_is_no_longer_suggested(make_app, folder, synthetic):
    record = synthetic(3)
    record["title"] = "Memorandum on the Wombatshire question"
    write_record(folder, record)
    client = make_app(folder).test_client()
    assert [w["word"] for w in suggested(client, "wombat")["words"]] == ["wombatshire"]
    record["title"] = "Memorandum on the Dingoville question"
    write_record(folder, record)
    assert suggested(client, "wombat")["words"] == []  # the mirror's dictionary still holds it until merged
    assert [w["word"] for w in suggested(client, "dingo")["words"]] == ["dingoville"]
    (folder / f"{record['id']}.json").unlink()
    assert suggested(client, "dingo")["words"] == []


def test_without_the_mirror_headings_are_still_suggested(make_app, folder):
    client = make_app(folder, CATALOG_FULLTEXT="fts5").test_client()
    found = suggested(client, "harr")
    assert found["words"] == [] and found["headings"]
