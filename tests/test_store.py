"""The store keeps the index in line with the folder, and datestamps honest."""

import datetime as dt
import json

import pytest

from catalog.index import SQLiteIndex as Store
from tests.conftest import write_record


@pytest.fixture
def folder(tmp_path, synthetic):
    path = tmp_path / "records"
    path.mkdir()
    for n in range(1, 6):
        record = synthetic(n)
        record["access"] = {"status": "open"}
        write_record(path, record)
    return path


@pytest.fixture
def store(folder, tmp_path, clock):
    store = Store(folder, tmp_path / "instance", clock=clock)
    store.refresh()
    return store


def datestamp(store, record_id):
    return store.db.execute("SELECT datestamp FROM ledger WHERE id = ?", (record_id,)).fetchone()[0]


def test_counts_and_reads_the_folder(store):
    assert store.count() == 5
    assert store.record("syn-000001").id == "syn-000001"
    assert store.record("nope") is None


def test_reformatting_a_file_does_not_move_its_datestamp(store, folder, clock):
    before = datestamp(store, "syn-000002")
    path = folder / "syn-000002.json"
    clock.advance()
    path.write_text(json.dumps(json.loads(path.read_text()), indent=8, ensure_ascii=True))
    assert store.refresh().changed == 0
    assert datestamp(store, "syn-000002") == before


def test_a_content_change_moves_the_datestamp_and_is_served(store, folder, synthetic, clock):
    before = datestamp(store, "syn-000003")
    clock.advance()
    record = synthetic(3)
    record["access"] = {"status": "open"}
    record["title"] = "A corrected title"
    write_record(folder, record)
    assert store.refresh().changed == 1
    assert datestamp(store, "syn-000003") > before
    assert store.record("syn-000003").title == "A corrected title"


def test_restart_and_reindex_keep_datestamps(store, folder, tmp_path, clock):
    before = {row[0]: row[1] for row in store.db.execute("SELECT id, datestamp FROM ledger")}
    clock.advance()
    restarted = Store(folder, tmp_path / "instance", clock=clock)
    restarted.refresh()
    restarted.rebuild()
    after = {row[0]: row[1] for row in restarted.db.execute("SELECT id, datestamp FROM ledger")}
    assert after == before
    assert restarted.count() == 5


def test_an_invalid_edit_keeps_the_last_valid_version(store, folder):
    path = folder / "syn-000004.json"
    good = path.read_text()
    path.write_text(good[: len(good) // 2])  # a half-saved edit
    result = store.refresh()
    assert result.invalid == 1
    assert store.record("syn-000004") is not None
    problems = store.problems()
    assert problems[0]["path"] == "records/syn-000004.json"
    assert problems[0]["serving_last_valid_version"] is True
    assert "records/syn-000004.json:" in problems[0]["problems"][0]
    path.write_text(good.replace('"title": "', '"title": "Fixed: ', 1))
    store.refresh()
    assert store.problems() == []
    assert store.record("syn-000004").title.startswith("Fixed: ")


def test_a_new_bad_file_hides_nothing(store, folder):
    (folder / "junk.json").write_text("not json")
    store.refresh()
    assert store.count() == 5
    assert [p["path"] for p in store.problems()] == ["records/junk.json"]
    (folder / "junk.json").unlink()
    store.refresh()
    assert store.problems() == []


def test_a_removed_file_is_gone_and_remembered_as_deleted(store, folder):
    (folder / "syn-000005.json").unlink()
    assert store.refresh().removed == 1
    assert store.record("syn-000005") is None
    row = store.db.execute("SELECT deleted_at, ever_public FROM ledger WHERE id = 'syn-000005'").fetchone()
    assert row["deleted_at"] is not None and row["ever_public"] == 1


def test_restricted_records_are_hidden_until_their_release_date(store, folder, synthetic, clock):
    record = synthetic(6)
    record["access"] = {"status": "restricted", "reason": "Privacy screening",
                        "release_date": (dt.date.today() + dt.timedelta(days=1)).isoformat()}
    write_record(folder, record)
    store.refresh()
    assert store.record("syn-000006") is None
    assert store.db.execute("SELECT 1 FROM withheld_records WHERE id = 'syn-000006'").fetchone() is not None
    assert store.count() == 5
    clock.advance(2 * 86400)  # the release date passes
    assert store.refresh().released == 1
    assert store.record("syn-000006") is not None


@pytest.mark.parametrize("bad_id", ["../records/syn-000001", "%2e%2e", "a\x00b", "x" * 5000, "\u00ff\u202e"])
def test_odd_ids_find_nothing(store, bad_id):
    assert store.record(bad_id) is None


def test_files_outside_the_pattern_are_ignored(store, folder):
    (folder / "notes.txt").write_text("hello")
    (folder / ".hidden.json").write_text("{}")
    (folder / "link.json").symlink_to("/etc/passwd")
    store.refresh()
    assert store.problems() == [] and store.count() == 5


def fts_ids(store, query):
    return {row[0] for row in store.db.execute(
        "SELECT records.id FROM record_text JOIN records ON records.rowid = record_text.rowid "
        "WHERE record_text MATCH ?", (query,))}


def test_full_text_index_follows_edits_and_removals(store, folder, synthetic):
    """The full-text index reads its text back from the stored records, so it must forget exactly
    what it indexed when a record changes or goes (or it would match words the record lost)."""
    record = synthetic(4)
    record["access"] = {"status": "open"}
    record["title"] = "Zanzibar cable"
    write_record(folder, record)
    store.refresh(only={"syn-000004.json"})
    assert fts_ids(store, "zanzibar") == {"syn-000004"}
    record["title"] = "Timbuktu cable"
    write_record(folder, record)
    (folder / "syn-000005.json").unlink()
    store.refresh()
    assert fts_ids(store, "zanzibar") == set()
    assert fts_ids(store, "timbuktu") == {"syn-000004"}
    assert not any(i == "syn-000005" for i in fts_ids(store, "cable OR telegram OR memorandum"))
    store.db.execute("INSERT INTO record_text(record_text, rank) VALUES ('integrity-check', 1)")
    snippet = store.db.execute("SELECT snippet(record_text, 0, '[', ']', '…', 8) FROM record_text "
                               "WHERE record_text MATCH 'timbuktu'").fetchone()[0]
    assert snippet == "[Timbuktu] cable"
