"""`catalog draft`: a draft record from a raw transcription, every value marked for review.

Behaviour is checked on small transcriptions the tests write; the five seed transcriptions in
../shared/seeds are drafted and compared with the fixture corpus's finished records (those tests
alone are skipped when ../shared is absent).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.cli import validate_paths
from catalog.importing import draft
from catalog.importing.draft import as_written
from catalog.importing.draft import draft_record
from catalog.importing.draft_fill import PLACEHOLDER_DATE
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import shared_artifact

FRUS = """\
740.0011 Moscow/11–443

The Ambassador in the Soviet Union (Harriman) to the Secretary of State1

Moscow, November 4, 1943—9 p.m.
[Received November 5—3:15 a.m.]

TOD SEGRET
urgent

I had a long talk with the Marshal tonight about the conference and the matters still open between us. He \
was in good humour.2 [Page 152] He asked that the President be told at once.3

. . . . . . . .

He repeated that he was in good humour.

[Harriman]
  1. Sent in two sections.
  2. See post, p. 160.
  3. Not printed.
"""

TYPED = """\
DEPARTMENT OF STATE

Incoming Telegram

Paris via War Dated May 2, 1946 Rec'd 7:05 p.m.

PRIORITY

412, May 2, 5 p.m.

SECRET

I called on the Minister this morning and we went over the whole of the question of the zones of occupation.

DECLASSIFIED

E. O. 11652, Sec. 3(E) and 5(D) or (E)

By NLT- HC , NARS Date /2 . 2. 75

-2-#412, May 2, 5 p.m., from Paris via War.

He said that the French Government could not accept the proposal as it now stands in the draft.

CAFFERY

SEGRET
"""


def review_for(record: dict, field: str) -> dict:
    return next(entry for entry in record["_review"] if entry["field"] == field)


# -- pages and footnotes ---------------------------------------------------------------------------

def test_a_frus_page_marker_splits_pages_and_names_the_page_before():
    record = draft_record(FRUS)
    assert [page["label"] for page in record["pages"]] == ["151", "152"]
    first, second = (page["text"] for page in record["pages"])
    assert first.startswith("740.0011 Moscow/11–443\n") and first.endswith("He was in good humour.2")
    assert second.startswith("He asked that the President be told at once.3")
    assert "[Page 152]" not in first + second
    assert "Sent in two sections" not in second, "the footnote list is not page text"


def test_typed_page_headers_start_their_page_and_stay_in_its_text():
    record = draft_record(TYPED)
    assert [page["label"] for page in record["pages"]] == ["[1]", "-2-"]
    assert record["pages"][0]["label_supplied"] is True
    assert record["pages"][1]["text"].startswith("-2-#412, May 2, 5 p.m., from Paris via War.")


def test_a_page_header_above_the_first_prose_names_that_page():
    text = "Signal Corps, United States Army\n\nReceived at\n\nPAGE 2\n\n" + "WORD " * 12 + "\n\nJ. STALIN\n"
    record = draft_record(text)
    assert [page["label"] for page in record["pages"]] == ["PAGE 2"]
    assert record["pages"][0]["text"].startswith("Signal Corps")


def test_footnotes_take_the_numbers_printed_at_their_marks_and_their_anchors():
    text = FRUS.replace("Secretary of State1", "Secretary of State").replace("humour.2", "humour.63").replace(
        "once.3", "once.64")
    text = text.replace("  1. Sent in two sections.\n", "")
    record = draft_record(text)
    notes = record["footnotes"]
    assert [n["number"] for n in notes] == ["63", "64"]
    assert notes[0]["referenced_at"] == {"page": "151", "after": "He was in good humour."}
    assert notes[1]["referenced_at"] == {"page": "152", "after": "He asked that the President be told at once."}
    assert notes[0]["text"] == "See post, p. 160."


def test_a_repeated_anchor_gives_its_occurrence():
    text = "Roosevelt Papers: Telegram\n\nThe Ambassador (Harriman) to the President\n\n" + \
           ". . . . . .1\n\nSome words here.\n\n. . . . . .2\n  1. First.\n  2. Second.\n"
    notes = draft_record(text)["footnotes"]
    assert [n["referenced_at"].get("occurrence") for n in notes] == [1, 2]
    assert notes[0]["referenced_at"]["after"] == ". . . . . ."


# -- headings, markings, dates ------------------------------------------------------------------------

def test_heading_gives_agents_with_office_and_heading_as_printed():
    record = draft_record(FRUS)
    assert record["title"] == "The Ambassador in the Soviet Union (Harriman) to the Secretary of State"
    sender, = record["creators"]
    assert sender == {"name": "Harriman", "role": "sender", "office": "Ambassador in the Soviet Union",
                      "as_printed": "The Ambassador in the Soviet Union (Harriman)", "signature_supplied": True}
    assert record["recipients"][0]["office"] == "Secretary of State"
    assert record["signature"] == "[Harriman]"


def test_an_ocr_slip_in_a_marking_is_kept_as_printed_with_the_level_proposed():
    record = draft_record(FRUS)
    assert record["provenance"]["classification"] == {"level": "top secret", "as_marked": ["TOD SEGRET"]}
    assert {"kind": "precedence", "text": "urgent"} in record["provenance"]["markings"]
    entry = review_for(record, "classification.as_marked[0]")
    assert entry["from"] == "TOD SEGRET" and entry["status"] == "needs review"


def test_an_ordinary_word_is_not_taken_for_a_marking():
    record = draft_record(FRUS.replace("TOD SEGRET", "SECRETARY"))
    assert record["provenance"]["classification"]["as_marked"] == []


def test_the_file_number_keeps_its_en_dash_and_the_dateline_gives_date_place_and_receipt():
    record = draft_record(FRUS)
    assert record["provenance"]["file_number"] == "740.0011 Moscow/11–443"
    assert record["provenance"]["repository"]["division"].endswith("(Record Group 59)")
    sent, received = record["dates"]
    assert (sent["type"], sent["date"], sent["time"]) == ("sent", "1943-11-04", "21:00")
    assert (received["type"], received["date"], received["time"]) == ("received", "1943-11-05", "03:15")
    assert record["places"] == [{"name": "Moscow", "role": "sent from", "as_printed": "Moscow"}]
    assert record["dateline"] == "Moscow, November 4, 1943—9 p.m."


def test_a_telegram_head_gives_number_route_and_times():
    record = draft_record(TYPED)
    assert record["provenance"]["transmission"] == {"route": "via War", "telegram_number": "412"}
    sent, received = record["dates"]
    assert sent == {"type": "sent", "date": "1946-05-02", "as_printed": "412, May 2, 5 p.m.", "time": "17:00"}
    assert (received["time"], received["certainty"]) == ("19:05", "inferred")
    assert record["places"][0]["as_printed"] == "Paris via War"
    assert record["signature"] == "CAFFERY"
    assert record["creators"][0]["as_printed"] == "CAFFERY"


def test_a_declassification_stamp_is_read_element_by_element_as_printed():
    record = draft_record(TYPED)
    stamp, = record["provenance"]["declassification"]
    assert stamp["authority"] == "E.O. 11652, Sec. 3(E) and 5(D) or (E)"
    assert stamp["authority_as_printed"] == "E. O. 11652, Sec. 3(E) and 5(D) or (E)"
    assert stamp["by"] == "NLT- HC , NARS"
    assert stamp["date_as_printed"] == "/2 . 2. 75" and stamp["date_certainty"] == "questionable"
    assert "date" not in stamp
    assert stamp["located_at"] == {"page": "[1]", "position": "foot of the page"}
    assert stamp["as_printed"].startswith("DECLASSIFIED\n\nE. O. 11652")


def test_a_clean_stamp_date_is_read_as_a_date():
    text = TYPED.replace("NARS Date /2 . 2. 75", "NARS Date 12.2.75")
    stamp, = draft_record(text)["provenance"]["declassification"]
    assert stamp["date"] == "1975-12-02" and "date_certainty" not in stamp


# -- review list, placeholders, validity --------------------------------------------------------------

def test_every_proposed_value_is_marked_for_review_with_its_source():
    record = draft_record(FRUS)
    fields = {entry["field"] for entry in record["_review"]}
    assert {"title", "provenance.file_number", "dates[0]", "creators[0]", "recipients[0]", "footnotes[0]",
            "pages[0].label", "markings[0]", "id"} <= fields
    assert all(entry["status"] == "needs review" for entry in record["_review"])
    assert review_for(record, "provenance.file_number")["line"] == 1
    assert review_for(record, "pages[0].label")["from"] == "[Page 152] (the page before it)"


def test_a_text_with_nothing_to_draw_gets_marked_placeholders_and_still_validates(tmp_path):
    record = draft_record("Some words that are not a document at all.\n")
    assert record["dates"][0]["date"] == PLACEHOLDER_DATE
    placeholders = {entry["field"] for entry in record["_review"] if entry.get("placeholder")}
    assert {"dates[0]", "title", "provenance.repository", "provenance.collection", "rights"} <= placeholders
    written = as_written(record)
    (tmp_path / f"{written['id']}.json").write_text(json.dumps(written), encoding="utf-8")
    summary, problems = validate_paths([tmp_path])
    assert summary["with_errors"] == 0, problems


# -- the command ------------------------------------------------------------------------------------

@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "harriman.txt"
    path.write_text(FRUS, encoding="utf-8")
    return path


def test_a_dry_run_prints_the_draft_and_writes_nothing(source, tmp_path, capsys):
    records = tmp_path / "records"
    records.mkdir()
    assert draft.run(source, write=False, records_dir=records) == 0
    out, err = capsys.readouterr()
    printed = json.loads(out)
    assert printed["id"] == "harriman-telegram-1943-11-04" and printed["_review"]
    assert "1 files checked: 1 valid" in err
    assert list(records.iterdir()) == []


def test_write_adds_a_valid_restricted_record_with_the_review_as_notes(source, tmp_path, capsys):
    records = tmp_path / "records"
    assert draft.run(source, write=True, records_dir=records) == 0
    path, = records.iterdir()
    written = json.loads(path.read_text(encoding="utf-8"))
    assert "_review" not in written
    assert written["access"]["status"] == "restricted"
    notes = [n["text"] for n in written["description"]["notes"]]
    assert any(n.startswith("Needs review: provenance.file_number") and "line 1" in n for n in notes)
    summary, problems = validate_paths([records])
    assert (summary["valid"], summary["warnings"]) == (1, 0), problems
    assert "wrote" in capsys.readouterr().out


def test_write_never_overwrites_a_record(source, tmp_path, capsys):
    records = tmp_path / "records"
    records.mkdir()
    existing = records / "harriman-telegram-1943-11-04.json"
    existing.write_text("{}", encoding="utf-8")
    assert draft.run(source, write=True, records_dir=records) == 1
    assert existing.read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in records.iterdir()) == [existing.name]
    assert "exists" in capsys.readouterr().out


def test_write_refuses_a_draft_that_does_not_validate_and_prints_the_report(source, tmp_path, capsys, monkeypatch):
    real = draft.draft_record

    def broken(text, source="x.txt", now=None):
        record = real(text, source, now)
        record["document_type"] = "postcard"
        return record

    monkeypatch.setattr(draft, "draft_record", broken)
    records = tmp_path / "records"
    records.mkdir()
    assert draft.run(source, write=True, records_dir=records) == 1
    out = capsys.readouterr().out
    assert "1 files checked: 0 valid, 1 with errors" in out
    assert "document_type: 'postcard' is not one of" in out
    assert list(records.iterdir()) == []


def test_an_unreadable_file_is_a_usage_error(tmp_path, capsys):
    assert draft.run(tmp_path / "missing.txt", write=False, records_dir=tmp_path) == 2
    assert "cannot read" in capsys.readouterr().err


# -- the seeds, against their finished records -----------------------------------------------------------

SEEDS = {
    "000_a151d23982c265dd.txt": "harriman-roosevelt-1943-11-04",
    "001_e45dc6676497ee2e.txt": "harriman-truman-1945-06-16",
    "002_cc640ee4f1303e6f.txt": "harriman-truman-1945-06-08",
    "003_6e8b16ac9e57456c.txt": "hull-memorandum-1943-10-30",
    "004_a28adbe8c2f8fee2.txt": "stalin-truman-1946-04-06",
}


def seed_and_record(name: str) -> tuple[dict, dict]:
    path = shared_artifact("seeds", name)
    if path is None:
        pytest.skip(f"../shared/seeds/{name} is absent: the seed is not drafted (behaviour is tested above)")
    truth = json.loads((FIXTURE_RECORDS / f"{SEEDS[name]}.json").read_text(encoding="utf-8"))
    return draft_record(path.read_text(encoding="utf-8"), name), truth


def _pages(record: dict) -> list[tuple[str, str]]:
    units = record.get("parts") or [record]
    return [(page["label"], page["text"]) for unit in units for page in unit["pages"]]


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_each_seed_drafts_to_a_valid_record_with_its_pages_verbatim(name, tmp_path):
    drafted, truth = seed_and_record(name)
    assert _pages(drafted) == _pages(truth)
    assert drafted["title"] == truth["title"]
    written = as_written(drafted)
    (tmp_path / f"{written['id']}.json").write_text(json.dumps(written, ensure_ascii=False), encoding="utf-8")
    summary, problems = validate_paths([tmp_path])
    assert summary["with_errors"] == 0, problems


def test_seed_footnotes_keep_the_volume_numbering():
    drafted, truth = seed_and_record("001_e45dc6676497ee2e.txt")
    assert [f["number"] for f in drafted["footnotes"]] == ["63", "64"]
    assert drafted["footnotes"][1]["referenced_at"] == truth["footnotes"][1]["referenced_at"]


def test_seed_markings_and_stamps_of_the_compound_item():
    drafted, truth = seed_and_record("004_a28adbe8c2f8fee2.txt")
    assert drafted["provenance"]["classification"] == truth["provenance"]["classification"]
    telegram = drafted["parts"][1]
    assert telegram["title"] == truth["parts"][1]["title"]
    assert [m["text"] for m in telegram["markings"]] == [m["text"] for m in truth["parts"][1]["markings"]]
    stamps = drafted["parts"][0]["declassification"]
    assert stamps[0]["by"] == "N.T. J.C., NARS" and stamps[0]["date_as_printed"] == "(2.2.75"
    assert [d["as_printed"] for d in telegram["declassification"]] == [
        d["as_printed"] for d in truth["parts"][1]["declassification"]]


def test_seed_file_number_and_date_code():
    drafted, truth = seed_and_record("003_6e8b16ac9e57456c.txt")
    assert drafted["provenance"]["file_number"] == truth["provenance"]["file_number"]
    assert drafted["dates"][0]["date"] == "1943-10-30"
