"""Issue 13: faults viewers showed in our IIIF.

1. Universal Viewer asks every canvas for `full/90,/0/default.jpg`: any size (and region) a client
   asks for is served, up to the full sheet, with what is kept on disk bounded; each Canvas has a
   thumbnail of its own; info.json says honestly what is offered (level 1 and more).
2. `full` as a size is Image API 2: Image API 3.0 names it `max` (400).
3. A printed page label is language-neutral (`none`), words we add are English (`en`).
4. The cataloger's summary is English; the document's own title keeps the document's language.
5. Collection summaries count "1 document", not "1 documents".
6. Transcriptions keep their line breaks: HTML (`<p>` and `<br/>`), escaped, with their language.
7. The "rendering, not a facsimile" note is a header band, visible at every size, on sheets of
   letter proportions (8.5 x 11).
"""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from manifests import iiif
from manifests import typescript
from tests.conftest import PUBLIC_IDS
from tests.conftest import write_record
from tests.iiif_schema import iiif_errors
from tests.test_mirador import browser  # noqa: F401 (a fixture: headless Chromium)
from tests.test_mirador import only_localhost
from tests.test_mirador import server  # noqa: F401 (a fixture: gunicorn over the fixture corpus)

RECORD = "harriman-truman-1945-06-16"
BASE = f"/iiif/image/{RECORD}/1"
FULL = (1275, 1650)
"""The sheet of that page: 18 lines fit on the smallest letter sheet."""
LONG_RECORD = "harriman-truman-1945-06-08"
"""One supplied page of 90 typed lines: longer than the smallest letter sheet holds."""
ALLOWED_TAGS = {"a", "b", "br", "i", "img", "p", "small", "span", "sub", "sup"}
"""The HTML the Presentation API 3.0 lets clients render (section 4.5)."""


def local(url: str) -> str:
    return url.replace("http://localhost", "")


def fetch_image(client, url: str, mimetype: str = "image/png") -> Image.Image:
    response = client.get(local(url))
    assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    assert response.mimetype == mimetype, url
    image = Image.open(io.BytesIO(response.data))
    image.load()
    return image


def manifest(client, record_id: str) -> dict:
    return client.get(f"/iiif/{record_id}/manifest").get_json(force=True)


def cached_files(app) -> list[Path]:
    folder = Path(app.config["CATALOG_INSTANCE_DIR"]) / "iiif-images"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


# -- 1. any size a viewer asks for ------------------------------------------------------------------

@pytest.mark.parametrize(("path", "size", "mimetype"), [
    ("/full/90,/0/default.jpg", (90, 116), "image/jpeg"),  # what Universal Viewer 4 asks every canvas for
    ("/full/,120/0/default.png", (93, 120), "image/png"),
    ("/full/150,150/0/default.png", (150, 150), "image/png"),
    ("/full/!300,300/0/default.png", (232, 300), "image/png"),
    ("/full/!5000,5000/0/default.png", FULL, "image/png"),  # confined to the region: no upscaling
    ("/full/pct:10/0/default.jpg", (128, 165), "image/jpeg"),
    ("/full/max/0/default.jpg", FULL, "image/jpeg"),
    ("/full/max/0/gray.png", FULL, "image/png"),
    ("/square/100,/0/default.png", (100, 100), "image/png"),
    ("/0,0,500,400/max/0/default.png", (500, 400), "image/png"),
    ("/1000,1500,500,400/max/0/default.png", (275, 150), "image/png"),  # cut to the sheet
    ("/pct:0,0,50,50/,200/0/default.png", (155, 200), "image/png"),
])
def test_any_size_and_region_a_viewer_asks_for_is_served(read_client, path, size, mimetype):
    assert fetch_image(read_client, BASE + path, mimetype).size == size


@pytest.mark.parametrize("path", [
    "/full/1276,/0/default.png", "/full/,1651/0/default.png", "/full/1275,1651/0/default.png",  # larger
    "/full/^max/0/default.png", "/full/^2000,/0/default.png",  # no upscaling
    "/full/0,/0/default.png", "/full/,0/0/default.png", "/full/pct:0/0/default.png", "/full/pct:101/0/default.png",
    "/full/!0,10/0/default.png", "/full/!10,/0/default.png", "/full/,/0/default.png", "/full/w,/0/default.png",
    "/full/" + "9" * 5000 + ",/0/default.png",
    "/0,0,0,10/max/0/default.png", "/1275,0,10,10/max/0/default.png", "/pct:100,0,10,10/max/0/default.png",
    "/-1,0,10,10/max/0/default.png", "/0,0,10/max/0/default.png",
    "/full/max/90/default.png", "/full/max/!0/default.png", "/full/max/0/bitonal.png", "/full/max/0/color.png",
    "/full/max/0/default.gif",
])
def test_what_is_not_offered_is_400_with_a_message(read_client, path):
    response = read_client.get(BASE + path)
    assert response.status_code == 400, path
    assert response.get_json()["error"]["message"], path


def test_info_json_says_what_is_offered(read_client):
    response = read_client.get(BASE + "/info.json")
    info = response.get_json(force=True)
    assert info["profile"] == "level1"
    assert set(info["extraFeatures"]) == {"profileLinkHeader", "regionByPct", "sizeByConfinedWh", "sizeByPct"}
    assert info["extraQualities"] == ["gray"] and "png" in info["extraFormats"]
    assert (info["width"], info["height"]) == FULL
    assert (info["maxWidth"], info["maxHeight"]) == FULL, "the upper bound is the sheet itself"
    assert info["tiles"] == [{"width": FULL[0], "height": FULL[1], "scaleFactors": [1]}], \
        "one tile, the whole sheet: tiling viewers load the cached full image, not tiles drawn one by one"
    assert info["sizes"] == [{"width": 200, "height": 259}, {"width": FULL[0], "height": FULL[1]}]
    for size in info["sizes"]:
        assert fetch_image(read_client, f"{info['id']}/full/{size['width']},{size['height']}/0/default.png").size \
            == (size["width"], size["height"])
    image = read_client.get(BASE + "/full/90,/0/default.jpg")
    assert image.headers["Link"] == '<http://iiif.io/api/image/3/level1.json>;rel="profile"'


def test_only_the_listed_sizes_are_kept_on_disk(app, client):
    info = client.get(BASE + "/info.json").get_json(force=True)
    for width in range(80, 120):
        assert client.get(f"{BASE}/full/{width},/0/default.jpg").status_code == 200
    for region in ("square", "0,0,512,512", "pct:10,10,20,20"):
        assert client.get(f"{BASE}/{region}/max/0/default.png").status_code == 200
    assert cached_files(app) == [], "sizes info.json does not list are drawn in memory"
    listed = [f"{BASE}/full/{s['width']},{s['height']}/0/default.{fmt}" for s in info["sizes"] for fmt in ("png", "jpg")]
    for url in listed + listed:
        assert client.get(url).status_code == 200
    assert len(cached_files(app)) == len(listed), "each listed size is drawn once, then sent from the disk"
    again = client.get(f"{BASE}/full/90,/0/default.jpg")
    revalidated = client.get(f"{BASE}/full/90,/0/default.jpg", headers={"If-None-Match": again.headers["ETag"]})
    assert revalidated.status_code == 304, "an image drawn in memory can still be revalidated"


def test_every_canvas_has_a_small_thumbnail_of_its_own(read_client):
    for record_id in PUBLIC_IDS:
        m = manifest(read_client, record_id)
        for canvas in m["items"]:
            [thumbnail] = canvas["thumbnail"]
            painted = canvas["items"][0]["items"][0]["body"]["id"]
            assert thumbnail["id"] != painted and thumbnail["width"] <= 200, canvas["id"]
            assert fetch_image(read_client, thumbnail["id"]).size == (thumbnail["width"], thumbnail["height"])
        assert m["thumbnail"] == m["items"][0]["thumbnail"]
        assert iiif_errors(m) == [], record_id


def scan_manifest(records_dir, make_app, *services: dict) -> list[dict]:
    """The canvases of a record whose first pages are scans served by `services`."""
    path = records_dir / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text())
    for page, service in zip(record["pages"], services):
        page["image_service"] = service
    write_record(records_dir, record)
    m = manifest(make_app(records_dir).test_client(), record["id"])
    assert iiif_errors(m) == []
    return m["items"]


def test_a_scan_is_painted_and_thumbnailed_as_its_service_declares(records_dir, make_app):
    """The record says which Image API (2 or 3) and level serves its scan, and the scan's size: the
    canvas has that size (nothing invented), the full image is asked for in that version's words
    (`max` in 3, `full` in 2), and a level-1 or level-2 service is asked for a 200-px thumbnail."""
    v3 = {"id": "https://images.example.org/iiif/3/hull-685", "type": "ImageService3", "profile": "level2",
          "width": 3000, "height": 3900}
    v2 = {"id": "https://images.example.org/iiif/2/hull-686/", "type": "ImageService2", "profile": "level1",
          "width": 2400, "height": 3000}
    first, second, rendering = scan_manifest(records_dir, make_app, v3, v2)
    assert (first["width"], first["height"]) == (3000, 3900)
    body = first["items"][0]["items"][0]["body"]
    assert body["id"] == v3["id"] + "/full/max/0/default.jpg"
    assert body["service"] == [{"id": v3["id"], "type": "ImageService3", "profile": "level2"}]
    assert first["thumbnail"] == [{"id": v3["id"] + "/full/200,260/0/default.jpg", "type": "Image",
                                   "format": "image/jpeg", "width": 200, "height": 260,
                                   "service": body["service"]}]
    body = second["items"][0]["items"][0]["body"]
    assert body["id"] == "https://images.example.org/iiif/2/hull-686/full/full/0/default.jpg"
    assert body["service"] == [{"@id": "https://images.example.org/iiif/2/hull-686", "@type": "ImageService2",
                                "profile": "http://iiif.io/api/image/2/level1.json"}]
    assert second["thumbnail"][0]["id"] == "https://images.example.org/iiif/2/hull-686/full/200,/0/default.jpg"
    assert (second["thumbnail"][0]["width"], second["thumbnail"][0]["height"]) == (200, 250)
    assert rendering["thumbnail"][0]["width"] == 200 and "service" not in rendering["thumbnail"][0]


def test_a_level_0_scan_is_thumbnailed_at_a_size_it_lists(records_dir, make_app):
    """Level 0 draws only the sizes its info.json lists: the smallest of 150 px or more; with none
    listed, the full image is its own thumbnail (never a size the service would refuse)."""
    listed = {"id": "https://images.example.org/iiif/3/a", "type": "ImageService3", "profile": "level0",
              "width": 4000, "height": 5000,
              "sizes": [{"width": 125, "height": 156}, {"width": 250, "height": 313}, {"width": 1000, "height": 1250}]}
    bare = {"id": "https://images.example.org/iiif/3/b", "type": "ImageService3", "profile": "level0",
            "width": 1200, "height": 1500}
    first, second, _ = scan_manifest(records_dir, make_app, listed, bare)
    assert first["thumbnail"][0]["id"] == listed["id"] + "/full/250,313/0/default.jpg"
    assert second["thumbnail"][0]["id"] == bare["id"] + "/full/max/0/default.jpg"
    assert (second["thumbnail"][0]["width"], second["thumbnail"][0]["height"]) == (1200, 1500)


def test_a_plain_image_is_its_own_thumbnail_and_needs_its_size(records_dir, make_app, capsys):
    from catalog.cli import main
    path = records_dir / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text())
    record["pages"][1] |= {"image_url": "https://images.example.org/hull-686.jpg", "width": 1800, "height": 2400}
    write_record(records_dir, record)
    canvas = manifest(make_app(records_dir).test_client(), record["id"])["items"][1]
    assert canvas["thumbnail"] == [{"id": "https://images.example.org/hull-686.jpg", "type": "Image",
                                    "width": 1800, "height": 2400}]
    del record["pages"][1]["height"]
    write_record(records_dir, record)
    assert main(["validate", str(path)]) == 1
    assert "pages[1].height: missing (required)" in capsys.readouterr().out


# -- 2. `full` is not an Image API 3.0 size ---------------------------------------------------------

def test_full_as_a_size_is_400_and_names_max(read_client):
    response = read_client.get(BASE + "/full/full/0/default.png")
    assert response.status_code == 400
    assert "max" in response.get_json()["error"]["message"]
    assert read_client.get(BASE + "/full/max/0/default.png").status_code == 200


# -- 3. canvas labels -----------------------------------------------------------------------------

def test_printed_labels_are_language_neutral_and_added_words_english(read_client):
    printed = manifest(read_client, "hull-memorandum-1943-10-30")
    assert [c["label"] for c in printed["items"]] == [{"none": ["685"]}, {"none": ["686"]}, {"none": ["687"]}]
    supplied = manifest(read_client, LONG_RECORD)
    assert supplied["items"][0]["label"] == {"en": ["[1] (label supplied)"]}
    for record_id in PUBLIC_IDS:
        for canvas in manifest(read_client, record_id)["items"]:
            assert not any("supplied" in value for value in canvas["label"].get("none", [])), canvas["id"]


# -- 4. summary and label languages ---------------------------------------------------------------

def test_the_summary_is_english_and_the_title_in_the_documents_language(records_dir, make_app):
    path = records_dir / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text())
    record["language"] = "ru"
    write_record(records_dir, record)
    m = manifest(make_app(records_dir).test_client(), record["id"])
    assert m["label"] == {"ru": [record["title"]]}
    assert m["summary"] == {"en": [record["description"]["summary"]]}
    assert m["items"][0]["annotations"][0]["items"][0]["body"]["language"] == "ru"
    assert iiif_errors(m) == []


def test_without_a_summary_the_title_stands_in_its_own_language(records_dir, make_app):
    path = records_dir / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text())
    record["language"] = "ru"
    del record["description"]["summary"]
    write_record(records_dir, record)
    m = manifest(make_app(records_dir).test_client(), record["id"])
    assert m["summary"] == {"ru": [record["title"]]}


# -- 5. one document, two documents ----------------------------------------------------------------

def test_collection_summaries_count_in_the_singular_and_the_plural(read_client):
    top = read_client.get("/iiif/collection").get_json(force=True)
    summaries = {item["label"]["en"][0]: item["summary"]["en"][0] for item in top["items"]}
    assert summaries["Roosevelt Papers"].startswith("1 document, ")
    assert summaries["Moscow Embassy Files"].startswith("2 documents, ")
    assert not any(re.search(r"\b1 documents\b", text) for text in summaries.values())
    one = read_client.get("/iiif/collection/roosevelt-papers").get_json(force=True)
    assert one["summary"]["en"][0].startswith("1 document, ")
    assert re.fullmatch(r"\d+ public documents in \d+ archival collections\.", top["summary"]["en"][0])
    assert iiif.counted(1, "archival collection") == "1 archival collection"
    assert iiif.counted(1000, "document") == "1,000 documents"
    assert iiif.counted(0, "document") == "0 documents"


# -- 6. transcriptions keep their line breaks -----------------------------------------------------

def test_transcriptions_are_html_with_their_line_breaks(read_client):
    record = read_client.get("/api/records/hull-memorandum-1943-10-30").get_json()
    m = manifest(read_client, record["id"])
    for canvas, page in zip(m["items"], record["pages"]):
        body = canvas["annotations"][0]["items"][0]["body"]
        assert body["format"] == "text/html" and body["language"] == "en"
        value = body["value"]
        assert value.startswith("<p>") and value.endswith("</p>")
        assert value.count("<br/>") == len(page["text"].splitlines()) - 1
        assert unescape(value[3:-4]).split("<br/>") == page["text"].splitlines()
        tags = {tag for tag in re.findall(r"</?([a-zA-Z0-9]+)", value)}
        assert tags <= ALLOWED_TAGS
        ElementTree.fromstring(value)  # well-formed XML, as the Presentation API requires


@pytest.mark.slow
def test_mirador_shows_a_transcription_with_its_line_breaks(server, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.route("**/*", only_localhost)
    try:
        page.goto(f"{server.url}/iiif/hull-memorandum-1943-10-30/viewer")
        page.wait_for_function("() => document.body.innerText.includes('740.0011')", timeout=20_000)
        shown = page.inner_text("body")
        assert "740.0011 Moscow/10\u20133043\n\nMemorandum of Conversation, by the Secretary of State\n\nI sat" in shown
        assert "<p>" not in shown and "<br" not in shown
    finally:
        page.close()


def test_markup_in_a_transcription_stays_text(records_dir, make_app):
    path = records_dir / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text())
    record["pages"][0]["text"] = "<script>alert(1)</script>\nR&D \"quoted\" 'single'\n\n<b>not bold</b>"
    write_record(records_dir, record)
    client = make_app(records_dir).test_client()
    page = client.get(f"/iiif/{record['id']}/canvas/1/annotations").get_json(force=True)
    value = page["items"][0]["body"]["value"]
    assert "<script" not in value and "<b>" not in value
    assert value.startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt;<br/>R&amp;D ")
    assert value.endswith("<br/><br/>&lt;b&gt;not bold&lt;/b&gt;</p>")
    ElementTree.fromstring(value)
    assert iiif_errors(page) == []


# -- 7. the header band, and letter-proportioned sheets -------------------------------------------

def band_and_bottom(image: Image.Image) -> tuple[Image.Image, Image.Image]:
    """The top 4% of the image (inside the band at every size) and the bottom 5% (the bottom margin)."""
    image = image.convert("L")
    width, height = image.size
    return (image.crop((0, 0, width, max(1, height * 4 // 100))),
            image.crop((0, height - max(1, height * 5 // 100), width, height)))


@pytest.mark.parametrize("size", ["max", "638,", "200,259", "90,"])
def test_the_rendering_note_is_a_band_across_the_top_at_every_size(read_client, size):
    image = fetch_image(read_client, f"{BASE}/full/{size}/0/default.png")
    band, bottom = band_and_bottom(image)
    histogram = band.histogram()
    dark = sum(histogram[:100]) / sum(histogram)
    assert dark > 0.6, f"the band is dark across the top ({dark:.0%} dark at {image.size})"
    if image.width >= 600:
        assert sum(histogram[200:]) > 0.02 * sum(histogram), "the band's text is drawn in light letters"
    assert bottom.getextrema()[0] > 200, "nothing is drawn at the bottom, where viewers put their controls"


def band_rows(image: Image.Image) -> int:
    """How many rows from the top are mostly dark (the band: light letters on a dark ground)."""
    rows = 0
    while rows < image.height and sum(image.crop((0, rows, image.width, rows + 1)).histogram()[:128]) > image.width / 2:
        rows += 1
    return rows


def test_the_band_scales_with_the_sheet():
    for text in ("Short page.", "x " * 4000, "\n".join(f"line {n}" for n in range(60))):
        sheet = typescript.draw_sheet(text)
        assert abs(band_rows(sheet) / sheet.width - typescript.BAND_HEIGHT / typescript.WIDTH) < 0.002, text[:20]
    small = fetch_image_bytes(typescript.render("Short page.", (200, 259)))
    assert abs(band_rows(small) - 200 * typescript.BAND_HEIGHT / typescript.WIDTH) <= 1


def fetch_image_bytes(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("L")


def test_sheets_keep_letter_proportions_and_one_canvas_per_page(read_client):
    for record_id in PUBLIC_IDS:
        record = read_client.get(f"/api/records/{record_id}").get_json()
        pages = record.get("pages") or [page for part in record["parts"] for page in part["pages"]]
        m = manifest(read_client, record_id)
        assert len(m["items"]) == len(pages), "one Canvas per transcribed page"
        for canvas in m["items"]:
            assert abs(canvas["width"] / canvas["height"] - 8.5 / 11) < 0.002, (canvas["id"], canvas["width"],
                                                                                canvas["height"])
    long_page = manifest(read_client, LONG_RECORD)["items"][0]
    assert long_page["width"] > 1275, "a long page is set on a larger sheet of the same proportions"
    image = fetch_image(read_client, long_page["items"][0]["items"][0]["body"]["id"])
    assert image.size == (long_page["width"], long_page["height"])


def test_a_long_page_loses_no_text():
    text = "\n".join(f"Paragraph {n}: " + "words of the typed page " * 8 for n in range(30))
    sheet = typescript.layout(text)
    assert sheet.columns > typescript.COLUMNS
    assert abs(sheet.width / sheet.height - 8.5 / 11) < 0.002
    assert " ".join(sheet.lines).split() == text.split(), "every word is set, in order"
    last_line_bottom = sheet.px(typescript.TEXT_TOP) + len(sheet.lines) * typescript.LINE_HEIGHT
    assert last_line_bottom <= sheet.height - sheet.px(typescript.MARGIN), "the text ends above the bottom margin"
    assert typescript.page_size("A\n" * 3) == (1275, 1650), "a short page keeps the 150 dpi letter sheet"


def test_a_page_too_long_for_the_largest_sheet_grows_taller_rather_than_lose_text():
    text = "\n".join(f"line {n}" for n in range(300))
    sheet = typescript.layout(text)
    assert (sheet.columns, sheet.width) == (typescript.COLUMNS, typescript.WIDTH)
    assert len(sheet.lines) == 300
    assert sheet.height == typescript.TEXT_TOP + 300 * typescript.LINE_HEIGHT + typescript.MARGIN
