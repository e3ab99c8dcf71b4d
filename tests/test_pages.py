"""The catalog pages through the Flask test client: every page type, JSON twins, errors, escaping."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import write_record

HULL = "hull-memorandum-1943-10-30"
COMPOUND = "stalin-truman-1946-04-06"
COLLECTION = "department-of-state-central-decimal-file"
HTML_PAGES = ["/", "/search?q=Stalin", "/?q=Stalin&type=telegram", f"/records/{HULL}", f"/records/{COMPOUND}",
              "/collections", f"/collections/{COLLECTION}"]
TWINS = {"/": ["/index.json", "/?format=json"],
         "/search?q=Stalin": ["/search.json?q=Stalin", "/search?q=Stalin&format=json"],
         f"/records/{HULL}": [f"/records/{HULL}.json", f"/records/{HULL}?format=json"],
         "/collections": ["/collections.json", "/collections?format=json"],
         f"/collections/{COLLECTION}": [f"/collections/{COLLECTION}.json", f"/collections/{COLLECTION}?format=json"]}


class Outline(HTMLParser):
    """What the accessibility rules care about: h1 count, labelled controls, inline scripts and styles."""

    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.ids: set[str] = set()
        self.labels: set[str] = set()
        self.controls: list[dict] = []
        self.inline: list[str] = []
        self.scripts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.h1 += tag == "h1"
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "label" and "for" in attributes:
            self.labels.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.controls.append(attributes)
        self.inline += [f"{tag} {name}" for name in attributes if name == "style" or name.startswith("on")]
        if tag == "style":
            self.inline.append("style element")
        if tag == "script":
            self.scripts.append(attributes)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("url", HTML_PAGES)
def test_every_page_type_renders_as_accessible_html(read_client, url):
    response = read_client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = outline(response.get_data(as_text=True))
    assert page.h1 == 1
    assert page.inline == [], "inline scripts and styles are refused by the CSP"
    assert all(s.get("src") or s.get("type") == "application/ld+json" for s in page.scripts)
    unlabelled = [c for c in page.controls if c.get("id") not in page.labels and "aria-label" not in c]
    assert unlabelled == []
    assert "skip-link" in response.get_data(as_text=True) and "main" in page.ids


@pytest.mark.parametrize("url", list(TWINS))
def test_json_twins_give_the_same_data_as_the_page(read_client, url):
    first, second = (read_client.get(twin) for twin in TWINS[url])
    assert first.status_code == second.status_code == 200
    assert first.mimetype == "application/json"
    data = first.get_json()
    assert data == second.get_json()
    assert data["links"]["self"].startswith("http://localhost/")
    html = read_client.get(url).get_data(as_text=True)
    for item in data.get("items", []):
        title = item.get("title") or item.get("name")
        assert title.replace("'", "&#39;") in html
        assert item["url"].startswith("http://localhost/")
    if "title" in data:
        assert data["title"] in html
    assert "_html" not in first.get_data(as_text=True)


def test_record_page_shows_provenance_as_the_documents_history(read_client):
    data = read_client.get(f"/records/{HULL}.json").get_json()
    stages = [stage["stage"] for stage in data["history"]]
    assert stages == ["created", "filed", "classified", "held", "published"]
    filed = next(s for s in data["history"] if s["stage"] == "filed")["facts"]
    assert {"label": "File number", "value": "740.0011 Moscow/10–3043"}.items() <= filed[0].items()
    html = read_client.get(f"/records/{HULL}").get_data(as_text=True)
    for heading in ("Created and sent", "Filed", "Classified", "Held", "Published"):
        assert f"<h3>{heading}</h3>" in html
    assert "https://history.state.gov/historicaldocuments/frus1943v01/d620" in html
    assert "National Archives and Records Administration" in html


def test_record_page_transcription_has_page_markers_and_linked_footnotes(read_client):
    html = read_client.get(f"/records/{HULL}").get_data(as_text=True)
    for label in ("685", "686", "687"):
        assert f"[p. {label}]" in html
    assert '<a href="#fn-50a" aria-label="Note 50a">50a</a>' in html
    assert '<li id="fn-50a">' in html and 'href="#ref-fn-50a"' in html
    assert 'id="ref-fn-50a"' in html


def test_compound_record_shows_each_part_in_turn(read_client):
    data = read_client.get(f"/records/{COMPOUND}.json").get_json()
    assert [part["index"] for part in data["parts"]] == [1, 2]
    html = read_client.get(f"/records/{COMPOUND}").get_data(as_text=True)
    first, second = (html.index(f'id="part-{n}"') for n in (1, 2))
    assert first < second
    numbers = [int(n) for n in re.findall(r'id="page-(\d+)"', html)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == 7


def test_record_page_links_machine_representations_and_citations(read_client):
    client = read_client
    html = client.get(f"/records/{HULL}").get_data(as_text=True)
    for link in (f"/api/records/{HULL}", f"/records/{HULL}.bib", f"/records/{HULL}.csl.json",
                 f"/iiif/{HULL}/manifest", "/static/iiif-logo.svg"):
        assert f'href="{link}"' in html or f'src="{link}"' in html, link
    assert f"identifier=oai:catalog.example.org:{HULL}" in html.replace("&amp;", "&")
    assert '<p class="citation" id="citation-note">Cordell Hull, memorandum of conversation, [October 30, 1943]' in html
    assert "<i>Foreign Relations of the United States: Diplomatic Papers, 1943, General, Volume I</i>" in html
    assert 'data-copy-target="citation-note" hidden' in html  # catalog.js shows it
    assert ("<iframe" in html) == client.application.extensions["catalog.capabilities"]["viewer"]  # the viewer is optional


def test_record_page_embeds_the_viewer_when_it_is_installed(client, monkeypatch):
    monkeypatch.setitem(client.application.extensions["catalog.capabilities"], "viewer", True)
    html = client.get(f"/records/{HULL}").get_data(as_text=True)
    assert (f'<iframe class="viewer" src="/iiif/{HULL}/viewer" title="IIIF viewer: Memorandum of Conversation, '
            'by the Secretary of State" loading="lazy"') in html
    assert client.get(f"/records/{HULL}.json").get_json()["links"]["viewer"] == f"http://localhost/iiif/{HULL}/viewer"


def test_record_json_ld_is_an_archive_component(read_client):
    html = read_client.get(f"/records/{HULL}").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL).group(1)
    data = json.loads(block)
    assert data["@type"] == "ArchiveComponent"
    assert data["url"] == f"http://localhost/records/{HULL}"
    assert data["identifier"] == [HULL, "740.0011 Moscow/10–3043"]
    assert data["holdingArchive"]["name"] == "National Archives and Records Administration"
    assert data["isPartOf"]["url"] == f"http://localhost/collections/{COLLECTION}"


def test_citation_downloads(read_client):
    bib = read_client.get(f"/records/{HULL}.bib")
    assert bib.mimetype == "application/x-bibtex"
    assert bib.get_data(as_text=True).startswith(f"@misc{{{HULL},")
    assert "attachment" in bib.headers["Content-Disposition"]
    csl = read_client.get(f"/records/{HULL}.csl.json")
    assert csl.mimetype == "application/vnd.citationstyles.csl+json"
    item = json.loads(csl.get_data(as_text=True))[0]
    assert item["id"] == HULL and item["author"] == [{"family": "Hull", "given": "Cordell"}]


def test_collections_list_each_collection_with_its_documents(read_client):
    data = read_client.get("/collections.json").get_json()
    assert data["total"] == 5
    counts = {c["name"]: c["count"] for c in data["items"]}
    assert counts["Department of State Central Decimal File"] == 1  # its restricted record is not counted
    one = read_client.get(f"/collections/{COLLECTION}.json").get_json()
    assert [item["id"] for item in one["items"]] == [HULL]
    assert one["links"]["browse"] == "http://localhost/?collection=Department+of+State+Central+Decimal+File"
    html = read_client.get("/collections").get_data(as_text=True)
    assert f'href="/collections/{COLLECTION}"' in html


def test_sitemap_and_robots(read_client):
    sitemap = read_client.get("/sitemap.xml")
    assert sitemap.mimetype == "application/xml"
    body = sitemap.get_data(as_text=True)
    people = read_client.get("/people.json").get_json()["items"]
    assert people  # records; home, collections and people lists; collections; person pages
    assert body.count("<url>") == len(PUBLIC_IDS) + 3 + 5 + len(people)
    assert all(f"<loc>{person['url']}</loc>" in body for person in people)
    assert f"<loc>http://localhost/records/{HULL}</loc>" in body
    assert RESTRICTED_ID not in body
    robots = read_client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in robots


@pytest.mark.parametrize("url", ["/records/no-such-record", "/collections/no-such-collection", "/no/such/page",
                                 "/?page=9"])
def test_not_found_page_helps(read_client, url):
    response = read_client.get(url)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert outline(html).h1 == 1
    assert 'role="search"' in html and 'name="q"' in html
    assert 'href="/">Go to the catalog home page</a>' in html


def test_not_found_json_twin_is_json(read_client):
    response = read_client.get("/records/no-such-record.json")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


BAD = {
    "page=-1": "'page' must be a whole number",
    "page=abc": "'page' must be a whole number",
    "page=0": "'page' must be between 1",
    "per_page=1000000000": "'per_page' must be a whole number",
    "per_page=100000": "'per_page' must be between 1 and",
    "colour=blue": "Unknown parameter 'colour'",
    "more=colour": "Unknown facet 'colour'",
    "sort=size": "Unknown sort 'size'",
    "q=%22Moscow": "A quotation mark is not closed",
    'q=file:"740.0011': "A quotation mark is not closed",
    "q=-Moscow": "not only words to leave out",
    "q=%2A%2A%2A": "has no words to look for",
    "q=" + "a" * 600: "The search is too long",
    "q=x&q=y": "'q' is given more than once",
    "from=1943-13": "is not a date",
    "from=yesterday": "is not a date",
    "from=1946&to=1943": "ends (1943) before it begins (1946)",
    "type=" + "t" * 400: "'type' must be a value between 1 and 300",
    "format=xml": "Unknown format 'xml'",
    "q=" + "x" * 100_000: "The query string is too long",
}


@pytest.mark.parametrize("query", list(BAD), ids=[q[:30] for q in BAD])
def test_bad_parameters_are_400_with_a_message(read_client, query):
    for path in ("/", "/search", "/index.json"):
        response = read_client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query[:60])
        body = response.get_data(as_text=True)
        if path.endswith(".json"):
            assert BAD[query] in response.get_json()["error"]["message"]
        else:
            assert BAD[query].replace("'", "&#39;") in body
            assert 'role="search"' in body


def test_collection_pages_reject_bad_page_numbers(read_client):
    assert read_client.get(f"/collections/{COLLECTION}?page=abc").status_code == 400
    assert read_client.get(f"/collections/{COLLECTION}?page=2").status_code == 404


HOSTILE_TEXT = "</script><script>alert(1)</script> <b>bold</b> \u202eevil\u202c & \u2028 end"


def hostile_record(synthetic) -> dict:
    record = synthetic(5)
    record.pop("parts", None)
    record.update(id="hostile-1", title=f"Title {HOSTILE_TEXT}")
    record["access"] = {"status": "open"}
    record["creators"][0]["name"] = "Smith, <b>Jane</b> \u202e"
    record["description"]["summary"] = f"Summary {HOSTILE_TEXT}"
    record["pages"] = [{"label": "1</p>", "text": f"Page text {HOSTILE_TEXT}"}]
    record["provenance"]["collection"] = {"name": "<i>Collection</i> </script>"}
    record["footnotes"] = [{"number": "1\"><x>", "text": f"Note {HOSTILE_TEXT}", "referenced_at": {"page": "1</p>"}}]
    return record


def test_hostile_record_content_is_escaped_in_html_and_json_ld(make_app, tmp_path, synthetic):
    folder = tmp_path / "hostile"
    folder.mkdir()
    write_record(folder, hostile_record(synthetic))
    client = make_app(folder).test_client()
    for url in ("/records/hostile-1", "/", "/search?q=alert", "/collections", "/collections/i-collection-i-script"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html, url
        assert "<b>" not in html and "<i>Collection" not in html and "<x>" not in html, url
        assert html.count("</script>") == html.count("<script"), url
    html = client.get("/records/hostile-1").get_data(as_text=True)
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;" in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL).group(1)
    assert "<" not in block and ">" not in block and "\u2028" not in block
    assert json.loads(block)["name"] == f"Title {HOSTILE_TEXT}"
    assert 'id="fn-1---x-"' in html and 'href="#fn-1---x-"' in html
    data = client.get("/records/hostile-1.json").get_json()
    assert data["title"] == f"Title {HOSTILE_TEXT}"  # JSON keeps the text as it is; JSON escaping makes it safe


def test_links_from_a_hostile_record_page_all_work(make_app, tmp_path, synthetic):
    """Names and file numbers with quotation marks still give working browse and search links."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    record = hostile_record(synthetic)
    record["persons_mentioned"] = [{"name": 'O"Brien, "Pat'}]
    record["provenance"]["file_number"] = '711.61/"3'
    write_record(folder, record)
    client = make_app(folder).test_client()
    data = client.get("/records/hostile-1.json").get_json()
    urls = [p["url"] for p in data["people"]] + [f["url"] for stage in data["history"] for f in stage["facts"]
                                                 if f["url"] and f["url"].startswith("http://localhost/")]
    assert len(urls) >= 5
    for url in urls:
        response = client.get(url.removeprefix("http://localhost") + ("&" if "?" in url else "?") + "format=json")
        assert response.status_code == 200, url
        assert "hostile-1" in [item["id"] for item in response.get_json().get("items", [])] or "/collections/" in url


def test_hostile_text_in_citation_downloads_stays_inside_its_fields(make_app, tmp_path, synthetic):
    folder = tmp_path / "hostile"
    folder.mkdir()
    record = hostile_record(synthetic)
    record["title"] = "Unbalanced } brace { and % per cent \\ backslash"
    write_record(folder, record)
    client = make_app(folder).test_client()
    bib = client.get("/records/hostile-1.bib").get_data(as_text=True)
    assert "title = {{Unbalanced \\} brace \\{ and \\% per cent \\textbackslash{} backslash}}" in bib
    assert bib.count("{") - bib.count("\\{") == bib.count("}") - bib.count("\\}")
