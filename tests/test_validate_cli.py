"""`catalog validate`: every problem, in words a cataloger can act on, with the right exit status."""

import json
import subprocess
import sys

import pytest

from catalog.cli import main
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import write_record


@pytest.fixture
def folder(tmp_path, synthetic):
    path = tmp_path / "records"
    path.mkdir()
    for n in (1, 2):
        write_record(path, synthetic(n))
    return path


def run(capsys, *args):
    code = main(["validate", *map(str, args)])
    return code, capsys.readouterr().out


def test_fixture_records_are_all_valid(capsys):
    code, out = run(capsys, FIXTURE_RECORDS)
    assert code == 0
    assert out.splitlines()[0].startswith("7 files checked: 7 valid, 0 with errors,")


def test_malformed_json_gives_line_and_column(folder, capsys):
    (folder / "broken.json").write_text('{\n  "id": "broken"\n  "title": "x"\n}\n')
    code, out = run(capsys, folder)
    assert code == 1
    assert out.splitlines()[0] == "3 files checked: 2 valid, 1 with errors, 0 warnings"
    assert f"error: {folder}/broken.json:3:3: Expecting ',' delimiter" in out


@pytest.mark.parametrize("change, expected", [
    (lambda r: r.pop("title"), "title: missing (required)"),
    (lambda r: r["provenance"]["classification"].update(level="secert"),
     ("provenance.classification.level: 'secert' is not one of 'top secret', 'secret', 'confidential', "
      "'restricted', 'unclassified', 'unmarked'")),
    (lambda r: r["dates"][0].update(date="1943-02-30"),
     "dates[0].date: '1943-02-30' is not a valid date: February 1943 has 28 days"),
    (lambda r: r.update(colour="red"), "colour: unknown field (a typo?); the fields here are id, title,"),
    (lambda r: r["access"].update(status="restricted"), "access.reason: missing (required when status is 'restricted')"),
    (lambda r: r.update(id="not-the-file-name"), "id: 'not-the-file-name' does not match the file name"),
])
def test_schema_problems_name_the_field_and_the_rule(folder, synthetic, capsys, change, expected):
    record = synthetic(3)
    change(record)
    path = folder / "syn-000003.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    code, out = run(capsys, path)
    assert code == 1
    assert expected in out


def test_duplicate_ids_are_errors(folder, synthetic, capsys):
    twin = synthetic(1)
    (folder / "copy.json").write_text(json.dumps(twin), encoding="utf-8")
    code, out = run(capsys, folder)
    assert code == 1
    assert "copy.json: id: 'syn-000001' does not match the file name 'copy.json'" in out


def test_duplicate_ids_across_folders_are_reported(tmp_path, synthetic, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_record(tmp_path / name, synthetic(5))
    code, out = run(capsys, tmp_path / "a", tmp_path / "b")
    assert code == 1
    assert "id: 'syn-000005' is also the id of" in out


def test_warnings_do_not_fail_unless_strict(folder, synthetic, capsys):
    record = synthetic(4)
    record["dates"][0]["date"] = "1943-10-29"
    record["provenance"].update(file_number="740.0011 Moscow/10–3043", declassification=[],
                                classification={"level": "secret", "as_marked": ["SECRET"]})
    record.pop("parts", None)
    record.pop("footnotes", None)  # they point at the synthetic pages' labels
    record["pages"] = [{"label": "685", "text": "a"}, {"label": "687", "text": "b"}]
    write_record(folder, record)
    code, out = run(capsys, folder)
    assert code == 0
    assert "3 files checked: 3 valid, 0 with errors, 3 warnings" in out
    assert "date code in '740.0011 Moscow/10–3043' means 10/30/43, but the record's date is 1943-10-29" in out
    assert "originally 'secret' but no declassification authority is recorded" in out
    assert "pages: page labels skip (685 → 687)" in out
    assert main(["validate", "--strict", str(folder)]) == 1


def test_json_format_gives_the_same_report(folder, capsys):
    (folder / "broken.json").write_text("{")
    code, out = run(capsys, "--format", "json", folder)
    report = json.loads(out)
    assert code == 1
    assert report["summary"] == {"files": 3, "valid": 2, "with_errors": 1, "errors": 1, "warnings": 0}
    assert report["problems"][0]["severity"] == "error"
    assert "broken.json:1:2: Expecting property name enclosed in double quotes" in report["problems"][0]["message"]


def test_usage_errors_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "catalog.cli", "validate", str(tmp_path / "missing")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr
    bad_option = subprocess.run([sys.executable, "-m", "catalog.cli", "validate", "--bogus"], capture_output=True,
                                check=False)
    assert bad_option.returncode == 2


def test_schema_command_prints_the_published_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Record"
