"""Manifests and annotation pages are built once per record version and served as stored bytes.

The disk tier is shown with annotation pages (manifests come from the index's templates on the
embedded index: tests/test_manifest_templates.py) and with manifests the index keeps no template for."""

from __future__ import annotations

import json
from pathlib import Path

from manifests import presentation
from manifests.representations import FOLDER
from tests.conftest import PUBLIC_IDS
from tests.conftest import write_record


def stored_files(app, record_id: str) -> list[str]:
    folder = app.config["CATALOG_INSTANCE_DIR"]
    return sorted(p.name for p in (Path(folder) / FOLDER / record_id).glob("*.json"))


def test_a_restarted_worker_serves_the_stored_manifest_without_building_it(make_app, records_dir, monkeypatch):
    record_id = PUBLIC_IDS[0]
    first = make_app(records_dir).test_client()
    built = first.get(f"/iiif/{record_id}/manifest")
    annotations = first.get(f"/iiif/{record_id}/canvas/1/annotations")
    assert built.status_code == annotations.status_code == 200

    def no_building(*args, **kwargs):
        raise AssertionError("built again, though its record did not change")

    monkeypatch.setattr(presentation, "manifest", no_building)
    monkeypatch.setattr(presentation, "annotation_page", no_building)
    again = make_app(records_dir).test_client()  # a new worker: its memory is empty, the disk is not
    served = again.get(f"/iiif/{record_id}/manifest")
    assert served.data == built.data and served.headers["ETag"] == built.headers["ETag"]
    assert again.get(f"/iiif/{record_id}/canvas/1/annotations").data == annotations.data
    assert again.get(f"/iiif/{record_id}/manifest", headers={"If-None-Match": built.headers["ETag"]}).status_code == 304


def test_an_edited_record_gets_a_new_annotation_page_and_its_old_one_is_removed(app, client, records_dir):
    record_id = PUBLIC_IDS[0]
    page = f"/iiif/{record_id}/canvas/1/annotations"
    before = client.get(page).get_json()
    files_before = stored_files(app, record_id)
    path = records_dir / f"{record_id}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["pages"][0]["text"] = "A corrected first page."
    write_record(records_dir, record)
    app.extensions["catalog.index"].refresh(force=True)
    after = client.get(page).get_json()
    assert before != after and "A corrected first page." in json.dumps(after)
    files_after = stored_files(app, record_id)
    assert len(files_after) == len(files_before) == 1 and files_after != files_before


def test_a_torn_stored_document_is_rebuilt_not_served(make_app, records_dir):
    record_id = PUBLIC_IDS[0]
    page = f"/iiif/{record_id}/canvas/1/annotations"
    app = make_app(records_dir)
    good = app.test_client().get(page).data
    stored = next((Path(app.config["CATALOG_INSTANCE_DIR"]) / FOLDER / record_id).glob("annotations-1.*.json"))
    stored.write_bytes(stored.read_bytes()[:200])  # a crash mid-write
    fresh = make_app(records_dir).test_client().get(page)
    assert fresh.status_code == 200 and fresh.data == good


def test_a_manifest_without_a_template_is_kept_on_disk_for_the_next_worker(make_app, records_dir, monkeypatch):
    record_id = PUBLIC_IDS[0]
    first = make_app(records_dir)
    monkeypatch.setattr(type(first.extensions["catalog.index"]), "manifest_template", lambda *args: None)
    built = first.test_client().get(f"/iiif/{record_id}/manifest")
    assert built.status_code == 200 and [n for n in stored_files(first, record_id) if n.startswith("manifest.")]

    def no_building(*args, **kwargs):
        raise AssertionError("built again, though its record did not change")

    monkeypatch.setattr(presentation, "manifest", no_building)
    assert make_app(records_dir).test_client().get(f"/iiif/{record_id}/manifest").data == built.data


def test_a_record_made_restricted_is_404_though_its_manifest_is_stored(app, client, records_dir):
    record_id = PUBLIC_IDS[0]
    assert client.get(f"/iiif/{record_id}/manifest").status_code == 200
    record = json.loads((records_dir / f"{record_id}.json").read_text(encoding="utf-8"))
    record["access"] = {"status": "restricted", "reason": "Screening for personal privacy information."}
    write_record(records_dir, record)
    app.extensions["catalog.index"].refresh(force=True)
    assert client.get(f"/iiif/{record_id}/manifest").status_code == 404
    assert client.get(f"/iiif/{record_id}/canvas/1/annotations").status_code == 404
