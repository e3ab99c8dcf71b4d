"""Person pages: a person's public documents as sender, recipient or mentioned, the offices they held
over time and their authority records, escaped; restricted records never counted; facets link there."""

import copy
import json
from html.parser import HTMLParser

import pytest

from catalog import facts
from catalog.urls import Urls
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import write_record

VIAF = "http://viaf.org/viaf/41853036"
WIKIDATA = "http://www.wikidata.org/entity/Q354873"
LCNAF = "http://id.loc.gov/authorities/names/n50029428"
HOSTILE_URI = 'https://example.org/x"><script>alert(1)</script>'
HOSTILE_NAME = "<script>alert('boo')</script>, Mallory"
SEALED_OFFICE = "Envoy on a sealed errand"


def fixture(record_id: str) -> dict:
    return json.loads((FIXTURE_RECORDS / f"{record_id}.json").read_text(encoding="utf-8"))


def harriman_letter(record_id: str, day: str, office: str | None, mentioned: list[dict] | None = None) -> dict:
    """A copy of the November 4, 1943 telegram under another id and date, Harriman holding `office`."""
    record = copy.deepcopy(fixture("harriman-roosevelt-1943-11-04"))
    record["id"] = record_id
    record["dates"] = [{"type": "sent", "date": day}]
    record["creators"][0].pop("office", None)
    if office:
        record["creators"][0]["office"] = office
    record["persons_mentioned"] = mentioned or []
    record["provenance"].pop("file_number", None)
    record["provenance"].pop("other_file_numbers", None)
    return record


@pytest.fixture
def people_client(records_dir, make_app):
    """The fixture corpus plus: authority links on Harriman (as an agent) and Molotov (mentioned),
    Harriman as ambassador in January 1946 and as Secretary of Commerce later, a hostile name and
    authority URI, and the restricted record giving Harriman an office nobody may see."""
    record = fixture("harriman-roosevelt-1943-11-04")
    record["creators"][0]["authority"] = [{"scheme": "viaf", "uri": VIAF}, {"scheme": "wikidata", "uri": WIKIDATA}]
    record["persons_mentioned"][0]["authority"] = [{"scheme": "lcnaf", "uri": LCNAF}]
    write_record(records_dir, record)
    write_record(records_dir, harriman_letter("harriman-letter-1946-01-20", "1946-01-20",
                                              "Ambassador in the Soviet Union"))
    write_record(records_dir, harriman_letter(
        "harriman-letter-1946-10-01", "1946-10-01", "Secretary of Commerce",
        [{"name": HOSTILE_NAME, "authority": [{"scheme": "other", "uri": HOSTILE_URI}]},
         {"name": "Molotov, V. M.", "authority": [{"scheme": "viaf", "uri": "http://viaf.org/viaf/76316045"}]}]))
    sealed = fixture(RESTRICTED_ID)
    sealed["creators"][0]["office"] = SEALED_OFFICE
    sealed["creators"][0]["authority"] = [{"scheme": "snac", "uri": "http://snaccooperative.org/ark:/99166/sealed"}]
    write_record(records_dir, sealed)
    return make_app(records_dir).test_client()


def documents(data: dict) -> dict[str, list[str]]:
    return {group["side"]: [d["id"] for d in group["items"]] for group in data["documents"]}


class Links(HTMLParser):
    """(href, text) of every link of a page."""

    def __init__(self):
        super().__init__()
        self.links: list[list[str]] = []
        self._open = False

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append([dict(attrs).get("href", ""), ""])
            self._open = True

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = False

    def handle_data(self, data):
        if self._open:
            self.links[-1][1] += data


def links_of(html: str) -> list[tuple[str, str]]:
    parser = Links()
    parser.feed(html)
    return [(href, " ".join(text.split())) for href, text in parser.links]


# -- the facts --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, slug", [("Harriman, W. Averell", "harriman-w-averell"),
                                        ("HARRIMAN,  W.Averell", "harriman-w-averell"),
                                        ("Mikołajczyk, Stanisław", "mikołajczyk-stanisław"),
                                        ("Vyšinskij, Józef", "vysinskij-jozef"),
                                        ("United States. Department of State", "united-states-department-of-state"),
                                        ("<>, ,", "")])
def test_person_slug(name, slug):
    assert facts.person_slug(name) == slug


def test_urls_for_people():
    assert Urls("").person("harriman-w-averell") == "/people/harriman-w-averell"
    assert Urls("https://c.example").person("harriman-w-averell", json=True) == \
        "https://c.example/people/harriman-w-averell.json"
    assert Urls("").person("mikołajczyk-stanisław") == "/people/miko%C5%82ajczyk-stanis%C5%82aw"
    assert Urls("").people(json=True) == "/people.json"


# -- the person page ----------------------------------------------------------------------------

def test_documents_as_sender_recipient_and_mentioned(people_client):
    truman = people_client.get("/people/truman-harry-s.json").get_json()
    assert documents(truman) == {
        "recipient": ["harriman-truman-1945-06-08", "harriman-truman-1945-06-16", "stalin-truman-1946-04-06"],
        "mentioned": ["stalin-truman-1946-04-06"]}
    assert truman["counts"] == {"creator": 0, "recipient": 3, "mentioned": 1}
    assert truman["display"] == "Harry S. Truman" and truman["total"] == 3
    stalin = people_client.get("/people/stalin-joseph.json").get_json()
    assert documents(stalin)["creator"] == ["stalin-truman-1946-04-06"]
    assert len(documents(stalin)["mentioned"]) == 5
    smith = people_client.get("/people/smith-walter-bedell.json").get_json()  # named only in a part
    assert smith["documents"][0]["items"][0]["part"] == 2
    assert smith["documents"][0]["items"][0]["roles"] == ["sender"]


def test_a_name_that_is_part_of_another_is_not_counted(people_client, records_dir, make_app):
    record = harriman_letter("harriman-letter-1946-02-01", "1946-02-01", None,
                             [{"name": "Truman, Harry S., Jr."}])
    write_record(records_dir, record)
    client = make_app(records_dir).test_client()
    assert "harriman-letter-1946-02-01" not in json.dumps(client.get("/people/truman-harry-s.json").get_json())
    junior = client.get("/people/truman-harry-s-jr.json").get_json()
    assert documents(junior) == {"mentioned": ["harriman-letter-1946-02-01"]}


def test_offices_over_time(people_client):
    data = people_client.get("/people/harriman-w-averell.json").get_json()
    assert [held["display"] for held in data["offices"]] == [
        "Ambassador in the Soviet Union, 1943-11 – 1946-01", "Secretary of Commerce, 1946-10"]
    html = people_client.get("/people/harriman-w-averell").get_data(as_text=True)
    assert "Ambassador in the Soviet Union</span>, <span class=\"period\">1943-11 – 1946-01" in html
    assert "Secretary of Commerce</span>, <span class=\"period\">1946-10</span>" in html
    sent = next(g for g in data["documents"] if g["side"] == "creator")["items"]
    assert [d["id"] for d in sent] == ["harriman-roosevelt-1943-11-04", "harriman-truman-1945-06-08",
                                       "harriman-truman-1945-06-16", "harriman-letter-1946-01-20",
                                       "harriman-letter-1946-10-01"]
    assert sent[0]["office"] == "Ambassador in the Soviet Union" and sent[1]["office"] is None


def test_authority_links_are_links_labelled_by_scheme(people_client):
    html = people_client.get("/people/harriman-w-averell").get_data(as_text=True)
    assert (VIAF, "VIAF") in links_of(html) and (WIKIDATA, "Wikidata") in links_of(html)
    molotov = people_client.get("/people/molotov-v-m").get_data(as_text=True)
    assert (LCNAF, "LC Name Authority File") in links_of(molotov)
    assert ("http://viaf.org/viaf/76316045", "VIAF") in links_of(molotov)  # from another record
    data = people_client.get("/people/molotov-v-m.json").get_json()
    assert data["authority"] == [{"scheme": "lcnaf", "label": "LC Name Authority File", "uri": LCNAF},
                                 {"scheme": "viaf", "label": "VIAF", "uri": "http://viaf.org/viaf/76316045"}]


def test_json_ld_carries_authority_as_same_as(people_client):
    html = people_client.get("/people/harriman-w-averell").get_data(as_text=True)
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    data = json.loads(block)
    assert data["@type"] == "Person" and data["name"] == "W. Averell Harriman"
    assert data["sameAs"] == [VIAF, WIKIDATA]
    assert data["@id"].endswith("/people/harriman-w-averell")


def test_names_and_uris_are_escaped(people_client):
    slug = facts.person_slug(HOSTILE_NAME)
    response = people_client.get(f"/people/{slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
    assert (HOSTILE_URI, "Other authority record") in links_of(html)  # the parser unescapes the attribute
    assert 'x"><script>' not in html
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["sameAs"] == [HOSTILE_URI]
    assert people_client.get(f"/people/{slug}.json").get_json()["name"] == HOSTILE_NAME


def test_restricted_record_is_never_listed(people_client):
    for path in ("/people/harriman-w-averell", "/people/harriman-w-averell.json", "/people", "/people.json"):
        body = people_client.get(path).get_data(as_text=True)
        for secret in (RESTRICTED_ID, SEALED_OFFICE, "sealed", "Stettinius", "snaccooperative"):
            assert secret not in body, (path, secret)
    data = people_client.get("/people/harriman-w-averell.json").get_json()
    assert data["total"] == 5 and data["counts"]["creator"] == 5
    # Stettinius is named only in the restricted record: no page, and the 404 does not say why
    for path in ("/people/stettinius-edward-r", "/people/stettinius-edward-r.json"):
        response = people_client.get(path)
        assert response.status_code == 404 and "Stettinius" not in response.get_data(as_text=True)


def test_unknown_and_hostile_people_are_404(people_client):
    for path in ("/people/nobody-at-all", "/people/nobody-at-all.json", "/people/%00", "/people/---",
                 "/people/" + "a" * 400, "/people/..%2F..%2Fetc%2Fpasswd"):
        response = people_client.get(path)
        assert response.status_code == 404, path
    response = people_client.get('/people/"%20OR%20stalin', follow_redirects=True)  # quotes cannot reach the search
    assert response.status_code == 404 and response.request.path == "/people/or-stalin"
    assert people_client.get("/people/nobody-at-all.json").get_json()["error"]["status"] == 404
    assert people_client.get("/people/stalin-joseph?format=xml").status_code == 400


def test_a_name_as_written_redirects_to_its_page(people_client):
    response = people_client.get("/people/Harriman,-W.-Averell")
    assert response.status_code == 301 and response.headers["Location"].endswith("/people/harriman-w-averell")
    response = people_client.get("/people/Harriman,-W.-Averell.json")
    assert response.headers["Location"].endswith("/people/harriman-w-averell.json")


def test_json_twin_has_absolute_links(people_client):
    data = people_client.get("/people/truman-harry-s.json").get_json()
    assert data["links"]["self"] == "http://localhost/people/truman-harry-s"
    assert data["links"]["browse_recipient"] == "http://localhost/?recipient=Truman%2C+Harry+S."
    assert data["documents"][0]["items"][0]["url"] == "http://localhost/records/harriman-truman-1945-06-08"
    html = people_client.get("/people/truman-harry-s").get_data(as_text=True)
    assert ("/records/harriman-truman-1945-06-08", "Cable, Summary of Averell Harriman Meeting with Stalin and Molotov") \
        in links_of(html)
    assert ("/?recipient=Truman%2C+Harry+S.", "Filter the catalog by this recipient") in links_of(html)


def test_a_page_follows_edits(people_client, records_dir):
    assert people_client.get("/people/hull-cordell.json").get_json()["total"] == 1
    (records_dir / "hull-memorandum-1943-10-30.json").unlink()
    people_client.application.extensions["catalog.index"].refresh(force=True)
    assert people_client.get("/people/hull-cordell.json").status_code == 404


# -- the index of people and the facets ---------------------------------------------------------

def test_people_index_lists_correspondents_with_counts(people_client):
    data = people_client.get("/people.json").get_json()
    by_slug = {p["slug"]: p for p in data["items"]}
    assert by_slug["harriman-w-averell"]["creator"] == 5 and by_slug["harriman-w-averell"]["recipient"] == 0
    assert by_slug["truman-harry-s"]["recipient"] == 3
    assert by_slug["truman-harry-s"]["url"] == "http://localhost/people/truman-harry-s"
    assert "stettinius-edward-r" not in by_slug
    html = people_client.get("/people").get_data(as_text=True)
    assert ("/people/harriman-w-averell", "Harriman, W. Averell") in links_of(html)


def test_person_facets_link_to_person_pages(people_client):
    html = people_client.get("/").get_data(as_text=True)
    links = links_of(html)
    assert ("/people/harriman-w-averell", "About W. Averell Harriman") in links
    assert ("/people/truman-harry-s", "About Harry S. Truman") in links
    assert any(href == "/?creator=Harriman%2C+W.+Averell" for href, _text in links)  # still a filter
    facets = {f["name"]: f for f in people_client.get("/index.json").get_json()["facets"]}
    creator = next(v for v in facets["creator"]["values"] if v["value"] == "Harriman, W. Averell")
    assert creator["person_url"] == "http://localhost/people/harriman-w-averell"
    assert all("person_url" not in v for v in facets["place"]["values"])
    for href, _text in links:
        if href.startswith("/people/"):
            assert people_client.get(href).status_code == 200, href
