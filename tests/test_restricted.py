"""A restricted record is absent from every public surface, until its release date passes."""

import datetime as dt
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.conftest import write_record

PHRASE = "Quintessential marmalade protocol"
SECRET_ID = "sealed-telegram-1944-01-01"

SAMPLE_VALUES = {"page": "1", "number": "1", "slug": "sealed-legation-files", "format": "json",
                 "region": "full", "size": "max", "rotation": "0", "quality": "default", "filename": "default.png"}
QUERIES = ["", f"?q={PHRASE.split()[1]}", f"?q=%22{PHRASE.replace(' ', '+')}%22", "?format=json",
           f"?q={SECRET_ID}", "?collection=Sealed+Legation+Files"]
OAI_QUERIES = ["?verb=ListRecords&metadataPrefix=oai_dc", "?verb=ListIdentifiers&metadataPrefix=oai_dc",
               "?verb=ListSets",
               f"?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:{SECRET_ID}"]


def restricted_record(synthetic, release_date=None) -> dict:
    record = synthetic(7)
    record.pop("parts", None)
    record.update(id=SECRET_ID, title=f"{PHRASE} telegram")
    record["pages"] = [{"label": "1", "text": f"The {PHRASE} is agreed."}]
    record["provenance"]["collection"] = {"name": "Sealed Legation Files"}
    record["access"] = {"status": "restricted", "reason": "Screening for national security information"}
    if release_date:
        record["access"]["release_date"] = release_date
    return record


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
        for secret in (SECRET_ID, PHRASE, PHRASE.lower()):
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


def test_restricted_record_appears_nowhere(make_app, records_dir, synthetic):
    write_record(records_dir, restricted_record(synthetic))
    app = make_app(records_dir)
    client = app.test_client()
    assert app.extensions["store"].get(SECRET_ID, include_restricted=True) is not None
    urls = public_urls(app)
    assert len(urls) > 20
    assert leaks(client, urls) == []


def test_record_appears_when_its_release_date_passes(make_app, records_dir, synthetic):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    write_record(records_dir, restricted_record(synthetic, tomorrow))
    app = make_app(records_dir)
    client = app.test_client()
    assert client.get(f"/api/records/{SECRET_ID}").status_code == 404
    store = app.extensions["store"]
    store.db.execute("UPDATE records SET release_date = ? WHERE id = ?", (dt.date.today().isoformat(), SECRET_ID))
    assert client.get(f"/api/records/{SECRET_ID}").status_code == 200  # no restart


@pytest.mark.parametrize("path", ["/api/records/..%2F..%2Fetc%2Fpasswd", "/api/records/%2e%2e",
                                  "/api/records/a%00b", "/api/records/" + "x" * 5000, "/api/records/%E2%80%AEabc",
                                  "/records/..%2Frecords%2Fhull-memorandum-1943-10-30",
                                  "/iiif/..%2F..%2Fetc%2Fpasswd/manifest"])
def test_hostile_ids_are_404_and_read_nothing(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"root:" not in response.get_data()
