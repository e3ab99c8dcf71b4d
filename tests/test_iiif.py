"""IIIF Presentation 3.0 and Image API level 1: conformance to the official schema, content, HTTP."""

from __future__ import annotations

import io
import json
import shutil

import pytest
import requests
from PIL import Image

from bench.generate import synthetic_record
from manifests import iiif
from manifests import presentation
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import LiveServer
from tests.conftest import shared_path
from tests.conftest import write_record
from tests.iiif_schema import SCHEMA
from tests.iiif_schema import iiif_errors

IIIF_TYPE = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'


def test_the_validator_accepts_the_cookbook_and_rejects_what_the_schema_forbids():
    """Checks the conformance check itself: without the schema and its examples there is nothing to test."""
    shared_path(*SCHEMA)
    examples = sorted(shared_path("iiif", "examples").glob("*.json"))
    assert len(examples) >= 5
    for path in examples:
        assert iiif_errors(json.loads(path.read_text())) == [], path.name
    recipe = json.loads(shared_path("iiif", "examples", "0001-mvm-image__manifest.json").read_text())
    for breakage in ({"rights": "https://creativecommons.org/publicdomain/mark/1.0/"}, {"navDate": "1943-10-30"},
                     {"label": "a plain string"}, {"custom": "not allowed"}):
        assert iiif_errors({**recipe, **breakage}), breakage


def every_iiif_document(client) -> dict[str, dict]:
    """Every collection, manifest and annotation page the server links to, by walking from the top."""
    found: dict[str, dict] = {}
    queue = ["/iiif/collection"]
    while queue:
        url = queue.pop()
        path = url.replace("http://localhost", "")
        if path in found:
            continue
        response = client.get(path)
        assert response.status_code == 200, path
        document = response.get_json(force=True)
        found[path] = document
        for item in document.get("items", []):
            if item["type"] in ("Collection", "Manifest"):
                queue.append(item["id"])
        for canvas in document.get("items", []) if document["type"] == "Manifest" else []:
            for page in canvas.get("annotations", []):
                queue.append(page["id"])
    return found


def test_every_public_record_has_a_manifest_and_every_document_validates(read_client):
    documents = every_iiif_document(read_client)
    manifests = [p for p, d in documents.items() if d["type"] == "Manifest"]
    assert sorted(p.split("/")[2] for p in manifests) == PUBLIC_IDS
    assert any(d["type"] == "AnnotationPage" for d in documents.values())
    for path, document in documents.items():
        assert iiif_errors(document) == [], path


def test_generated_varied_records_validate_and_large_collections_nest(tmp_path, make_app, monkeypatch):
    folder = tmp_path / "generated"
    folder.mkdir()
    records = [synthetic_record(n) for n in range(1, 121)]
    for record in records:
        write_record(folder, record)
    assert any("parts" in r for r in records) and any(r["access"]["status"] == "restricted" for r in records)
    monkeypatch.setattr(iiif, "COLLECTION_PAGE_SIZE", 3)
    client = make_app(folder).test_client()
    documents = every_iiif_document(client)
    for path, document in documents.items():
        assert iiif_errors(document) == [], path
    manifests = sorted(p.split("/")[2] for p, d in documents.items() if d["type"] == "Manifest")
    public = sorted(r["id"] for r in records if r["access"]["status"] == "open")
    assert manifests == public
    nested = [d for d in documents.values() if d["type"] == "Collection" and d["items"]
              and d["items"][0]["type"] == "Collection" and d["id"] != "http://localhost/iiif/collection"]
    assert nested, "a collection larger than the page size is split into nested collections"


def test_manifest_content(read_client):
    client = read_client
    m = client.get("/iiif/hull-memorandum-1943-10-30/manifest").get_json(force=True)
    record = client.get("/api/records/hull-memorandum-1943-10-30").get_json()
    labels = {entry["label"]["en"][0]: entry["value"]["en"] for entry in m["metadata"]}
    for name in ("Date", "From", "Type", "Collection", "Holding repository", "Original classification",
                 "Published in"):
        assert name in labels, name
    assert record["dates"][0]["date"] in labels["Date"][0]
    assert m["label"] == {"en": [record["title"]]}
    assert m["navDate"] == f"{record['dates'][0]['date']}T00:00:00Z"
    assert m["rights"] == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert record["rights"]["statement"] in m["requiredStatement"]["value"]["en"][0]
    assert m["homepage"][0]["id"].endswith("/records/hull-memorandum-1943-10-30")
    assert m["seeAlso"][0]["profile"].endswith("/schemas/record.schema.json")
    assert m["provider"][0]["type"] == "Agent"
    assert m["partOf"][0]["type"] == "Collection"
    assert m["behavior"] == ["paged"]
    assert [c["label"]["none"][0] for c in m["items"]] == [p["label"] for p in record["pages"]]
    for canvas, page in zip(m["items"], record["pages"]):
        transcription = canvas["annotations"][0]["items"][0]
        assert transcription["motivation"] == "supplementing"
        assert transcription["body"] == {"type": "TextualBody", "value": presentation.text_html(page["text"]),
                                         "format": "text/html", "language": "en"}
        assert transcription["target"] == canvas["id"]
    footnote = record["footnotes"][0]
    carrying = next(c for c in m["items"] if c["label"]["none"][0] == footnote["referenced_at"]["page"])
    assert any(footnote["text"] in a["body"]["value"] for a in carrying["annotations"][0]["items"][1:])
    rendering = client.get(m["rendering"][0]["id"].replace("http://localhost", ""))
    assert rendering.mimetype == "text/plain" and record["pages"][1]["text"][:200] in rendering.get_data(True)


def test_compound_item_has_a_range_per_part(read_client):
    client = read_client
    m = client.get("/iiif/stalin-truman-1946-04-06/manifest").get_json(force=True)
    record = client.get("/api/records/stalin-truman-1946-04-06").get_json()
    assert [r["label"]["en"][0] for r in m["structures"]] == [p["title"] for p in record["parts"]]
    assert [len(r["items"]) for r in m["structures"]] == [len(p["pages"]) for p in record["parts"]]
    assert [item["id"] for r in m["structures"] for item in r["items"]] == [c["id"] for c in m["items"]]


def test_page_images_are_level_1_renderings_of_the_transcription(read_client):
    client = read_client
    m = client.get("/iiif/harriman-truman-1945-06-16/manifest").get_json(force=True)
    canvas = m["items"][0]
    body = canvas["items"][0]["items"][0]["body"]
    assert "not a facsimile" in json.dumps(canvas["metadata"]) + json.dumps(body["label"])
    info = client.get(body["service"][0]["id"].replace("http://localhost", "") + "/info.json")
    assert info.headers["Content-Type"].startswith("application/ld+json")
    info = info.get_json(force=True)
    assert (info["type"], info["profile"], info["width"], info["height"]) == \
        ("ImageService3", "level1", canvas["width"], canvas["height"])
    for size in info["sizes"]:
        url = f"{info['id']}/full/{size['width']},{size['height']}/0/default.png".replace("http://localhost", "")
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/png"
        image = Image.open(io.BytesIO(response.data))
        assert image.size == (size["width"], size["height"])
        histogram = image.convert("L").histogram()
        assert sum(histogram[:200]) > 0.01 * sum(histogram), "text is drawn on the page"
    full = client.get(body["id"].replace("http://localhost", ""))
    assert Image.open(io.BytesIO(full.data)).size == (canvas["width"], canvas["height"])
    thumb = m["thumbnail"][0]
    assert client.get(thumb["id"].replace("http://localhost", "")).status_code == 200
    base = info["id"].replace("http://localhost", "")
    assert client.get(base).status_code == 303
    for bad in ("/full/full/0/default.png", "/full/5000,/0/default.png", "/full/max/90/default.png",
                "/full/max/0/bitonal.png", "/full/max/0/default.gif"):
        response = client.get(base + bad)
        assert response.status_code == 400 and response.get_json()["error"]["message"], bad
    assert client.get("/iiif/image/harriman-truman-1945-06-16/99/info.json").status_code == 404


def test_a_changed_page_is_rendered_again(records_dir, make_app):
    client = make_app(records_dir).test_client()
    url = "/iiif/image/harriman-truman-1945-06-16/1/full/200,259/0/default.png"
    before = client.get(url)
    assert before.status_code == 200
    path = records_dir / "harriman-truman-1945-06-16.json"
    record = json.loads(path.read_text())
    record["pages"][0]["text"] = "A\n" * 3
    write_record(records_dir, record)
    after = client.get(url.replace("200,259", "max"))
    assert Image.open(io.BytesIO(after.data)).size == (1275, 1650)
    assert client.get(url).data != before.data


def test_a_cached_image_is_sent_with_validators_and_answers_conditional_and_range_requests(records_dir, make_app):
    client = make_app(records_dir).test_client()
    url = "/iiif/image/harriman-truman-1945-06-16/1/full/max/0/default.png"
    drawn = client.get(url)  # drawn and cached, then sent from the cache file
    sent = client.get(url)
    assert sent.status_code == 200 and sent.data == drawn.data and sent.mimetype == "image/png"
    assert int(sent.headers["Content-Length"]) == len(sent.data) and sent.headers["Accept-Ranges"] == "bytes"
    assert sent.headers["Cache-Control"] == "public, max-age=300" and sent.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": sent.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": sent.headers["Last-Modified"]}).status_code == 304
    part = client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == sent.data[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(sent.data)}"
    head = client.head(url)
    assert head.status_code == 200 and not head.data and head.headers["Content-Length"] == str(len(sent.data))


def test_ids_follow_the_configured_base_or_a_trusted_proxy(records_dir, make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "archive.example.net"}
    proxied = make_app(records_dir, CATALOG_TRUSTED_PROXIES=1).test_client().get(
        "/iiif/hull-memorandum-1943-10-30/manifest", headers=forwarded).get_json(force=True)
    assert proxied["id"] == "https://archive.example.net/iiif/hull-memorandum-1943-10-30/manifest"
    untrusted = make_app(records_dir).test_client().get(
        "/iiif/hull-memorandum-1943-10-30/manifest", headers=forwarded).get_json(force=True)
    assert untrusted["id"] == "http://localhost/iiif/hull-memorandum-1943-10-30/manifest"  # a forged header is ignored
    configured = make_app(records_dir, CATALOG_BASE_URL="https://catalog.example.org/").test_client()
    text = configured.get("/iiif/hull-memorandum-1943-10-30/manifest").get_data(True)
    ids = [value for key, value in _pairs(json.loads(text)) if key == "id"]
    assert ids and all(value.startswith(("https://catalog.example.org/", "http://iiif.io/", "http://creativecommons"))
                       for value in ids), ids


def _pairs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _pairs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pairs(value)


def test_hostile_text_stays_text(records_dir, make_app):
    path = records_dir / "hull-memorandum-1943-10-30.json"
    record = json.loads(path.read_text())
    record["title"] = 'Memo <script>alert(1)</script> "quoted" \u202eevil'
    record["provenance"]["editions"][0]["title"] = '<img src=x onerror=alert(1)>'
    write_record(records_dir, record)
    m = make_app(records_dir).test_client().get("/iiif/hull-memorandum-1943-10-30/manifest").get_json(force=True)
    assert m["label"]["en"][0] == record["title"]
    published = next(e for e in m["metadata"] if e["label"]["en"][0] == "Published in")["value"]["en"][0]
    assert "<img" not in published and "&lt;img src=x" in published
    assert iiif_errors(m) == []


# -- over a real server ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn over the fixture corpus, whose restricted record shares a collection with a public one."""
    root = tmp_path_factory.mktemp("iiif-live")
    records = root / "records"
    shutil.copytree(FIXTURE_RECORDS, records)
    live = LiveServer(records, root / "instance")
    yield live
    live.stop()


def test_http_behaviour_of_a_manifest(server):
    url = server.url + "/iiif/hull-memorandum-1943-10-30/manifest"
    first = requests.get(url, timeout=10)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == IIIF_TYPE
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert requests.get(url, headers={"Accept": "application/json"}, timeout=10).headers["Content-Type"] == \
        "application/json"
    head = requests.head(url, timeout=10)
    assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == first.headers["ETag"]
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    since = requests.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}, timeout=10)
    assert since.status_code == 304
    preflight = requests.options(url, headers={"Origin": "https://viewer.example", "Access-Control-Request-Method":
                                               "GET", "Access-Control-Request-Headers": "accept"}, timeout=10)
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    missing = requests.get(server.url + "/iiif/no-such-record/manifest", timeout=10)
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == "*"
    assert missing.json()["error"]["message"]


def test_restricted_records_are_404_everywhere_under_iiif(server):
    for path in (f"/iiif/{RESTRICTED_ID}/manifest", f"/iiif/{RESTRICTED_ID}/canvas/1/annotations",
                 f"/iiif/{RESTRICTED_ID}/transcription.txt", f"/iiif/image/{RESTRICTED_ID}/1/info.json",
                 f"/iiif/image/{RESTRICTED_ID}/1/full/max/0/default.png", f"/iiif/image/{RESTRICTED_ID}/1"):
        response = requests.get(server.url + path, timeout=10, allow_redirects=False)
        assert response.status_code == 404, path
    for path in ("/iiif/collection", "/iiif/collection/department-of-state-central-decimal-file"):
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code == 200 and RESTRICTED_ID not in response.text, path


def test_every_manifest_has_resolving_images_and_annotations(server):
    for rid in PUBLIC_IDS:
        m = requests.get(f"{server.url}/iiif/{rid}/manifest", timeout=10).json()
        for canvas in m["items"]:
            body = canvas["items"][0]["items"][0]["body"]
            image = requests.get(body["id"], timeout=30)
            assert image.status_code == 200 and image.headers["Content-Type"] == body["format"]
            assert image.headers["Access-Control-Allow-Origin"] == "*"
            page = requests.get(canvas["annotations"][0]["id"], timeout=10).json()
            assert page["items"] == canvas["annotations"][0]["items"]


def test_collection_lists_every_public_record(server):
    top = requests.get(server.url + "/iiif/collection", timeout=10).json()
    found = []
    for child in top["items"]:
        found += [item["id"].split("/")[-2] for item in requests.get(child["id"], timeout=10).json()["items"]]
    assert sorted(found) == PUBLIC_IDS


def test_no_path_leaves_the_records_folder(server):
    for path in ("/iiif/..%2F..%2Fetc%2Fpasswd/manifest", "/iiif/image/%2e%2e/1/info.json",
                 "/iiif/" + "a" * 5000 + "/manifest", "/iiif/collection/..%2f..", "/iiif/x%00y/manifest"):
        response = requests.get(server.url + path, timeout=10)
        assert response.status_code in (404, 414), path
        assert "root:" not in response.text

