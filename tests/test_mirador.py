"""Mirador 4 (the npm bundle, served offline by the catalog) in headless Chromium against a real
server: every seed record opens with its title, its pages, a painted first image and its transcription."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import requests
from PIL import Image
from PIL import ImageStat

from tests.conftest import PROJECT
from tests.conftest import SEED_RECORDS
from tests.conftest import LiveServer
from tests.conftest import write_record

CHROMIUM = "/usr/bin/chromium"
BUNDLE = PROJECT / "node_modules" / "mirador" / "dist" / "mirador.min.js"
SEED_IDS = sorted(path.stem for path in SEED_RECORDS.glob("*.json"))
ARTIFACTS = Path(os.environ.get("CATALOG_TEST_ARTIFACTS", PROJECT / "test-artifacts")) / "mirador"

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)
if not BUNDLE.exists():
    pytest.skip(f"{BUNDLE} is absent (npm install)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirador")
    records = root / "records"
    shutil.copytree(SEED_RECORDS, records)
    closed = json.loads((records / "hull-memorandum-1943-10-30.json").read_text())
    closed["id"] = "closed-memo"
    closed["access"] = {"status": "restricted", "reason": "Donor restriction."}
    write_record(records, closed)
    live = LiveServer(records, root / "instance")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


def only_localhost(route) -> None:
    if route.request.url.startswith("http://127.0.0.1"):
        route.continue_()
    else:
        route.abort()


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("record_id", SEED_IDS)
def test_every_seed_record_opens_in_mirador(server, browser, record_id):
    manifest = requests.get(f"{server.url}/iiif/{record_id}/manifest", timeout=10).json()
    first_image = manifest["items"][0]["items"][0]["items"][0]["body"]["id"]
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.route("**/*", only_localhost)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    image_responses = []
    page.on("response", lambda r: image_responses.append(r) if r.url == first_image else None)
    try:
        page.goto(f"{server.url}/iiif/{record_id}/viewer")
        page.wait_for_selector(".openseadragon-canvas canvas", timeout=20_000)
        page.wait_for_function("() => document.body.innerText.includes(' of ')", timeout=20_000)
        page.wait_for_timeout(1500)  # let OpenSeadragon draw the tiles it fetched
        body = words(page.inner_text("body"))
        assert manifest["label"]["en"][0] in body, "the window shows the manifest's title"
        assert f"1 of {len(manifest['items'])}" in body, "Mirador counts the manifest's canvases"
        assert any(r.status == 200 and r.headers["content-type"] == "image/png" for r in image_responses)
        drawn = Image.open(io.BytesIO(page.locator(".openseadragon-canvas").screenshot())).convert("L")
        assert ImageStat.Stat(drawn).stddev[0] > 10, "the first page image is painted, not a blank canvas"
        first_text = words(manifest["items"][0]["annotations"][0]["items"][0]["body"]["value"])
        assert first_text[:60] in body, "the Annotations panel lists the page's transcription"
        if "structures" in manifest:
            page.get_by_role("tab", name="Index").click()
            page.wait_for_timeout(500)
            index = words(page.inner_text("body"))
            for part in manifest["structures"]:
                assert part["label"]["en"][0] in index, "the table of contents names each part"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{record_id}.png"))
        assert errors == []
    finally:
        page.close()


def test_viewer_is_404_for_restricted_and_unknown_records(server):
    for record_id in ("closed-memo", "no-such-record", "..%2F..%2Fetc"):
        assert requests.get(f"{server.url}/iiif/{record_id}/viewer", timeout=10).status_code == 404


def test_without_the_bundle_the_viewer_is_absent_and_the_manifest_linked(records_dir, make_app, tmp_path):
    client = make_app(records_dir, CATALOG_VIEWER_DIR=str(tmp_path / "empty")).test_client()
    assert client.get("/iiif/hull-memorandum-1943-10-30/viewer").status_code == 404
    assert client.get("/iiif/viewer/mirador.min.js").status_code == 404
    page = client.get("/records/hull-memorandum-1943-10-30").get_data(as_text=True)
    assert "/iiif/hull-memorandum-1943-10-30/manifest" in page and "<iframe" not in page
    installed = make_app(records_dir).test_client().get("/records/hull-memorandum-1943-10-30").get_data(True)
    assert '<iframe' in installed and "/iiif/hull-memorandum-1943-10-30/viewer" in installed


def test_the_record_page_embeds_the_same_viewer(server, browser):
    record_id = "stalin-truman-1946-04-06"
    manifest = requests.get(f"{server.url}/iiif/{record_id}/manifest", timeout=10).json()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", only_localhost)
    try:
        page.goto(f"{server.url}/records/{record_id}")
        frame_element = page.wait_for_selector("iframe", timeout=10_000)
        frame_element.scroll_into_view_if_needed()
        frame = frame_element.content_frame()
        frame.wait_for_selector(".openseadragon-canvas canvas", timeout=20_000)
        frame.wait_for_function("() => document.body.innerText.includes(' of ')", timeout=20_000)
        shown = words(frame.inner_text("body"))
        assert manifest["label"]["en"][0] in shown
        assert f"1 of {len(manifest['items'])}" in shown
    finally:
        page.close()
