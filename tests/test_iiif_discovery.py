"""IIIF Change Discovery API 1.0: the documents' shape, and an aggregator's walks before and after edits.

The walk is the specification's own processing algorithm (3.5.1, 3.5.2): start at the
OrderedCollection, go to `last`, read each page's activities newest first, follow `prev`, stop at
an activity older than the previous walk; the first activity seen for a resource decides it.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from manifests import discovery
from tests.conftest import PUBLIC_IDS
from tests.conftest import RESTRICTED_ID
from tests.conftest import write_record

BASE = "http://localhost"
CONTEXT = "http://iiif.io/api/discovery/1/context.json"
DISCOVERY_TYPE = 'application/ld+json;profile="http://iiif.io/api/discovery/1/context.json"'
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")  # xsd:dateTime in UTC, as in the spec
RESTRICTED_TITLE = "Quintessential marmalade"
"""From the restricted fixture record's title: a discovery document that shows it gives the record away."""


def get(client, url: str) -> dict:
    response = client.get(url.replace(BASE, ""))
    assert response.status_code == 200, (url, response.status_code)
    return response.get_json(force=True)


def manifest(record_id: str) -> str:
    return f"{BASE}/iiif/{record_id}/manifest"


def collection_ids(client) -> set[str]:
    """The IIIF Collections the catalog serves now: the collection of all and each archival collection."""
    top = get(client, "/iiif/collection")
    return {top["id"]} | {item["id"] for item in top["items"]}


def served_manifests(client) -> set[str]:
    """Every manifest reachable from /iiif/collection (through nested collections too)."""
    found, queue, seen = set(), ["/iiif/collection"], set()
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        for item in get(client, url)["items"]:
            if item["type"] == "Manifest":
                found.add(item["id"])
            else:
                queue.append(item["id"])
    return found


def stamp(clock) -> str:
    """The clock's time as an endTime."""
    return clock().strftime("%Y-%m-%dT%H:%M:%SZ")


def walk(client, last_crawl: str | None = None) -> tuple[list[dict], list[str]]:
    """The activities an aggregator reads, newest first, and the pages it fetched: from `last`
    backwards along `prev`, stopping at an activity before `last_crawl`."""
    collection = get(client, "/iiif/discovery")
    url, read, pages = collection["last"]["id"], [], []
    while url:
        page = get(client, url)
        pages.append(url)
        for activity in reversed(page["orderedItems"]):
            if last_crawl is not None and activity["endTime"] < last_crawl:
                return read, pages
            read.append(activity)
        url = page.get("prev", {}).get("id")
    return read, pages


def latest_states(activities: list[dict]) -> dict[str, str]:
    """object id → the type of its newest activity (the spec's processedItems rule)."""
    state: dict[str, str] = {}
    for activity in activities:  # newest first
        state.setdefault(activity["object"]["id"], activity["type"])
    return state


def all_pages(client) -> list[dict]:
    """Every page, first to last, following `next`."""
    url, pages = get(client, "/iiif/discovery")["first"]["id"], []
    while url:
        pages.append(get(client, url))
        url = pages[-1].get("next", {}).get("id")
    return pages


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 3 activities, so the fixture corpus's dozen spans several."""
    monkeypatch.setattr(discovery, "PAGE_SIZE", 3)
    return 3


# -- (1) the documents' shape -----------------------------------------------------------------------

def test_the_ordered_collection_and_its_page_have_the_shape_of_the_specification(read_client):
    collections = collection_ids(read_client)
    response = read_client.get("/iiif/discovery")
    assert response.status_code == 200 and response.headers["Content-Type"] == DISCOVERY_TYPE
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json(force=True)
    assert next(iter(document)) == "@context"  # "SHOULD appear as the very first key/value pair"
    assert document == {  # as the spec's example in 2.3
        "@context": CONTEXT,
        "id": f"{BASE}/iiif/discovery",
        "type": "OrderedCollection",
        "totalItems": len(PUBLIC_IDS) + len(collections),
        "first": {"id": f"{BASE}/iiif/discovery/0", "type": "OrderedCollectionPage"},
        "last": {"id": f"{BASE}/iiif/discovery/0", "type": "OrderedCollectionPage"},
    }
    page = read_client.get("/iiif/discovery/0")
    assert page.headers["Content-Type"] == DISCOVERY_TYPE
    page = page.get_json(force=True)
    items = page.pop("orderedItems")
    assert next(iter(page)) == "@context"
    assert page == {  # as the spec's example in 3.2; the only page has neither prev nor next
        "@context": CONTEXT,
        "id": f"{BASE}/iiif/discovery/0",
        "type": "OrderedCollectionPage",
        "partOf": {"id": f"{BASE}/iiif/discovery", "type": "OrderedCollection"},
        "startIndex": 0,
    }
    assert len(items) == document["totalItems"]
    stamp = items[0]["endTime"]
    assert DATETIME.fullmatch(stamp)
    # as the spec's level 2 examples: type, object {id, type} and endTime, nothing else; one
    # cold build dates everything alike, records first, then the collections, the top one last
    assert items == ([{"type": "Update", "object": {"id": manifest(record_id), "type": "Manifest"},
                       "endTime": stamp} for record_id in PUBLIC_IDS]
                     + [{"type": "Update", "object": {"id": url, "type": "Collection"}, "endTime": stamp}
                        for url in sorted(collections - {f"{BASE}/iiif/collection"})]
                     + [{"type": "Update", "object": {"id": f"{BASE}/iiif/collection", "type": "Collection"},
                         "endTime": stamp}])


def test_pages_link_to_each_other_and_hold_fixed_positions(records_dir, make_app, small_pages):
    client = make_app(records_dir).test_client()
    collection = get(client, "/iiif/discovery")
    total = collection["totalItems"]
    pages = all_pages(client)
    assert len(pages) == -(-total // small_pages) > 2
    assert collection["first"]["id"] == pages[0]["id"] and collection["last"]["id"] == pages[-1]["id"]
    for n, page in enumerate(pages):
        assert page["id"] == f"{BASE}/iiif/discovery/{n}" and page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == {"id": f"{BASE}/iiif/discovery", "type": "OrderedCollection"}
        assert page["startIndex"] == n * small_pages
        assert ("prev" in page) == (n > 0) and ("next" in page) == (n < len(pages) - 1)
        if n > 0:
            assert page["prev"] == {"id": pages[n - 1]["id"], "type": "OrderedCollectionPage"}
        assert 1 <= len(page["orderedItems"]) <= small_pages
    items = [item for page in pages for item in page["orderedItems"]]
    assert len(items) == total
    assert [item["endTime"] for item in items] == sorted(item["endTime"] for item in items)
    backwards, _ = walk(client)
    assert backwards == items[::-1]  # `prev` from `last` reads the same stream


def test_http_behaviour(read_client):
    response = read_client.get("/iiif/discovery/0")
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    newest = max(item["endTime"] for item in response.get_json(force=True)["orderedItems"])
    assert dt.datetime.strptime(newest, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC) == response.last_modified
    again = read_client.get("/iiif/discovery/0", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    plain = read_client.get("/iiif/discovery", headers={"Accept": "application/json"})
    assert plain.headers["Content-Type"] == "application/json"
    for url in ("/iiif/discovery/1", "/iiif/discovery/99999999999999999999999999"):
        missing = read_client.get(url)
        assert missing.status_code == 404 and missing.get_json()["error"]["status"] == 404
    assert read_client.get("/iiif/discovery/-1").status_code == 404


def test_the_stream_read_in_any_slices_is_one_stream(records_dir, make_app, clock):
    """The index's changes(offset, limit), however sliced, is one list in (datestamp, kind, key) order,
    with collections dated among the records (read from either end of the ledger)."""
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    client = app.test_client()
    for record_id in ("hull-memorandum-1943-10-30", "addressed-telegram-1946-03-05"):
        clock.advance(60)
        record = json.loads((records_dir / f"{record_id}.json").read_text(encoding="utf-8"))
        write_record(records_dir, {**record, "title": record["title"] + " (revised)"})
        assert client.get("/iiif/discovery").status_code == 200
    index = app.extensions["catalog.index"]
    total = index.change_count()
    whole = index.changes(0, total + 5)
    assert len(whole) == total == len({(c.kind, c.key) for c in whole})
    assert [c.position for c in whole] == sorted(c.position for c in whole)
    kinds = [c.kind for c in whole]
    assert kinds[-5:] == ["record", "collection", "record", "collection", "collections"]
    for offset in range(total + 2):
        for limit in range(1, total + 2):
            assert index.changes(offset, limit) == whole[offset:offset + limit], (offset, limit)


# -- (2) an aggregator's first walk ---------------------------------------------------------------

def test_a_walk_from_last_reproduces_the_public_catalog(records_dir, make_app, small_pages):
    client = make_app(records_dir).test_client()
    activities, pages = walk(client)
    assert pages[-1] == f"{BASE}/iiif/discovery/0" and len(pages) > 2  # from last to first along prev
    state = latest_states(activities)
    included = {url for url, kind in state.items() if kind != "Delete"}
    assert {url for url in included if url.endswith("/manifest")} == {manifest(i) for i in PUBLIC_IDS}
    assert included - {manifest(i) for i in PUBLIC_IDS} == collection_ids(client)
    assert served_manifests(client) == {manifest(i) for i in PUBLIC_IDS}
    assert all(kind != "Delete" for kind in state.values())  # nothing was ever deleted yet
    assert manifest(RESTRICTED_ID) not in state  # never public: never listed, not even as Delete
    for url in included:
        assert client.get(url.replace(BASE, "")).status_code == 200


def test_a_larger_catalog_is_paged_a_hundred_activities_at_a_time(tmp_path, make_app, synthetic):
    folder = tmp_path / "generated"
    folder.mkdir()
    records = [synthetic(n) for n in range(1, 231)]
    for record in records:
        write_record(folder, record)
    withheld = [r["id"] for r in records if r["access"]["status"] != "open"]
    assert withheld
    client = make_app(folder).test_client()
    total = get(client, "/iiif/discovery")["totalItems"]
    pages = all_pages(client)
    assert len(pages) == -(-total // 100) == 3
    assert [page["startIndex"] for page in pages] == [0, 100, 200]
    assert [len(page["orderedItems"]) for page in pages[:-1]] == [discovery.PAGE_SIZE] * (len(pages) - 1)
    state = latest_states(walk(client)[0])
    public = {manifest(r["id"]) for r in records if r["access"]["status"] == "open"}
    assert {url for url in state if url.endswith("/manifest")} == public == served_manifests(client)
    assert set(state) - public == collection_ids(client)
    assert not any(record_id in json.dumps(pages) for record_id in withheld)


# -- (3) after edits, a walk back to the previous one sees exactly them ---------------------------

def test_a_later_walk_sees_exactly_the_edits_with_their_types(records_dir, make_app, clock, small_pages):
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    client = app.test_client()
    clock.advance(1)
    last_crawl = stamp(clock)  # the spec's lastCrawl: when the previous walk ran
    first, _ = walk(client)
    newest = max(activity["endTime"] for activity in first)
    assert newest < last_crawl
    collections_before = collection_ids(client)

    def read(record_id: str) -> dict:
        return json.loads((records_dir / f"{record_id}.json").read_text(encoding="utf-8"))

    edited, removed, restricted = "stalin-truman-1946-04-06", "harriman-roosevelt-1943-11-04", \
        "harriman-truman-1945-06-08"
    clock.advance(3600)
    write_record(records_dir, {**read(edited), "title": "Telegram, Stalin to Truman (title revised)"})
    (records_dir / f"{removed}.json").unlink()
    write_record(records_dir, {**read(restricted), "access": {
        "status": "restricted", "reason": "Screening for personal privacy information."}})
    added = {**read("addressed-telegram-1946-03-05"), "id": "added-telegram-1946-03-06"}
    write_record(records_dir, added)
    assert client.get("/iiif/discovery").status_code == 200  # the index takes the edits (at clock time)

    later, pages = walk(client, last_crawl)
    assert f"{BASE}/iiif/discovery/0" not in pages  # an incremental walk stops early
    assert f"{BASE}/iiif/discovery/1" in pages  # ... on the page where the changes begin
    new = [activity for activity in later if activity["endTime"] > newest]
    assert new == later and {activity["endTime"] for activity in new} == {stamp(clock)}
    slug = "http://localhost/iiif/collection/"
    assert latest_states(new) == {
        manifest(edited): "Update",
        manifest(removed): "Delete",
        manifest(restricted): "Delete",
        manifest(added["id"]): "Update",  # no Create: the ledger keeps no history (see discovery.py)
        slug + "truman-papers": "Update",  # the edited record's collection
        slug + "roosevelt-papers": "Delete",  # its only member removed
        slug + "w-a-harriman-papers": "Delete",  # its only member restricted
        slug + "moscow-embassy-files": "Update",  # gained the added record
        "http://localhost/iiif/collection": "Update",
    }
    assert len(new) == 9  # each resource once: its latest state
    # what the aggregator now holds is what the catalog serves
    state = latest_states(later + first)
    included = {url for url, kind in state.items() if kind != "Delete"}
    public = (set(PUBLIC_IDS) - {removed, restricted}) | {added["id"]}
    assert {url for url in included if url.endswith("/manifest")} == {manifest(i) for i in public}
    assert served_manifests(client) == {manifest(i) for i in public}
    assert included - {manifest(i) for i in public} == collection_ids(client)
    gone = {slug + "roosevelt-papers", slug + "w-a-harriman-papers"}
    assert collection_ids(client) == collections_before - gone
    for url, kind in state.items():
        assert client.get(url.replace(BASE, "")).status_code == (404 if kind == "Delete" else 200), url
    # a full walk now agrees, and lists each resource once
    full, _ = walk(client)
    assert latest_states(full) == state and len(full) == len(state)


def test_a_record_released_from_restriction_is_announced(records_dir, make_app, clock):
    record = json.loads((records_dir / f"{RESTRICTED_ID}.json").read_text(encoding="utf-8"))
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    client = app.test_client()
    clock.advance(1)
    last_crawl = stamp(clock)
    walk(client)
    release = dt.date.fromisoformat(record["access"]["release_date"])
    clock.now = dt.datetime.combine(release + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    later, _ = walk(client, last_crawl)
    assert {activity["endTime"] for activity in later} == {stamp(clock)}
    assert latest_states(later) == {
        manifest(RESTRICTED_ID): "Update",
        "http://localhost/iiif/collection/department-of-state-central-decimal-file": "Update",
        "http://localhost/iiif/collection": "Update",
    }


# -- (4) restricted content never appears ---------------------------------------------------------

def discovery_text(client) -> str:
    pages = all_pages(client)
    return json.dumps(get(client, "/iiif/discovery")) + "".join(json.dumps(page) for page in pages)


def test_restricted_records_never_appear_and_restriction_reads_as_a_delete(records_dir, make_app, clock,
                                                                          small_pages):
    client = make_app(records_dir, CATALOG_CLOCK=clock).test_client()
    text = discovery_text(client)
    assert RESTRICTED_ID not in text and RESTRICTED_TITLE not in text
    before = {page["id"]: page for page in all_pages(client)}
    # a change to the never-public record is not announced, nor does it date its collection
    sealed = json.loads((records_dir / f"{RESTRICTED_ID}.json").read_text(encoding="utf-8"))
    clock.advance(600)
    write_record(records_dir, {**sealed, "title": sealed["title"] + " (re-screened)"})
    assert {page["id"]: page for page in all_pages(client)} == before
    # a public record that becomes restricted: a Delete naming its manifest, nothing of its content
    target = "hull-memorandum-1943-10-30"
    record = json.loads((records_dir / f"{target}.json").read_text(encoding="utf-8"))
    clock.advance(600)
    write_record(records_dir, {**record, "access": {"status": "restricted", "reason": "Screening."}})
    text = discovery_text(client)
    assert RESTRICTED_ID not in text and RESTRICTED_TITLE not in text
    provenance = record["provenance"]
    for secret in (record["title"], record["description"]["summary"][:40], provenance["file_number"]):
        assert secret not in text
    items = [item for page in all_pages(client) for item in page["orderedItems"]]
    mentions = [item for item in items if target in json.dumps(item)]
    assert mentions == [{"type": "Delete", "object": {"id": manifest(target), "type": "Manifest"},
                         "endTime": stamp(clock)}]
    assert client.get(f"/iiif/{target}/manifest").status_code == 404
