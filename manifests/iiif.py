"""IIIF endpoints: Presentation 3.0 manifests, collections and annotation pages; Image API level 1.

The HTTP behaviour viewers and caches rely on lives here: the IIIF content type (or plain JSON when
asked), ETag and Last-Modified with 304s, and 404 for anything unknown or restricted. What goes in
the documents is built by `manifests.presentation`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import zlib
from functools import lru_cache
from pathlib import Path

import orjson
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import redirect
from flask import request
from flask import send_file
from werkzeug.exceptions import NotFound
from werkzeug.http import http_date
from werkzeug.wsgi import wrap_file

from catalog.http import get_index
from catalog.http import json_error
from catalog.http import urls
from catalog.model import Record
from manifests import images
from manifests import presentation
from manifests import templates
from manifests.representations import Representations

blueprint = Blueprint("iiif", __name__)

IIIF_JSON = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
IMAGE_JSON = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
COLLECTION_PAGE_SIZE = 1000
"""Manifests per Collection; a larger archival collection is split into nested Collections."""
IMAGE_MAX_AGE = 300


# -- responses ----------------------------------------------------------------------------------

def iiif_response(body: str | bytes, last_modified: str | None, ld_type: str = IIIF_JSON,
                  digest: str | None = None) -> Response:
    """JSON-LD with the IIIF profile (plain JSON when the client prefers it), conditional on ETag/date."""
    environ = request.environ
    plain = bool(environ.get("HTTP_ACCEPT")) and request.accept_mimetypes.best_match(
        ["application/ld+json", "application/json"]) == "application/json"
    headers = [("ETag", f'"{digest or body_digest(body)}{"-json" if plain else ""}"'), ("Vary", "Accept")]
    if last_modified:
        headers.append(("Last-Modified", _http_date(last_modified)))
    response = Response(body, content_type="application/json" if plain else ld_type, headers=headers)
    if any(name in environ for name in CONDITIONAL):  # werkzeug's full path only when it can matter
        return response.make_conditional(request)
    return response


CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE",
               "HTTP_IF_RANGE", "HTTP_RANGE")
"""Request headers that can turn a 200 into a 304, 206 or 412."""


@lru_cache(maxsize=4096)
def _http_date(datestamp: str) -> str:
    return http_date(dt.datetime.strptime(datestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC))


def body_digest(body: str | bytes) -> str:
    return hashlib.blake2b(body.encode() if isinstance(body, str) else body, digest_size=16).hexdigest()


def dump(data: dict) -> bytes:
    """Compact UTF-8 JSON: manifests of long documents are large, and viewers never read the
    whitespace. orjson writes it about ten times faster than `json.dumps`, a first-time manifest's
    largest single cost after the layout."""
    return orjson.dumps(data)


def provider() -> dict:
    config = current_app.config
    return _provider(config["CATALOG_INSTITUTION_NAME"], config["CATALOG_INSTITUTION_URL"] or urls().home())


@lru_cache(maxsize=64)
def _provider(name: str, homepage: str) -> dict:
    return presentation.provider(name, homepage)


def public_record(record_id: str) -> Record:
    """The public record, or 404 (unknown and restricted alike)."""
    record = get_index().record(record_id)
    if record is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    return record


def datestamp(record_id: str) -> str | None:
    return get_index().datestamp(record_id)


# -- manifests and annotations ------------------------------------------------------------------

@blueprint.get("/iiif/<record_id>/manifest")
def manifest(record_id: str) -> Response:
    index = get_index()
    digest = index.content_hash(record_id)
    if digest is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    where, who = urls(), provider()
    stored = representations().get("manifest", record_id, digest, _context(where, who),
                                   lambda: _manifest_body(record_id, where, who),
                                   lambda: _filled_template(index, record_id, digest, where, who))
    return iiif_response(stored.body, datestamp(record_id), digest=stored.digest)


def _manifest_body(record_id: str, where, who: dict) -> bytes:
    """The manifest, built once per record version, base URL and provider."""
    record = public_record(record_id)  # 404 if restricted or removed since its hash was read
    return dump(presentation.manifest(record, where, who))


def _filled_template(index, record_id: str, digest: str, where, who: dict) -> bytes | None:
    """The manifest from the template the index built for this record version, if it keeps one."""
    stored = index.manifest_template(record_id, digest)
    return None if stored is None else templates.fill(stored, where.base, who["label"]["en"][0], who["id"])


def representations() -> Representations:
    return current_app.extensions["manifests.representations"]


def _context(where, who: dict) -> str:
    """What a document depends on besides the record: the base URL and the provider."""
    return _context_of(where.base, who["id"], *who["label"]["en"])


@lru_cache(maxsize=64)
def _context_of(base: str, homepage: str, *names: str) -> str:
    return json.dumps([base, homepage, *names])


@blueprint.get("/iiif/<record_id>/canvas/<int:n>/annotations")
def annotations(record_id: str, n: int) -> Response:
    digest = get_index().content_hash(record_id)
    if digest is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    where = urls()

    def build() -> bytes:
        record = public_record(record_id)
        return dump(presentation.annotation_page(record, where, n, _page(record, n), with_context=True))

    stored = representations().get(f"annotations-{n}", record_id, digest, where.base, build)
    return iiif_response(stored.body, datestamp(record_id), digest=stored.digest)


@blueprint.get("/iiif/<record_id>/transcription.txt")
def transcription(record_id: str) -> Response:
    record = public_record(record_id)
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
    index = get_index()
    body = index.cache.get(("iiif collection", urls()), _collection_of_everything)
    return iiif_response(body, index.last_change())


def _collection_of_everything() -> bytes:
    return dump(top_collection_document(get_index(), urls(), current_app.config["CATALOG_INSTITUTION_NAME"]))


def top_collection_document(index, where, name: str) -> dict:
    """The top Collection: one child Collection per archival collection (also what a static export writes)."""
    found = index.collections()
    total = sum(c["count"] for c in found)
    items = [{"id": where.iiif_collection(c["slug"]), "type": "Collection", "label": presentation.lang(c["name"]),
              "summary": presentation.lang(_collection_summary(c))} for c in found]
    summary = f"{counted(total, 'public document')} in {counted(len(found), 'archival collection')}."
    return presentation.collection(where.iiif_collection(), f"{name}: all collections", summary, items)


def counted(count: int, noun: str) -> str:
    """'1 document', '2 documents', '1,000 documents': a viewer shows the summary as written."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _collection_summary(found: dict) -> str:
    years = f"{found['first_year']}–{found['last_year']}" if found["first_year"] != found["last_year"] \
        else str(found["first_year"])
    return f"{counted(found['count'], 'document')}, {years}; held by {', '.join(found['repositories'])}."


@blueprint.get("/iiif/collection/<slug>")
def archival_collection(slug: str) -> Response:
    return _archival_collection(slug, None)


@blueprint.get("/iiif/collection/<slug>/<int:page>")
def archival_collection_page(slug: str, page: int) -> Response:
    return _archival_collection(slug, page)


def _archival_collection(slug: str, page: int | None) -> Response:
    """One archival collection's manifests in date order; large ones as nested Collections.

    Remembered until the index changes: a collection of a thousand manifests is costly to list."""
    index = get_index()
    body = index.cache.get(("iiif collection", urls(), slug, page), lambda: _archival_body(slug, page))
    return iiif_response(body, index.last_change())


def _archival_body(slug: str, page: int | None) -> bytes:
    return dump(archival_collection_document(get_index(), urls(), slug, page))


def collection_pages(found: dict) -> int:
    """How many nested Collections an archival collection is split into (1: none)."""
    return max(1, -(-found["count"] // COLLECTION_PAGE_SIZE))


def archival_collection_document(index, where, slug: str, page: int | None) -> dict:
    """One archival collection (or one of its nested parts) as a Collection; NotFound if there is none."""
    found = index.collection(slug)
    if found is None:
        raise NotFound(f"There is no collection {slug[:100]!r}.")
    pages = collection_pages(found)
    parent = {"id": where.iiif_collection(), "type": "Collection"}
    if page is None and pages > 1:
        items = [{"id": where.iiif_collection(slug, n), "type": "Collection",
                  "label": presentation.lang(f"{found['name']}, documents {_range(n, found['count'])}")}
                 for n in range(1, pages + 1)]
        return presentation.collection(where.iiif_collection(slug), found["name"], _collection_summary(found),
                                       items, parent)
    if page is not None and not 1 <= page <= pages:
        raise NotFound(f"Collection {slug!r} has {pages} part{'s' if pages != 1 else ''}, not {page}.")
    rows = index.collection_members(found["name"], ((page or 1) - 1) * COLLECTION_PAGE_SIZE, COLLECTION_PAGE_SIZE)
    items = [presentation.manifest_reference(row, where) for row in rows]
    label = found["name"] if page is None else f"{found['name']}, documents {_range(page, found['count'])}"
    part_of = parent if page is None else {"id": where.iiif_collection(slug), "type": "Collection"}
    return presentation.collection(where.iiif_collection(slug, page), label, _collection_summary(found), items,
                                   part_of)


def _range(page: int, total: int) -> str:
    first = (page - 1) * COLLECTION_PAGE_SIZE + 1
    return f"{first:,}–{min(total, page * COLLECTION_PAGE_SIZE):,}"


# -- page images (Image API 3.0, level 1) --------------------------------------------------------

@blueprint.get("/iiif/image/<record_id>/<int:n>")
def image_base(record_id: str, n: int) -> Response:
    record = public_record(record_id)
    _page(record, n)
    return redirect(urls().image_info(record.id, n), 303)


@blueprint.get("/iiif/image/<record_id>/<int:n>/info.json")
def image_info(record_id: str, n: int) -> Response:
    record = public_record(record_id)
    width, height = presentation.typescript.page_size(_page(record, n).text)
    body = images.info(urls().image_service(record.id, n), width, height)
    return iiif_response(dump(body), datestamp(record.id), IMAGE_JSON)


@blueprint.get("/iiif/image/<record_id>/<int:n>/<region>/<size>/<rotation>/<quality>.<fmt>")
def image(record_id: str, n: int, region: str, size: str, rotation: str, quality: str, fmt: str) -> Response:
    """The page image: a file send from the disk cache for a size info.json lists; drawn in memory for
    any other request, and when it cannot be cached (a full or read-only disk must not cost the viewer
    its image); 503 with Retry-After only when it cannot even be rendered for lack of resources."""
    index = get_index()
    digest = index.content_hash(record_id)
    if digest is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    key = ("page image", record_id, digest, n, region, size, rotation, quality, fmt)
    try:
        path = index.cache.get(key, lambda: _draw(record_id, digest, n, region, size, rotation, quality, fmt),
                               per_record=True)
        if not images.is_cached(path):  # the image folder was cleared: draw it again
            path = _draw(record_id, digest, n, region, size, rotation, quality, fmt)
        response = _file_response(path, images.FORMATS[fmt][1])
    except images.ImageInMemory as drawn:
        etag = hashlib.blake2b(drawn.data, digest_size=16).hexdigest()
        response = send_file(io.BytesIO(drawn.data), mimetype=images.FORMATS[fmt][1], conditional=True,
                             max_age=IMAGE_MAX_AGE, etag=etag)
    except images.RenderUnavailable as error:
        images.log.error("page image %s unavailable (503): %s", request.path, error)
        response = json_error(503, "The page image cannot be rendered right now; try again shortly.")
        response.headers["Retry-After"] = str(images.RETRY_AFTER)
        return response
    response.headers["Link"] = f'<{images.PROFILE_URI}>;rel="profile"'
    return response


def _file_response(path: Path, mimetype: str) -> Response:
    """A cached image file, as `send_file` sends it (Content-Length, Last-Modified, ETag, Cache-Control,
    Accept-Ranges; the server's sendfile through `wsgi.file_wrapper`), with werkzeug's conditional
    and range handling only when the request asks for them: a warm image is most of a viewer's
    requests, and `send_file` spent more on its headers than on the file."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by the server once sent
    try:
        stat = os.fstat(handle.fileno())
    except OSError:
        handle.close()
        raise
    headers = [("Content-Length", str(stat.st_size)), ("Accept-Ranges", "bytes"),
               ("ETag", f'"{stat.st_mtime}-{stat.st_size}-{zlib.adler32(str(path).encode())}"'),
               ("Last-Modified", http_date(stat.st_mtime)), ("Cache-Control", f"public, max-age={IMAGE_MAX_AGE}")]
    response = Response(wrap_file(request.environ, handle), mimetype=mimetype, headers=headers,
                        direct_passthrough=True)
    if any(name in request.environ for name in CONDITIONAL):
        return response.make_conditional(request, accept_ranges=True, complete_length=stat.st_size)
    return response


def _draw(record_id: str, digest: str, n: int, region: str, size: str, rotation: str, quality: str,
          fmt: str) -> Path:
    """The image file for this request of this record version, checked and drawn if need be
    (`images.ImageInMemory` carries the bytes of an image not kept on disk)."""
    record = public_record(record_id)
    text = _page(record, n).text
    wanted = images.parse_request(region, size, rotation, quality, fmt, *presentation.typescript.page_size(text))
    folder = Path(current_app.config["CATALOG_INSTANCE_DIR"]) / "iiif-images"
    return images.page_image(folder, record.id, digest, n, text, wanted)
