"""IIIF Change Discovery API 1.0 (level 2): what changed in the catalog's IIIF resources, and when.

`/iiif/discovery` is the OrderedCollection; `/iiif/discovery/<n>` its OrderedCollectionPages,
numbered from 0, PAGE_SIZE activities each: page n holds activities n × PAGE_SIZE onwards of one
stream, oldest first, as `index.changes` lists it. An aggregator starts at `last` and follows `prev`
until it meets an `endTime` before its previous visit.

What the stream holds:
- One activity per record the OAI-PMH ledger knows as ever public, dated by its ledger datestamp
  (the moment its content, visibility or existence last changed), with the manifest as object:
  `Delete` when the record is removed or restricted now (a restricted record is only ever named by
  its manifest's URL, never described), `Update` otherwise. A record never public is not listed.
- One `Update` per archival collection (/iiif/collection/<slug>) dated by the latest change among
  its members: a member's own datestamp, or the moment a member left it (removed, restricted, moved
  to another collection); `Delete` when it has no public member left. One `Update` for the
  collection of them all (/iiif/collection), dated by the latest of those. At one datestamp the
  records come first, then the collections they dated, then the collection of all.

Each resource contributes one activity, its latest state: the ledger keeps only the latest datestamp
per record, so there is no history to list. Level 2 allows this: a publisher may omit changes but
should always have the most recent one, and an aggregator walking backwards from `last` needs
exactly that (the newest state of each manifest, deletions included). A change moves its activity
to the end of the stream: the activities after its old place move one place forward, so a client
walking backwards may see one twice but never misses one.

There is no `Create`: without the history the ledger cannot tell a first version from a later one,
and the specification lets a system that does not distinguish creation from modification use
`Update` for both. Consumers process `Create` and `Update` alike.

Documents are remembered until the index changes (the cache keys on its generation) and served as
JSON-LD with the Discovery profile (plain JSON when the client prefers it), with ETag and
Last-Modified (the newest activity's time) as the other IIIF documents are.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from werkzeug.exceptions import NotFound

from catalog.http import get_index
from catalog.http import urls
from catalog.index.reads import Change
from catalog.urls import Urls
from manifests.iiif import dump
from manifests.iiif import iiif_response

blueprint = Blueprint("discovery", __name__)

DISCOVERY_CONTEXT = "http://iiif.io/api/discovery/1/context.json"
DISCOVERY_JSON = f'application/ld+json;profile="{DISCOVERY_CONTEXT}"'
PAGE_SIZE = 100
"""Activities per OrderedCollectionPage (the last page holds the rest)."""


@blueprint.get("/iiif/discovery")
def ordered_collection() -> Response:
    where = urls()
    body, modified = get_index().cache.get(("iiif discovery", where, PAGE_SIZE),
                                           lambda: _collection_body(where))
    return iiif_response(body, modified, DISCOVERY_JSON)


@blueprint.get("/iiif/discovery/<int:page>")
def ordered_collection_page(page: int) -> Response:
    where = urls()
    body, modified = get_index().cache.get(("iiif discovery", where, PAGE_SIZE, page),
                                           lambda: _page_body(where, page))
    return iiif_response(body, modified, DISCOVERY_JSON)


# -- the documents --------------------------------------------------------------------------------

def last_page(total: int) -> int:
    """The number of the last page (0 when the stream is empty: page 0 is always served)."""
    return max(0, -(-total // PAGE_SIZE) - 1)


def _page_reference(where: Urls, page: int) -> dict:
    return {"id": where.discovery(page), "type": "OrderedCollectionPage"}


def collection_document(where: Urls, total: int) -> dict:
    return {"@context": DISCOVERY_CONTEXT, "id": where.discovery(), "type": "OrderedCollection",
            "totalItems": total, "first": _page_reference(where, 0),
            "last": _page_reference(where, last_page(total))}


def page_document(where: Urls, page: int, total: int, changes: list[Change]) -> dict:
    out = {"@context": DISCOVERY_CONTEXT, "id": where.discovery(page), "type": "OrderedCollectionPage",
           "partOf": {"id": where.discovery(), "type": "OrderedCollection"}, "startIndex": page * PAGE_SIZE}
    if page > 0:
        out["prev"] = _page_reference(where, page - 1)
    if page < last_page(total):
        out["next"] = _page_reference(where, page + 1)
    out["orderedItems"] = [activity(change, where) for change in changes]
    return out


def activity(change: Change, where: Urls) -> dict:
    """The Activity for a change: only the object's URL and type, never anything from the record."""
    if change.kind == "record":
        target = {"id": where.manifest(change.key), "type": "Manifest"}
    else:
        target = {"id": where.iiif_collection(change.key or None), "type": "Collection"}
    return {"type": "Update" if change.live else "Delete", "object": target, "endTime": change.datestamp}


def _newest(total: int) -> str | None:
    """The time of the newest activity: when any document of the stream last changed."""
    newest = get_index().changes(total - 1, 1) if total else []
    return newest[0].datestamp if newest else None


def _collection_body(where: Urls) -> tuple[bytes, str | None]:
    total = get_index().change_count()
    return dump(collection_document(where, total)), _newest(total)


def _page_body(where: Urls, page: int) -> tuple[bytes, str | None]:
    index = get_index()
    total = index.change_count()
    if page > last_page(total):
        raise NotFound(f"The change list has {last_page(total) + 1} page{'s' if last_page(total) else ''} "
                       f"(0 to {last_page(total)}), not {page}.")
    changes = index.changes(page * PAGE_SIZE, PAGE_SIZE)
    return dump(page_document(where, page, total, changes)), _newest(total)
