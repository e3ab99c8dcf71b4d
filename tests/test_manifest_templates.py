"""Manifests built at index time as templates: filled in per request, identical to a request-time build."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from catalog.model import Record
from catalog.urls import Urls
from manifests import presentation
from manifests import templates
from manifests.iiif import dump
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PUBLIC_IDS
from tests.conftest import write_record

CONTEXTS = [
    ("http://127.0.0.1:5000", "Benchmark Archive", "http://127.0.0.1:5000/"),
    ("https://archive.example.org/catalog", "Archiv für Zeitgeschichte", "https://example.org/über"),
    ("https://x.example", "Name with \\ backslash and ✓", "https://elsewhere.example/home?a=b"),
]


def fixture_record(record_id: str) -> Record:
    return Record.model_validate_json((FIXTURE_RECORDS / f"{record_id}.json").read_bytes())


@pytest.mark.parametrize("record_id", PUBLIC_IDS)
@pytest.mark.parametrize("base, name, homepage", CONTEXTS)
def test_a_filled_template_is_byte_for_byte_the_manifest_built_at_request_time(record_id, base, name, homepage):
    record = fixture_record(record_id)
    built = dump(presentation.manifest(record, Urls(base), presentation.provider(name, homepage)))
    assert templates.fill(templates.template(record), base, name, homepage) == built


@pytest.mark.parametrize("value", ['Smith & Sons', 'The "Archive"', "<b>", "urn:x-catalog-template:base"])
def test_a_value_the_template_cannot_hold_exactly_is_refused_not_mangled(value):
    stored = templates.template(fixture_record(PUBLIC_IDS[0]))
    assert templates.fill(stored, "http://127.0.0.1", value, "http://127.0.0.1/") is None
    assert templates.fill(stored, "http://127.0.0.1", "Archive", value) is None


def test_a_record_quoting_a_marker_gets_no_template_and_its_manifest_is_built_per_request(app, client, records_dir):
    record = json.loads((records_dir / f"{PUBLIC_IDS[0]}.json").read_text(encoding="utf-8"))
    record["title"] = f"On the string {templates.BASE}"
    write_record(records_dir, record)
    app.extensions["catalog.index"].refresh(force=True)
    assert templates.template(Record.model_validate(record)) is None
    manifest = client.get(f"/iiif/{record['id']}/manifest").get_json()
    assert manifest["label"] == {record["language"]: [record["title"]]}
    assert manifest["id"] == f"http://localhost/iiif/{record['id']}/manifest"


def kept_templates(app) -> dict[str, bytes]:
    path = Path(app.config["CATALOG_INSTANCE_DIR"]) / "index.sqlite3"
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT r.id, m.template FROM records r JOIN manifests m ON m.record_rowid = r.rowid"))


def test_the_index_keeps_a_template_for_every_public_record_and_follows_edits_and_removals(app, records_dir):
    assert sorted(kept_templates(app)) == PUBLIC_IDS  # the restricted record has none
    before = kept_templates(app)[PUBLIC_IDS[0]]
    record = json.loads((records_dir / f"{PUBLIC_IDS[0]}.json").read_text(encoding="utf-8"))
    record["title"] = "A corrected title"
    write_record(records_dir, record)
    (records_dir / f"{PUBLIC_IDS[1]}.json").unlink()
    app.extensions["catalog.index"].refresh(force=True, accept_deletions=True)
    after = kept_templates(app)
    assert PUBLIC_IDS[1] not in after and after[PUBLIC_IDS[0]] != before
    assert b"A corrected title" in templates.fill(after[PUBLIC_IDS[0]], "http://h", "A", "http://h/")


def test_a_first_time_manifest_is_served_from_the_template_without_building(app, client, monkeypatch):
    def no_building(*args, **kwargs):
        raise AssertionError("a manifest was built at request time, though the index keeps its template")

    monkeypatch.setattr(presentation, "manifest", no_building)
    app.config["CATALOG_INSTITUTION_NAME"] = "Reading Room"
    for record_id in PUBLIC_IDS:
        response = client.get(f"/iiif/{record_id}/manifest", base_url="https://archive.example.org")
        assert response.status_code == 200
        manifest = response.get_json()
        assert manifest["id"] == f"https://archive.example.org/iiif/{record_id}/manifest"
        assert manifest["provider"][0]["label"] == {"en": ["Reading Room"]}
        monkeypatch.undo()
        record = app.extensions["catalog.index"].record(record_id)
        expected = presentation.manifest(record, Urls("https://archive.example.org"),
                                         presentation.provider("Reading Room", "https://archive.example.org/"))
        assert manifest == json.loads(dump(expected))
        monkeypatch.setattr(presentation, "manifest", no_building)


def test_a_restricted_record_with_a_kept_template_is_404(app, client, records_dir):
    record = json.loads((records_dir / f"{PUBLIC_IDS[0]}.json").read_text(encoding="utf-8"))
    assert app.extensions["catalog.index"].manifest_template(record["id"], "not its hash") is None
    record["access"] = {"status": "restricted", "reason": "Screening for personal privacy information."}
    write_record(records_dir, record)
    app.extensions["catalog.index"].refresh(force=True)
    assert client.get(f"/iiif/{record['id']}/manifest").status_code == 404
