"""`catalog import csv`: rows become records, reported like `catalog validate`, written all or nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from catalog.cli import main
from catalog.importing import batch
from tests.conftest import PROJECT

HEADER = ["id", "title", "document_type", "language", "dates.0.type", "dates.0.date", "creators.0.name",
          "creators.0.role", "provenance.repository.name", "provenance.collection.name",
          "provenance.classification.level", "provenance.transmission.sections", "provenance.paraphrase",
          "description.subjects", "rights.statement", "access.status", "pages.0.label", "pages.0.text"]


def row(record_id: str, **changes) -> dict:
    values = {"id": record_id, "title": f"Telegram {record_id}", "document_type": "telegram", "language": "en",
              "dates.0.type": "sent", "dates.0.date": "1944-05-06", "creators.0.name": "Harriman, W. Averell",
              "creators.0.role": "sender", "provenance.repository.name": "Example Archive",
              "provenance.collection.name": "Example Papers", "provenance.classification.level": "unclassified",
              "provenance.transmission.sections": "2", "provenance.paraphrase": "no",
              "description.subjects": "Lend-lease; Soviet Union—Foreign relations", "rights.statement": "Public domain.",
              "access.status": "open", "pages.0.label": "1", "pages.0.text": "Text of the telegram."}
    values.update(changes)
    return values


def sheet(path: Path, rows: list[dict], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for values in rows:
            writer.writerow([values.get(column, "") for column in header])
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "records"
    path.mkdir()
    return path


def run(capsys, *args) -> tuple[int, str]:
    code = main(["import", "csv", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_dry_run_reports_every_row_like_validate_and_writes_nothing(tmp_path, folder, capsys):
    path = sheet(tmp_path / "inventory.csv", [row("a-1"), row("a-2", **{"dates.0.date": "1944-02-30"}),
                                              row("a-3", **{"provenance.classification.level": "secert"})])
    code, out = run(capsys, path, "--records", folder)
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "3 rows checked: 1 valid, 2 with errors, 0 warnings"
    assert "error: inventory.csv:3: dates[0].date: '1944-02-30' is not a valid date: February 1944 has 29 days" in lines
    assert any(line.startswith("error: inventory.csv:4: provenance.classification.level: 'secert' is not one of")
               and "did you mean 'secret'?" in line for line in lines)
    assert f"new: {folder / 'a-1.json'} (inventory.csv:2)" in lines
    assert lines[-1].startswith("dry run: nothing written")
    assert files(folder) == {}


def test_write_makes_valid_typed_records(tmp_path, folder, capsys):
    path = sheet(tmp_path / "inventory.csv", [row("a-1"), row("a-2")])
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 0, out
    assert out.splitlines()[-1] == f"wrote 2 records (2 new, 0 updated) to {folder}"
    record = json.loads((folder / "a-1.json").read_text(encoding="utf-8"))
    assert record["description"]["subjects"] == ["Lend-lease", "Soviet Union—Foreign relations"]
    assert record["provenance"]["transmission"]["sections"] == 2
    assert record["provenance"]["paraphrase"] is False
    assert record["creators"] == [{"name": "Harriman, W. Averell", "role": "sender"}]
    assert record["cataloging"]["sources"] == ["inventory.csv, row 2"]
    assert main(["validate", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("2 files checked: 2 valid, 0 with errors, 0 warnings")


def test_write_refuses_the_whole_batch_when_one_row_is_invalid(tmp_path, folder, capsys):
    path = sheet(tmp_path / "inventory.csv", [row("a-1"), row("a-2", title="")])
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 1
    assert "error: inventory.csv:3: title: missing (required)" in out
    assert "nothing written: 1 of 2 rows have errors" in out
    assert files(folder) == {}


def test_partial_writes_the_valid_rows_and_lists_the_rest(tmp_path, folder, capsys):
    path = sheet(tmp_path / "inventory.csv", [row("a-1"), row("a-2", **{"dates.0.type": "posted"}), row("a-3")])
    code, out = run(capsys, path, "--records", folder, "--partial")
    assert code == 1
    assert "error: inventory.csv:3: dates[0].type: 'posted' is not one of" in out
    assert out.splitlines()[-1] == f"wrote 2 records (2 new, 0 updated) to {folder}; left out 1: inventory.csv:3"
    assert set(files(folder)) == {"a-1.json", "a-3.json"}


def test_missing_required_fields_are_named_by_path_not_defaulted(tmp_path, folder, capsys):
    header = [c for c in HEADER if c not in ("language", "access.status", "provenance.repository.name")]
    path = sheet(tmp_path / "inventory.csv", [row("a-1")], header)
    code, out = run(capsys, path, "--records", folder)
    assert code == 1
    for field in ("language", "access", "provenance.repository"):
        assert f"error: inventory.csv:2: {field}: missing (required)" in out
    code, out = run(capsys, path, "--records", folder, "--set", "language=en", "--set", "access.status=open",
                    "--set", "provenance.repository.name=Example Archive", "--set", "title=never used")
    assert code == 0, out
    code, out = run(capsys, path, "--records", folder, "--write", "--set", "language=en", "--set",
                    "access.status=open", "--set", "provenance.repository.name=Example Archive")
    assert json.loads((folder / "a-1.json").read_text())["title"] == "Telegram a-1"  # a setting never overrides


def test_duplicate_ids_in_one_sheet_are_errors(tmp_path, folder, capsys):
    path = sheet(tmp_path / "inventory.csv", [row("a-1"), row("a-1")])
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 1
    assert "error: inventory.csv:3: id: 'a-1' is also the id of inventory.csv:2" in out
    assert files(folder) == {}


def test_an_existing_record_is_never_overwritten_without_update(tmp_path, folder, capsys):
    sheet(tmp_path / "first.csv", [row("a-1")])
    assert run(capsys, tmp_path / "first.csv", "--records", folder, "--write")[0] == 0
    before = files(folder)
    path = sheet(tmp_path / "second.csv", [row("a-1", title="A new title")])
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 1
    assert (f"error: second.csv:2: id: 'a-1' is already a record ({folder / 'a-1.json'}) and the import would "
            "change title") in out
    assert files(folder) == before


def test_update_replaces_the_sheets_fields_and_keeps_the_catalogers(tmp_path, folder, capsys):
    sheet(tmp_path / "first.csv", [row("a-1")])
    run(capsys, tmp_path / "first.csv", "--records", folder, "--write")
    target = folder / "a-1.json"
    record = json.loads(target.read_text())
    record["description"]["summary"] = "Written by a cataloger."
    record["cataloging"].update(created="2020-01-01T00:00:00Z", modified="2020-01-01T00:00:00Z")
    target.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    header = ["id", "title", "provenance.collection.box"]
    path = sheet(tmp_path / "second.csv", [{"id": "a-1", "title": "A new title", "provenance.collection.box": "7"}],
                 header)
    code, out = run(capsys, path, "--records", folder, "--write", "--update")
    assert code == 0, out
    assert f"update: {target} (second.csv:2): title, provenance.collection.box, cataloging.sources" in out
    updated = json.loads(target.read_text())
    assert updated["title"] == "A new title"
    assert updated["provenance"]["collection"] == {"name": "Example Papers", "box": "7"}
    assert updated["description"]["summary"] == "Written by a cataloger."
    assert updated["pages"] == record["pages"]
    assert updated["cataloging"]["created"] == "2020-01-01T00:00:00Z"
    assert updated["cataloging"]["modified"] > "2020-01-01T00:00:00Z"
    assert updated["cataloging"]["sources"] == ["first.csv, row 2", "second.csv, row 2"]


def test_a_mapping_file_names_the_field_of_other_headers(tmp_path, folder, capsys):
    header = ["Item", *HEADER[1:]]
    header[header.index("title")] = "Heading"
    header[header.index("description.subjects")] = "Subjects"
    values = row("a-1")
    values.update({"Item": "a-1", "Heading": "Mapped heading", "Subjects": "One; Two"})
    path = sheet(tmp_path / "legacy.csv", [values], header)
    mapping_json = tmp_path / "mapping.json"
    mapping_json.write_text(json.dumps({"Item": "id", "Heading": "title", "Subjects": "description.subjects"}))
    mapping_csv = tmp_path / "mapping.csv"
    mapping_csv.write_text("column,field\nItem,id\nHeading,title\nSubjects,description.subjects\n")
    for mapping in (mapping_json, mapping_csv):
        code, out = run(capsys, path, "--records", folder, "--mapping", mapping, "--write")
        assert code == 0, out
        record = json.loads((folder / "a-1.json").read_text())
        assert (record["title"], record["description"]["subjects"]) == ("Mapped heading", ["One", "Two"])
        (folder / "a-1.json").unlink()


def test_unmapped_header_is_reported_as_an_unknown_field(tmp_path, folder, capsys):
    path = sheet(tmp_path / "inventory.csv", [{**row("a-1"), "Box": "7"}], [*HEADER, "Box"])
    code, out = run(capsys, path, "--records", folder)
    assert code == 1
    assert "error: inventory.csv:2: Box: unknown field (a typo?)" in out


def test_file_problems_are_usage_errors(tmp_path, folder, capsys):
    code, out = run(capsys, tmp_path / "absent.csv", "--records", folder)
    assert code == 2 and "absent.csv: cannot be read" in out
    clash = sheet(tmp_path / "clash.csv", [{"title": "x", "title.main": "y"}], ["title", "title.main"])
    code, out = run(capsys, clash, "--records", folder)
    assert code == 2 and "clash.csv:1: columns 'title' and 'title.main' name the same field" in out
    code, out = run(capsys, clash, "--records", folder, "--set", "nothing")
    assert code == 2 and "write it as FIELD=VALUE" in out
    good = sheet(tmp_path / "good.csv", [row("a-1")])
    code, out = run(capsys, good, "--records", folder, "--set", "title.main=x")
    assert code == 2 and "--set title.main: the record already has a value of another kind" in out


def test_an_existing_file_that_is_not_a_record_is_reported_not_replaced(tmp_path, folder, capsys):
    (folder / "a-1.json").write_text('{"id": "a-1", "provenance": "not an object"}', encoding="utf-8")
    (folder / "a-2.json").write_text("{broken", encoding="utf-8")
    before = files(folder)
    path = sheet(tmp_path / "inventory.csv", [row("a-1"), row("a-2")])
    code, out = run(capsys, path, "--records", folder, "--write", "--update")
    assert code == 1
    assert f"error: inventory.csv:2: id: {folder / 'a-1.json'} is not a record the import can update" in out
    assert f"error: inventory.csv:3: id: {folder / 'a-2.json'} exists and cannot be read as a record" in out
    assert files(folder) == before


def test_a_failure_midway_leaves_no_half_batch(tmp_path, folder, capsys):
    (folder / "keep.json").write_bytes(b"{}")  # not touched by the batch
    (folder / ".a-3.json.import-tmp").mkdir()  # the third record's temporary file cannot be written
    path = sheet(tmp_path / "inventory.csv", [row("a-1"), row("a-2"), row("a-3")])
    code, out = run(capsys, path, "--records", folder, "--write")
    assert code == 1
    assert "nothing written: cannot write" in out
    assert sorted(p.name for p in folder.iterdir()) == [".a-3.json.import-tmp", "keep.json"]


def test_a_failed_move_puts_back_what_was_moved(tmp_path, folder, capsys, monkeypatch):
    sheet(tmp_path / "first.csv", [row("a-1")])
    run(capsys, tmp_path / "first.csv", "--records", folder, "--write")
    before = files(folder)
    real_replace, calls = batch.os.replace, []

    def failing_replace(source, target):
        calls.append(target)
        if len(calls) == 3:  # a-1 updated and a-2 created, then the third move fails
            raise OSError(28, "No space left on device", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(batch.os, "replace", failing_replace)
    path = sheet(tmp_path / "second.csv", [row("a-1", title="Changed"), row("a-2"), row("a-3")])
    code, out = run(capsys, path, "--records", folder, "--write", "--update")
    assert code == 1
    assert "nothing written: cannot write" in out and "No space left on device" in out
    assert files(folder) == before


def test_imported_records_are_served_and_restricted_ones_stay_closed(tmp_path, records_dir, make_app, capsys):
    rows = [row("imported-open"), {**row("imported-closed", **{"access.status": "restricted"}),
                                   "access.reason": "Donor restriction."}]
    path = sheet(tmp_path / "inventory.csv", rows, [*HEADER, "access.reason"])
    code, out = run(capsys, path, "--records", records_dir, "--write")
    assert code == 0, out
    client = make_app(records_dir).test_client()
    response = client.get("/api/records/imported-open")
    assert response.status_code == 200
    assert response.get_data() == (records_dir / "imported-open.json").read_bytes()
    assert client.get("/api/records/imported-closed").status_code == 404
    assert "Telegram imported-open" in client.get("/records/imported-open").get_data(as_text=True)


def test_xlsx_sheets_are_read_with_dates_and_numbers(tmp_path, folder, capsys):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    workbook = openpyxl.Workbook()
    sheet_ = workbook.active
    sheet_.append(HEADER)
    values = row("x-1")
    values.update({"dates.0.date": dt.datetime(1944, 5, 6), "provenance.transmission.sections": 3,
                   "pages.0.label": 12})
    sheet_.append([values[c] for c in HEADER])
    workbook.save(tmp_path / "inventory.xlsx")
    code, out = run(capsys, tmp_path / "inventory.xlsx", "--records", folder, "--write")
    assert code == 0, out
    record = json.loads((folder / "x-1.json").read_text())
    assert record["dates"][0]["date"] == "1944-05-06"
    assert record["provenance"]["transmission"]["sections"] == 3
    assert record["pages"][0]["label"] == "12"


def test_the_readme_example_sheet_is_valid(tmp_path, folder, capsys):
    code, out = run(capsys, PROJECT / "docs" / "examples" / "inventory.csv", "--records", folder)
    assert code == 0, out
    assert out.startswith("3 rows checked: 3 valid, 0 with errors, 0 warnings")


def test_imports_and_drafts_write_into_the_configured_records_folder(tmp_path, folder, capsys, monkeypatch):
    monkeypatch.setenv("CATALOG_RECORDS_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, sheet(tmp_path / "inventory.csv", [row("a-1")]), "--write")
    assert code == 0, out
    assert set(files(folder)) == {"a-1.json"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    transcription = tmp_path / "telegram.txt"
    transcription.write_text("Roosevelt Papers: Telegram\n\nThe Ambassador in the Soviet Union (Harriman) to the "
                             "President\n\nMoscow, November 4, 1943.\n\nThe conference ended today.\n\n[Harriman]\n",
                             encoding="utf-8")
    assert main(["draft", str(transcription), "--write", "--records", str(elsewhere)]) == 0
    assert len(list(elsewhere.glob("*.json"))) == 1
    assert set(files(folder)) == {"a-1.json"}
