"""Mirador 4 (the npm bundle, served offline by the catalog) in headless Chromium against a real
server: every public record opens with its title, its pages, a painted first image and its transcription.
The browser tests are slow (deselected by default; `--slow` or CI=true runs them)."""

from __future__ import annotations

import io
import os
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import requests
from PIL import Image
from PIL import ImageStat

from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PROJECT
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import LiveServer

CHROMIUM = "/usr/bin/chromium"
BUNDLE = PROJECT / "node_modules" / "mirador" / "dist" / "mirador.min.js"
ARTIFACTS = Path(os.environ.get("CATALOG_TEST_ARTIFACTS", PROJECT / "test-artifacts")) / "mirador"


def need_bundle() -> None:
    if not BUNDLE.exists():
        pytest.skip(f"{BUNDLE} is absent (npm install)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn over the fixture corpus (its restricted record included)."""
    root = tmp_path_factory.mktemp("mirador")
    records = root / "records"
    shutil.copytree(FIXTURE_RECORDS, records)
    live = LiveServer(records, root / "instance")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium; the tests that drive it skip where it (or Mirador's bundle) is not installed."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    need_bundle()
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


def shown(html: str) -> str:
    """The words a browser shows of an HTML annotation body: tags gone, entities resolved."""
    return words(unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.slow
@pytest.mark.parametrize("record_id", PUBLIC_IDS)
def test_every_public_record_opens_in_mirador(server, browser, record_id):
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
        first_text = shown(manifest["items"][0]["annotations"][0]["items"][0]["body"]["value"])
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
    for record_id in (RESTRICTED_ID, "no-such-record", "..%2F..%2Fetc"):
        assert requests.get(f"{server.url}/iiif/{record_id}/viewer", timeout=10).status_code == 404


def test_without_the_bundle_the_viewer_is_absent_and_the_manifest_linked(records_dir, make_app, tmp_path):
    need_bundle()  # to compare with the installed viewer
    client = make_app(records_dir, CATALOG_VIEWER_DIR=str(tmp_path / "empty")).test_client()
    assert client.get("/iiif/hull-memorandum-1943-10-30/viewer").status_code == 404
    assert client.get("/iiif/viewer/mirador.min.js").status_code == 404
    page = client.get("/records/hull-memorandum-1943-10-30").get_data(as_text=True)
    assert "/iiif/hull-memorandum-1943-10-30/manifest" in page and "<iframe" not in page
    installed = make_app(records_dir).test_client().get("/records/hull-memorandum-1943-10-30").get_data(True)
    assert '<iframe' in installed and "/iiif/hull-memorandum-1943-10-30/viewer" in installed


@pytest.mark.slow
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
        # the page image gets the room: the page's full width, a usable height, side panel closed
        viewer = frame_element.bounding_box()
        image_area = frame.locator(".openseadragon-canvas").bounding_box()
        assert viewer["width"] > 1000 and viewer["height"] >= 600, viewer
        assert image_area["width"] > 0.9 * viewer["width"] and image_area["height"] > 400, image_area
        back = frame.locator("a", has_text="Catalog record")
        assert back.get_attribute("href").endswith(f"/records/{record_id}")  # the viewer links back
    finally:
        page.close()


@pytest.mark.slow
def test_a_reader_searches_inside_a_document_from_mirador(server, browser):
    """Content Search from the viewer: the search panel lists the hits with their words in context, the
    viewer turns to the page of the first one, and boxes both hits on the page image."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", only_localhost)
    try:
        page.goto(f"{server.url}/iiif/stalin-truman-1946-04-06/viewer")
        page.wait_for_selector(".openseadragon-canvas canvas", timeout=20_000)
        page.wait_for_function("() => document.body.innerText.includes('1 of 7')", timeout=20_000)
        page.locator("button[aria-label*='earch']").first.click()
        box = page.locator("input[id^='search']").first
        box.fill("Iran")
        box.press("Enter")
        page.wait_for_function("() => document.body.innerText.includes('with regard to Iran')", timeout=20_000)
        text = page.locator("body").inner_text()
        assert "1 of 2" in text and "her troops from Iran" in text  # both hits, each in its context
        page.wait_for_function("() => document.body.innerText.includes('5 of 7')", timeout=10_000)  # page -4-
        page.wait_for_timeout(1500)  # let OpenSeadragon draw the page and Mirador the hit boxes
        drawn = Image.open(io.BytesIO(page.locator(".openseadragon-canvas").screenshot())).convert("RGB")
        raw = drawn.tobytes()
        pixels = list(zip(raw[0::3], raw[1::3], raw[2::3]))
        current = sum(1 for r, g, b in pixels if r > 200 and g > 200 and r - b > 40)  # the current hit, yellow
        other = sum(1 for r, g, b in pixels if b - r > 30 and b > 180)  # the other hit, blue
        assert current > 100 and other > 100, (current, other)  # both words boxed on the grey page
    finally:
        page.close()
