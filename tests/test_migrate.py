"""`catalog migrate` brings older records to the current schema: a dry run shows the diff and writes
nothing; --write rewrites only files whose migrated record validates; a second run changes nothing."""

from __future__ import annotations

import json
import shutil

from catalog.cli import main
from catalog.migrate import migrate
from tests.conftest import FIXTURE_RECORDS


def old_style(folder):
    """A copy of the fixture corpus with one date written the 1.0 way (`approximate`)."""
    shutil.copytree(FIXTURE_RECORDS, folder)
    path = folder / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["dates"][0].pop("certainty", None)
    record["dates"][0] = {"type": record["dates"][0]["type"], "date": record["dates"][0]["date"],
                          "approximate": True, **{k: v for k, v in record["dates"][0].items()
                                                  if k not in ("type", "date", "approximate")}}
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def test_approximate_becomes_certainty_in_its_place():
    record = {"dates": [{"type": "sent", "date": "1943-11-04", "approximate": True, "note": "n"},
                        {"type": "written", "date": "1943-11-05", "approximate": False}],
              "parts": [{"dates": [{"type": "received", "date": "1943-11-06", "approximate": True}]}]}
    migrated = migrate(record)
    assert list(migrated["dates"][0]) == ["type", "date", "certainty", "note"]
    assert migrated["dates"][0]["certainty"] == "approximate" and "approximate" not in migrated["dates"][1]
    assert migrated["parts"][0]["dates"][0]["certainty"] == "approximate"
    assert migrate(migrated) == migrated
    assert record["dates"][0]["approximate"] is True  # the argument is left as it was


def test_a_dry_run_shows_the_diff_and_writes_nothing(tmp_path, capsys):
    path = old_style(tmp_path / "records")
    before = path.read_bytes()
    assert main(["migrate", str(tmp_path / "records")]) == 0
    out = capsys.readouterr().out
    assert "would migrate" in out and '-      "approximate": true,' in out and '+      "certainty": "approximate",' in out
    assert path.read_bytes() == before


def test_write_migrates_once_and_the_result_validates(tmp_path, capsys):
    path = old_style(tmp_path / "records")
    assert main(["migrate", "--write", str(tmp_path / "records")]) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["dates"][0]["certainty"] == "approximate"
    capsys.readouterr()
    assert main(["migrate", str(tmp_path / "records")]) == 0
    assert "0 would migrate" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "records")]) == 0


def test_a_record_that_would_not_validate_is_refused_and_left_alone(tmp_path, capsys):
    folder = tmp_path / "records"
    path = old_style(folder)
    record = json.loads(path.read_text(encoding="utf-8"))
    record["title"] = ""  # already broken: migrating must not write it
    path.write_text(json.dumps(record), encoding="utf-8")
    before = path.read_bytes()
    assert main(["migrate", "--write", str(folder)]) == 1
    assert "refused" in capsys.readouterr().out and path.read_bytes() == before


def test_an_image_service_url_becomes_the_service_described():
    """1.1 pages gave the service as a URL and the size as the page's width and height; the catalog then
    declared it ImageService3 level0, which is what the migrated record now says in so many words."""
    record = {"pages": [{"label": "1", "text": "", "image_service": "https://img.example.org/iiif/3/p1",
                         "width": 2000, "height": 2600},
                        {"label": "2", "text": "", "image_url": "https://img.example.org/p2.jpg",
                         "width": 1800, "height": 2400}]}
    migrated = migrate(record)
    assert migrated["pages"][0] == {"label": "1", "text": "", "image_service": {
        "id": "https://img.example.org/iiif/3/p1", "type": "ImageService3", "profile": "level0",
        "width": 2000, "height": 2600}}
    assert migrated["pages"][1] == record["pages"][1]
    assert migrate(migrated) == migrated


def test_an_image_service_without_a_size_is_refused_not_invented(tmp_path, capsys):
    folder = tmp_path / "records"
    shutil.copytree(FIXTURE_RECORDS, folder)
    path = folder / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["pages"][0]["image_service"] = "https://img.example.org/iiif/3/p1"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    before = path.read_bytes()
    assert main(["migrate", "--write", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "refused" in out and "image_service" in out
    assert path.read_bytes() == before
