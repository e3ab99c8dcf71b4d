"""`catalog export-static`: the public IIIF as files a plain web server serves, correct where it is served."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import pytest
import requests

from catalog.cli import main
from catalog.static_export import export_static
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import free_port
from tests.iiif_schema import iiif_errors

FETCHED_TYPES = {"Manifest", "Collection", "Image", "Dataset", "Text"}
"""Resources a client fetches by their id (Canvas, Range and Annotation ids are names, not files)."""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path):
    """A plain static file server (Python's http.server) on 127.0.0.1, serving `tmp_path/site`."""
    site = tmp_path / "site"
    site.mkdir()
    port = free_port()
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{port}/catalog"
    server.shutdown()
    server.server_close()


def referenced_urls(document, key: str | None = None) -> set[str]:
    """Every URL a client would fetch from this document: typed resources, image services' info.json,
    annotation pages referenced from `annotations`."""
    found: set[str] = set()
    if isinstance(document, dict):
        kind, ident = document.get("type"), document.get("id")
        if isinstance(ident, str):
            if kind in FETCHED_TYPES or (kind == "AnnotationPage" and key == "annotations"):
                found.add(ident)
            elif kind == "ImageService3":
                found.add(ident + "/info.json")
        for name, value in document.items():
            found |= referenced_urls(value, name)
    elif isinstance(document, list):
        for value in document:
            found |= referenced_urls(value, key)
    return found


def test_exported_catalog_serves_from_a_plain_web_server(app, served):
    site, base = served
    summary = export_static(app.extensions["catalog.index"], site / "catalog", base, "Test Archive")
    assert summary.records == len(PUBLIC_IDS) and summary.images > 0
    assert not (site / "catalog.tmp").exists()

    top = requests.get(f"{base}/iiif/collection.json", timeout=10).json()
    assert top["id"] == f"{base}/iiif/collection.json" and not iiif_errors(top)
    manifests, collections, seen = [], [top], set()
    while collections:
        collection = collections.pop()
        for item in collection["items"]:
            body = requests.get(item["id"], timeout=10)
            assert body.status_code == 200, item["id"]
            document = body.json()
            assert document["id"] == item["id"] and not iiif_errors(document), item["id"]
            (manifests if item["type"] == "Manifest" else collections).append(document)
    assert sorted(m["id"].split("/")[-2] for m in manifests) == PUBLIC_IDS

    for manifest in manifests:
        assert "service" not in manifest and "homepage" not in manifest, "server-only links are left out"
        for url in referenced_urls(manifest) - seen:
            seen.add(url)
            if url.startswith(base + "/"):
                path = site / "catalog" / url[len(base) + 1:]
                path = path / "index.html" if url.endswith("/") else path  # the provider's homepage
                assert path.is_file(), f"{manifest['id']} references {url}, which was not exported"
                assert requests.head(url, timeout=10).status_code == 200, url
    assert any(url.endswith("/full/max/0/default.png") for url in seen)
    assert any(url.endswith("/annotations.json") for url in seen)
    for url in (u for u in seen if u.endswith("/annotations.json")):
        assert not iiif_errors(requests.get(url, timeout=10).json()), url


def test_exported_images_are_level_0_and_the_bytes_the_server_draws(app, client, served):
    site, base = served
    export_static(app.extensions["catalog.index"], site / "catalog", base, "Test Archive")
    record_id = PUBLIC_IDS[0]
    info = requests.get(f"{base}/iiif/image/{record_id}/1/info.json", timeout=10).json()
    assert info["profile"] == "level0" and "extraFeatures" not in info
    assert info["id"] == f"{base}/iiif/image/{record_id}/1"
    for size in info["sizes"]:
        exported = requests.get(f"{info['id']}/full/{size['width']},{size['height']}/0/default.png", timeout=10)
        assert exported.status_code == 200 and exported.headers["Content-Type"] == "image/png"
        live = client.get(f"/iiif/image/{record_id}/1/full/{size['width']},{size['height']}/0/default.png")
        assert exported.content == live.data
    full = requests.get(f"{info['id']}/full/max/0/default.png", timeout=10)
    assert full.content == client.get(f"/iiif/image/{record_id}/1/full/max/0/default.png").data


def test_with_an_image_server_no_image_is_drawn_and_every_image_is_the_live_servers(app, served, live_server):
    site, base = served
    summary = export_static(app.extensions["catalog.index"], site / "catalog", base, "Test Archive",
                            image_server=live_server.url + "/")
    assert summary.images == 0 and not list((site / "catalog").rglob("*.png"))
    assert not list((site / "catalog").rglob("info.json"))
    for record_id in PUBLIC_IDS:
        manifest = requests.get(f"{base}/iiif/{record_id}/manifest.json", timeout=10).json()
        assert not iiif_errors(manifest)
        urls = referenced_urls(manifest)
        pictures = {u for u in urls if u.endswith((".png", "/info.json"))}
        assert pictures and all(u.startswith(live_server.url + "/iiif/image/") for u in pictures)
        assert all(u.startswith(base + "/") for u in urls - pictures)  # the rest are files of the export
        for url in sorted(pictures)[:3]:
            answer = requests.get(url, timeout=30)
            assert answer.status_code == 200, url
            assert answer.headers["Content-Type"].startswith(("image/png", "application/ld+json", "application/json"))


def test_export_static_refuses_an_image_server_that_is_not_a_url(records_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CATALOG_RECORDS_DIR", str(records_dir))
    monkeypatch.setenv("CATALOG_INSTANCE_DIR", str(tmp_path / "instance"))
    code = main(["export-static", str(tmp_path / "out"), "--base-url", "https://s.example.org",
                 "--image-server", "catalog.example.org"])
    assert code == 2 and "--image-server must be an http(s) URL" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_restricted_records_are_never_exported(app, tmp_path):
    target = tmp_path / "out"
    export_static(app.extensions["catalog.index"], target, "https://static.example.org/catalog", "Test Archive")
    files = [p for p in target.rglob("*") if p.is_file()]
    assert files
    assert not [p for p in files if RESTRICTED_ID in str(p.relative_to(target))]
    assert not [p for p in files if RESTRICTED_ID.encode() in p.read_bytes()]
    manifest = json.loads((target / "iiif" / PUBLIC_IDS[0] / "manifest.json").read_bytes())
    assert manifest["id"] == f"https://static.example.org/catalog/iiif/{PUBLIC_IDS[0]}/manifest.json"


def test_export_refuses_a_folder_that_is_not_empty(records_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CATALOG_RECORDS_DIR", str(records_dir))
    monkeypatch.setenv("CATALOG_INSTANCE_DIR", str(tmp_path / "instance"))
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    assert main(["export-static", str(target), "--base-url", "https://static.example.org/c"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["keep.txt"] and not (tmp_path / "out.tmp").exists()

    assert main(["export-static", str(tmp_path / "new"), "--base-url", "https://static.example.org/c"]) == 0
    assert f"exported {len(PUBLIC_IDS)} public records" in capsys.readouterr().out
    assert (tmp_path / "new" / "iiif" / "collection.json").is_file() and not (tmp_path / "new.tmp").exists()
    with pytest.raises(SystemExit):
        main(["export-static", str(tmp_path / "other")])  # --base-url is required
