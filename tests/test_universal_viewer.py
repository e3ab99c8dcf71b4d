"""Universal Viewer 4 (the npm bundle, a test-only client) in headless Chromium against a real server:
every public record opens, every canvas's thumbnail loads (UV asks each service for `full/90,/0/default.jpg`,
which a level-0 service refused with 400), no request to the catalog fails, and searching inside a
document from UV's footer finds its hits through the Content Search 1.0 service.

UV is served from its own static server on another loopback port, as a library's site embeds it:
the catalog is another origin, so CORS is exercised too."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.conftest import PROJECT
from tests.conftest import PUBLIC_IDS
from tests.conftest import free_port
from tests.test_mirador import browser  # noqa: F401 (a fixture: headless Chromium)
from tests.test_mirador import only_localhost
from tests.test_mirador import server  # noqa: F401 (a fixture: gunicorn over the fixture corpus)

UV_DIST = PROJECT / "node_modules" / "universalviewer" / "dist"

HARNESS = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>UV</title>
<link rel="stylesheet" href="/uv.css"><script src="/umd/UV.js"></script>
<style>#uv { width: 1200px; height: 760px; }</style></head>
<body><div id="uv" class="uv"></div><script>
  const manifest = new URLSearchParams(location.search).get("manifest");
  UV.init("uv", {manifest: manifest, embedded: true});
</script></body></html>"""
"""The smallest page that embeds UV 4 as its documentation shows: UV.init with the manifest's URL."""


class _UVFiles(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(UV_DIST), **kwargs)

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if not self.path.startswith("/harness.html"):
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HARNESS)))
        self.end_headers()
        self.wfile.write(HARNESS)


@pytest.fixture(scope="module")
def uv_site():
    """UV's bundle on a loopback port of its own (another origin than the catalog)."""
    if not (UV_DIST / "umd" / "UV.js").exists():
        pytest.skip(f"{UV_DIST} is absent (npm install)")
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _UVFiles)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()


def open_in_uv(browser, uv_site: str, manifest_url: str):  # noqa: F811 (browser is the fixture's value)
    """A page with UV showing the manifest, and the log of every response and failure it saw."""
    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.route("**/*", only_localhost)
    seen: dict = {"responses": [], "failed": [], "errors": []}
    page.on("response", lambda r: seen["responses"].append((r.status, r.url, r.headers.get("content-type"))))
    page.on("requestfailed", lambda r: seen["failed"].append(r.url))
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.goto(f"{uv_site}/harness.html?manifest={quote(manifest_url, safe='')}")
    page.wait_for_selector(".openseadragon-canvas canvas", timeout=30_000)
    return page, seen


@pytest.mark.slow
@pytest.mark.parametrize("record_id", PUBLIC_IDS)
def test_every_thumbnail_loads_in_universal_viewer(server, browser, uv_site, record_id):  # noqa: F811
    manifest_url = f"{server.url}/iiif/{record_id}/manifest"
    manifest = requests.get(manifest_url, timeout=10).json()
    page, seen = open_in_uv(browser, uv_site, manifest_url)
    try:
        pages = len(manifest["items"])
        if pages > 1:  # UV shows no thumbnail strip for a single canvas
            page.wait_for_selector(".thumb", timeout=20_000)
        thumbs = page.locator(".thumb")
        assert thumbs.count() == (pages if pages > 1 else 0), "UV shows one thumbnail per canvas"
        for n in range(thumbs.count()):  # UV loads thumbnails as they scroll into view
            thumbs.nth(n).scroll_into_view_if_needed()
            thumbs.nth(n).locator("img").wait_for(timeout=10_000)
            page.wait_for_function("el => el.complete && el.naturalWidth > 0",
                                   arg=thumbs.nth(n).locator("img").element_handle(), timeout=10_000)
        painted = manifest["items"][0]["items"][0]["items"][0]["body"]["service"][0]["id"]
        page.wait_for_function("url => performance.getEntriesByType('resource').some(e => e.name.startsWith(url)"
                               " && !e.name.endsWith('info.json'))", arg=painted, timeout=20_000)
        title = manifest["label"]["en"][0]
        assert title in page.locator("body").inner_text()
        from_catalog = [r for r in seen["responses"] if r[1].startswith(server.url)]
        images = [r for r in from_catalog if "/iiif/image/" in r[1] and not r[1].endswith("info.json")]
        thumbnails = {url for _status, url, _type in images if "/full/90," in url}
        assert len(thumbnails) == (pages if pages > 1 else 0)
        assert [r for r in from_catalog if r[0] >= 400] == [], "no request to the catalog fails"
        assert all(kind.startswith("image/") for status, _url, kind in images)
        assert [url for url in seen["failed"] if url.startswith(server.url)] == []
        assert seen["errors"] == []
    finally:
        page.close()


@pytest.mark.slow
def test_searching_inside_a_document_from_universal_viewer(server, browser, uv_site):  # noqa: F811
    """UV's footer search asks the manifest's Content Search 1.0 service and counts its hits."""
    record_id = "stalin-truman-1946-04-06"
    page, seen = open_in_uv(browser, uv_site, f"{server.url}/iiif/{record_id}/manifest")
    try:
        box = page.locator("input.searchText:visible").first
        box.fill("Iran")
        box.press("Enter")
        page.wait_for_function("() => document.body.innerText.includes(\"result found for 'Iran'\")"
                               " || document.body.innerText.includes(\"results found for 'Iran'\")",
                               timeout=20_000)
        expected = requests.get(f"{server.url}/iiif/{record_id}/search/1?q=Iran", timeout=10).json()
        assert f"{len(expected['hits'])} result" in page.locator("body").inner_text()
        assert any(status == 200 and "/search/1?q=Iran" in url for status, url, _ in seen["responses"])
    finally:
        page.close()


def test_the_harness_embeds_the_bundle_it_serves():
    """The page above loads files the installed bundle has (so a UV upgrade that moves them fails here)."""
    if not UV_DIST.exists():
        pytest.skip(f"{UV_DIST} is absent (npm install)")
    assert (UV_DIST / "uv.css").exists() and (UV_DIST / "umd" / "UV.js").exists()
    assert Path(UV_DIST / "umd" / "UV.js").stat().st_size > 10_000
