"""A restricted record is absent from every public surface, until its release date passes.

The record is the fixture corpus's restricted one: it shares its collection (and its sender) with
public records, so the pages that list its neighbours are the ones that could give it away.
"""

import datetime as dt
import json
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.conftest import FIXTURE_RECORDS
from tests.conftest import RESTRICTED_ID

pytestmark = pytest.mark.both_backends  # the index's behaviour here holds on SQLite and on PostgreSQL

PHRASE = "Quintessential marmalade protocol"
SECRET_ID = RESTRICTED_ID
RECIPIENT = "Stettinius"
"""Named in no public record: a facet or a people list that shows it gives the restricted record away."""

SAMPLE_VALUES = {"page": "1", "number": "1", "slug": "department-of-state-central-decimal-file",
                 "format": "json", "region": "full", "size": "max", "rotation": "0", "quality": "default",
                 "filename": "default.png"}
QUERIES = ["", f"?q={PHRASE.split()[1]}", f"?q=%22{PHRASE.replace(' ', '+')}%22", "?format=json",
           f"?q={SECRET_ID}", "?collection=Department+of+State+Central+Decimal+File",
           "?creator=Harriman%2C+W.+Averell"]
OAI_QUERIES = ["?verb=ListRecords&metadataPrefix=oai_dc", "?verb=ListIdentifiers&metadataPrefix=oai_dc",
               "?verb=ListSets",
               f"?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:{SECRET_ID}"]


def test_the_fixture_record_is_restricted_until_a_future_date():
    record = json.loads((FIXTURE_RECORDS / f"{SECRET_ID}.json").read_text(encoding="utf-8"))
    assert record["access"]["status"] == "restricted" and record["access"]["reason"]
    assert dt.date.fromisoformat(record["access"]["release_date"]) > dt.date.today()
    assert PHRASE in record["pages"][0]["text"] and RECIPIENT in record["recipients"][0]["name"]


def public_urls(app) -> list[str]:
    """Every GET route the app registers, filled in with the restricted record's id."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        path = rule.rule
        for name in rule.arguments:
            value = SECRET_ID if "id" in name else SAMPLE_VALUES.get(name, "1")
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
        queries = OAI_QUERIES if path == "/oai" else QUERIES
        urls += [path + query for query in queries]
    return urls


def leaks(client, urls) -> list[str]:
    found = []
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        body = response.get_data(as_text=True) if not response.mimetype.startswith("image/") else ""
        for secret in (SECRET_ID, PHRASE, PHRASE.lower(), RECIPIENT):
            if secret not in body or _only_echoes_search(client, url, secret):
                continue
            if not (response.status_code == 404 and url.count(SECRET_ID) and secret == SECRET_ID
                    and _only_echoes_request(body)):
                found.append(f"{url} ({response.status_code}) shows {secret!r}")
    return found


def _only_echoes_search(client, url: str, secret: str) -> bool:
    """A search page may repeat the words the client typed, as long as it finds nothing."""
    typed = " ".join(parse_qs(urlsplit(url).query).get("q", []))
    if secret.casefold() not in typed.casefold():
        return False
    twin = client.get(url + ("&" if "?" in url else "?") + "format=json")
    return twin.status_code == 200 and (twin.get_json(silent=True) or {}).get("total") == 0


def _only_echoes_request(body: str) -> bool:
    """A 404 page may repeat the id the client asked for; that reveals nothing."""
    return PHRASE not in body


def test_restricted_record_appears_nowhere(read_app, read_client):
    index = read_app.extensions["catalog.index"]
    assert index.db.execute("SELECT 1 FROM withheld_records WHERE id = ?", (SECRET_ID,)).fetchone() is not None
    urls = public_urls(read_app)
    assert len(urls) > 20
    assert leaks(read_client, urls) == []


def test_record_appears_when_its_release_date_passes(make_app, records_dir):
    access = json.loads((records_dir / f"{SECRET_ID}.json").read_text(encoding="utf-8"))["access"]
    release = dt.date.fromisoformat(access["release_date"])
    noon = dt.time(12, tzinfo=dt.UTC)
    now = [dt.datetime.combine(release - dt.timedelta(days=1), noon)]
    app = make_app(records_dir, CATALOG_CLOCK=lambda: now[0])  # the index's clock, moved by the test
    client = app.test_client()
    assert client.get(f"/api/records/{SECRET_ID}").status_code == 404
    now[0] = dt.datetime.combine(release + dt.timedelta(days=1), noon)
    assert client.get(f"/api/records/{SECRET_ID}").status_code == 200  # no restart


@pytest.mark.parametrize("path", ["/api/records/..%2F..%2Fetc%2Fpasswd", "/api/records/%2e%2e",
                                  "/api/records/a%00b", "/api/records/" + "x" * 5000, "/api/records/%E2%80%AEabc",
                                  "/records/..%2Frecords%2Fhull-memorandum-1943-10-30",
                                  "/iiif/..%2F..%2Fetc%2Fpasswd/manifest"])
def test_hostile_ids_are_404_and_read_nothing(read_client, path):
    response = read_client.get(path)
    assert response.status_code == 404
    assert b"root:" not in response.get_data()
