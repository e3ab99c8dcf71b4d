"""The catalog pages in a real browser against a real server: accessibility (axe-core), keyboard, layout.

One gunicorn server and one headless Chromium serve the whole module. Screenshots of every page
type at phone and desktop widths go to `$CATALOG_TEST_ARTIFACTS` (default `test-artifacts/`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PROJECT
from tests.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("CATALOG_TEST_ARTIFACTS", PROJECT / "test-artifacts")) / "pages"
AXE_SOURCE = AXE.read_text(encoding="utf-8") if AXE.exists() else ""
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
RECORD = "hull-memorandum-1943-10-30"
COMPOUND = "stalin-truman-1946-04-06"

PAGES = {
    "home": "/",
    "search": "/search?q=Stalin",
    "record": f"/records/{RECORD}",
    "compound-record": f"/records/{COMPOUND}",
    "collections": "/collections",
    "collection": "/collections/department-of-state-central-decimal-file",
    "not-found": "/records/no-such-record",
    "bad-request": "/?page=abc",
}

pytestmark = pytest.mark.slow  # a real browser: deselected by default, `--slow` or CI=true runs it

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium to run the browser tests", allow_module_level=True)
if not AXE.exists():
    pytest.skip(f"{AXE} is absent: run `npm install` for axe-core", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    records = root / "records"
    shutil.copytree(FIXTURE_RECORDS, records)
    live = LiveServer(records, root / "instance")
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    tab = context.new_page()
    problems: list[str] = []

    def console(message) -> None:
        """Errors count, except the error page's own status and React's deprecation notices that
        the Mirador bundle logs inside the embedded viewer (third-party, harmless)."""
        source = message.location.get("url", "")
        if message.type == "error" and source != tab.url and not source.endswith("/iiif/viewer/mirador.min.js"):
            problems.append(message.text)

    tab.on("console", console)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.problems = problems
    yield tab
    context.close()


def axe_violations(tab) -> list[str]:
    """Serious and critical axe-core violations on the loaded page, one line each."""
    tab.evaluate(AXE_SOURCE)  # evaluated, not a <script> tag: the page's CSP rightly refuses inline scripts
    result = tab.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in result
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_accessibility_violations(page, name):
    """axe-core finds nothing serious or critical, at desktop and phone widths; screenshots kept."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    response = page.goto(PAGES[name])
    assert response is not None
    assert response.status == {"not-found": 404, "bad-request": 400}.get(name, 200)
    assert page.locator("h1").count() == 1
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{size}.png"), full_page=size == "phone")
        assert axe_violations(page) == [], f"{name} at {size} width"
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} scrolls sideways at {size} width ({overflow}px)"
    assert page.problems == [], "the page logged errors (CSP violations, scripts)"


def test_tab_reaches_the_skip_link_first_and_it_moves_focus_to_main(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.getAttribute('href')]")
    assert focused == ["skip-link", "#main"]
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    inside_main = page.evaluate("document.getElementById('main').contains(document.activeElement)")
    assert inside_main


def test_search_from_the_catalog_page_with_the_keyboard(page):
    page.goto("/")
    page.get_by_label("Search the catalog").first.fill("10-3043")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=10-3043")
    assert page.locator(f"a[href='/records/{RECORD}']").count() == 1
    assert page.locator(".snippet mark").count() >= 1


def test_copy_citation_button_is_wired_by_the_script(page, browser):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/records/{RECORD}")
    button = page.get_by_role("button", name="Copy note citation")
    assert button.is_visible()  # hidden in the HTML; shown by catalog.js
    button.click()
    page.locator(".copy-status").filter(has_text="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Cordell Hull, memorandum of conversation")
    assert copied.endswith(f"/records/{RECORD}.")


def test_record_text_is_bidi_isolated(page):
    """A bidi override in a title or a name cannot reorder the text around it (CSS isolation, as <bdi>)."""
    page.goto(f"/records/{RECORD}")
    styles = page.evaluate("""() => ['h1', '.result-title a, .people-list a', '.citation', '.page-text']
        .map(s => document.querySelector(s)).filter(Boolean).map(e => getComputedStyle(e).unicodeBidi)""")
    assert styles and set(styles) == {"isolate"}
