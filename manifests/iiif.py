"""IIIF endpoints: Presentation 3.0 manifests, collections and annotation pages; Image API level 0.

The HTTP behaviour viewers and caches rely on lives here: the IIIF content type (or plain JSON when
asked), ETag and Last-Modified with 304s, and 404 for anything unknown or restricted. What goes in
the documents is built by `manifests.presentation`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import redirect
from flask import request
from flask import send_file
from werkzeug.exceptions import NotFound

from catalog import search
from catalog.http import base_url
from catalog.http import get_store
from catalog.model import Record
from manifests import images
from manifests import presentation
from manifests.presentation import Links

blueprint = Blueprint("iiif", __name__)

IIIF_JSON = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
IMAGE_JSON = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
COLLECTION_PAGE_SIZE = 1000
"""Manifests per Collection; a larger archival collection is split into nested Collections."""
IMAGE_MAX_AGE = 300


# -- responses ----------------------------------------------------------------------------------

def iiif_response(body: str, last_modified: str | None, ld_type: str = IIIF_JSON,
                  digest: str | None = None) -> Response:
    """JSON-LD with the IIIF profile (plain JSON when the client prefers it), conditional on ETag/date."""
    best = request.accept_mimetypes.best_match(["application/ld+json", "application/json"])
    plain = best == "application/json"
    response = Response(body, content_type="application/json" if plain else ld_type)
    response.set_etag((digest or body_digest(body)) + ("-json" if plain else ""))
    if last_modified:
        response.last_modified = dt.datetime.strptime(last_modified, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    response.vary.add("Accept")
    return response.make_conditional(request)


def body_digest(body: str) -> str:
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


def dump(data: dict) -> str:
    """Compact JSON: manifests of long documents are large, and viewers never read the whitespace."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def links() -> Links:
    return Links(base_url())


def provider() -> dict:
    config = current_app.config
    return presentation.provider(config["CATALOG_INSTITUTION_NAME"], config["CATALOG_INSTITUTION_URL"] or
                                 base_url() + "/")


def public_record(record_id: str) -> tuple[Record, str]:
    """The public record and its content hash, or 404 (unknown and restricted alike)."""
    store = get_store()
    row = store.get_row(record_id)
    if row is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    return store.record_from_row(row), row["content_hash"]


def datestamp(record_id: str) -> str | None:
    row = get_store().db.execute("SELECT datestamp FROM ledger WHERE id = ?", (record_id,)).fetchone()
    return row[0] if row else None


# -- manifests and annotations ------------------------------------------------------------------

@blueprint.get("/iiif/<record_id>/manifest")
def manifest(record_id: str) -> Response:
    digest = get_store().content_hash(record_id)
    if digest is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    body, body_hash = _manifest_body(record_id, digest, links(), json.dumps(provider()))
    return iiif_response(body, datestamp(record_id), digest=body_hash)


@lru_cache(maxsize=256)
def _manifest_body(record_id: str, digest: str, where: Links, provider_json: str) -> tuple[str, str]:
    """Built once per record version and base URL (the arguments are the cache key), with its hash."""
    record = get_store().get(record_id)
    if record is None:  # restricted or removed since its hash was read
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    body = dump(presentation.manifest(record, where, json.loads(provider_json)))
    return body, body_digest(body)


@blueprint.get("/iiif/<record_id>/canvas/<int:n>/annotations")
def annotations(record_id: str, n: int) -> Response:
    record, _ = public_record(record_id)
    page = _page(record, n)
    return iiif_response(dump(presentation.annotation_page(record, links(), n, page, with_context=True)),
                         datestamp(record.id))


@blueprint.get("/iiif/<record_id>/transcription.txt")
def transcription(record_id: str) -> Response:
    record, _ = public_record(record_id)
    response = Response(presentation.transcription_text(record), mimetype="text/plain")
    response.headers["Content-Disposition"] = f'inline; filename="{record.id}.txt"'
    return response


def _page(record: Record, n: int):
    pages = record.all_pages()
    if not 1 <= n <= len(pages):
        raise NotFound(f"Record {record.id!r} has {len(pages)} page{'s' if len(pages) != 1 else ''}, not {n}.")
    return pages[n - 1][1]


# -- collections --------------------------------------------------------------------------------

@blueprint.get("/iiif/collection")
def collection_of_everything() -> Response:
    db = get_store().db
    body = search.cached(db, ("iiif collection", base_url()), _collection_of_everything)
    return iiif_response(body, get_store().last_change())


def _collection_of_everything() -> str:
    where = links()
    found = search.collections(get_store().db)
    total = sum(c["count"] for c in found)
    items = [{"id": where.collection(c["slug"]), "type": "Collection", "label": presentation.lang(c["name"]),
              "summary": presentation.lang(_collection_summary(c))} for c in found]
    name = current_app.config["CATALOG_INSTITUTION_NAME"]
    body = presentation.collection(where.collection(), f"{name}: all collections",
                                   f"{total:,} public documents in {len(found)} archival collections.", items)
    return dump(body)


def _collection_summary(found: dict) -> str:
    years = f"{found['first_year']}–{found['last_year']}" if found["first_year"] != found["last_year"] \
        else str(found["first_year"])
    return f"{found['count']:,} documents, {years}; held by {', '.join(found['repositories'])}."


@blueprint.get("/iiif/collection/<slug>")
def archival_collection(slug: str) -> Response:
    return _archival_collection(slug, None)


@blueprint.get("/iiif/collection/<slug>/<int:page>")
def archival_collection_page(slug: str, page: int) -> Response:
    return _archival_collection(slug, page)


def _archival_collection(slug: str, page: int | None) -> Response:
    """One archival collection's manifests in date order; large ones as nested Collections.

    Remembered until the index changes: a collection of a thousand manifests is costly to list."""
    db = get_store().db
    body = search.cached(db, ("iiif collection", base_url(), slug, page), lambda: _archival_body(db, slug, page))
    return iiif_response(body, get_store().last_change())


def _archival_body(db, slug: str, page: int | None) -> str:
    found = next((c for c in search.collections(db) if c["slug"] == slug), None)
    if found is None:
        raise NotFound(f"There is no collection {slug[:100]!r}.")
    where = links()
    pages = max(1, -(-found["count"] // COLLECTION_PAGE_SIZE))
    parent = {"id": where.collection(), "type": "Collection"}
    if page is None and pages > 1:
        items = [{"id": where.collection(slug, n), "type": "Collection",
                  "label": presentation.lang(f"{found['name']}, documents {_range(n, found['count'])}")}
                 for n in range(1, pages + 1)]
        body = presentation.collection(where.collection(slug), found["name"], _collection_summary(found),
                                       items, parent)
    else:
        if page is not None and not 1 <= page <= pages:
            raise NotFound(f"Collection {slug!r} has {pages} part{'s' if pages != 1 else ''}, not {page}.")
        rows = db.execute(
            "SELECT r.id, r.title, r.date FROM facets f JOIN records r ON r.rowid = f.record_rowid "
            "WHERE f.facet = 'collection' AND f.value = ? AND r.public = 1 ORDER BY r.date, r.id LIMIT ? OFFSET ?",
            (found["name"], COLLECTION_PAGE_SIZE, ((page or 1) - 1) * COLLECTION_PAGE_SIZE)).fetchall()
        items = [presentation.manifest_reference(row, where) for row in rows]
        label = found["name"] if page is None else f"{found['name']}, documents {_range(page, found['count'])}"
        collection_id = where.collection(slug, page)
        part_of = parent if page is None else {"id": where.collection(slug), "type": "Collection"}
        body = presentation.collection(collection_id, label, _collection_summary(found), items, part_of)
    return dump(body)


def _range(page: int, total: int) -> str:
    first = (page - 1) * COLLECTION_PAGE_SIZE + 1
    return f"{first:,}–{min(total, page * COLLECTION_PAGE_SIZE):,}"


# -- page images (Image API 3.0, level 0) --------------------------------------------------------

@blueprint.get("/iiif/image/<record_id>/<int:n>")
def image_base(record_id: str, n: int) -> Response:
    record, _ = public_record(record_id)
    _page(record, n)
    return redirect(f"{base_url()}/iiif/image/{record.id}/{n}/info.json", 303)


@blueprint.get("/iiif/image/<record_id>/<int:n>/info.json")
def image_info(record_id: str, n: int) -> Response:
    record, _ = public_record(record_id)
    width, height = presentation.typescript.page_size(_page(record, n).text)
    body = images.info(links().image_service(record.id, n), width, height)
    return iiif_response(dump(body), datestamp(record.id), IMAGE_JSON)


@blueprint.get("/iiif/image/<record_id>/<int:n>/<region>/<size>/<rotation>/<quality>.<fmt>")
def image(record_id: str, n: int, region: str, size: str, rotation: str, quality: str, fmt: str) -> Response:
    digest = get_store().content_hash(record_id)
    if digest is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    key = (record_id, digest, n, region, size, rotation, quality, fmt)
    path = _rendered.get(key)
    if path is not None and not path.is_file():  # the image cache was cleared
        path = None
    if path is None:  # first request for this image of this version: check it, draw it if need be
        record, digest = public_record(record_id)
        text = _page(record, n).text
        wanted = images.requested_size(region, size, rotation, quality, fmt,
                                       *presentation.typescript.page_size(text))
        cache = Path(current_app.config["CATALOG_INSTANCE_DIR"]) / "iiif-images"
        path = images.cached_image(cache, record.id, digest, n, text, wanted, fmt)
        _remember(key, path)
    response = send_file(path, mimetype=images.FORMATS[fmt][1], conditional=True, max_age=IMAGE_MAX_AGE)
    response.headers["Link"] = '<http://iiif.io/api/image/3/level0.json>;rel="profile"'
    return response


_rendered: dict[tuple, Path] = {}
RENDERED_MEMO_SIZE = 4096


def _remember(key: tuple, path: Path) -> None:
    """Which file answers which image request, per record version: a cached image is a file send."""
    if len(_rendered) >= RENDERED_MEMO_SIZE:
        _rendered.clear()
    _rendered[key] = path
