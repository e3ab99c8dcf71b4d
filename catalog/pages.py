"""Catalog pages for people: browse and search, records, collections, sitemaps; each with a JSON twin.

Thin views: `catalog.browse` and `catalog.record_view` build the data, `catalog.search` runs the
SQL, templates in `catalog/templates/pages/` lay it out. The same dict is rendered as HTML or, for
`<url>.json` and `?format=json`, returned as JSON with absolute links.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import render_template
from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound

from catalog import browse
from catalog import citations
from catalog import facts
from catalog import record_view
from catalog import search
from catalog import sitemap
from catalog import transcription
from catalog.http import absolute
from catalog.http import base_url
from catalog.http import get_store
from catalog.http import json_error
from catalog.http import json_response
from catalog.http import page_args
from catalog.model import slugify

try:
    from manifests.viewer import viewer_installed
except ImportError:  # the IIIF viewer is optional; record pages then link the manifest only
    viewer_installed = None

blueprint = Blueprint("pages", __name__)

MAX_QUERY_STRING = 4096


@blueprint.record_once
def _register_error_pages(state) -> None:
    state.app.extensions["html_error"] = error_page


@blueprint.before_request
def _limit_query_string() -> None:
    if len(request.query_string) > MAX_QUERY_STRING:
        raise BadRequest(f"The query string is too long ({len(request.query_string):,} bytes; "
                         f"at most {MAX_QUERY_STRING:,}).")
    fmt = request.args.get("format")
    if fmt not in (None, "html", "json"):
        raise BadRequest(f"Unknown format {fmt[:40]!r}. Allowed: html, json.")


def wants_json() -> bool:
    return request.path.endswith(".json") or request.args.get("format") == "json"


def respond(template: str, data: dict, status: int = 200, **html_only) -> Response:
    """The page as HTML, or its JSON twin with absolute links."""
    if wants_json():
        return json_response(absolute_links(data), status)
    return Response(render_template(template, data=data, **html_only), status, mimetype="text/html")


def absolute_links(data):
    """A copy of `data` with every site-relative link ("/...") made absolute; Markup left out."""
    if isinstance(data, dict):
        return {key: absolute(value) if isinstance(value, str) and value.startswith("/") and _is_link(key)
                else absolute_links(value) for key, value in data.items() if not key.endswith("_html")}
    if isinstance(data, list):
        return [absolute_links(value) for value in data]
    return data


def _is_link(key: str) -> bool:
    return key == "url" or key.endswith("_url") or key in LINK_KEYS


LINK_KEYS = {"self", "html", "json", "api", "oai", "bibtex", "csl_json", "collection", "manifest", "viewer",
             "next", "prev", "browse"}


# -- browse and search -----------------------------------------------------------------------

@blueprint.get("/")
def index() -> Response:
    return _browse("/")


@blueprint.get("/search")
def search_page() -> Response:
    return _browse("/search")


blueprint.add_url_rule("/index.json", "index_json", index)
blueprint.add_url_rule("/search.json", "search_json", search_page)


def _browse(path: str) -> Response:
    """Browse and search pages, remembered per URL until the index changes (the home page and
    popular searches are asked for again and again; rendering is most of their cost)."""
    key = ("browse response", request.full_path, base_url(), wants_json())
    body, status, mimetype = search.cached(get_store().db, key, lambda: _frozen(_render_browse(path)))
    return Response(body, status, mimetype=mimetype)


def _frozen(response: Response) -> tuple[bytes, int, str]:
    return response.get_data(), response.status_code, response.mimetype


def _render_browse(path: str) -> Response:
    page, per_page = page_args()
    req = browse.parse_request(request.args, path, page, per_page)
    data = browse.browse_data(get_store(), req)
    pages = data["pagination"]["pages"]
    if page > pages:
        raise NotFound(f"There is no page {page}: the results fill {pages} page{'s' if pages != 1 else ''}.")
    data["links"]["json"] = req.url(path=path.rstrip("/") + ("/index.json" if path == "/" else ".json"),
                                    page=page)
    return respond("pages/browse.html", data, chart=browse.chart_geometry(data["years"]), req=req)


# -- records ---------------------------------------------------------------------------------

@blueprint.get("/records/<record_id>")
def record(record_id: str) -> Response:
    found = _record_or_404(record_id)
    data, extras = _record_data(found)
    return respond("pages/record.html", data, **extras)


@blueprint.get("/records/<record_id>.json")
def record_json(record_id: str) -> Response:
    return record(record_id)


@blueprint.get("/records/<record_id>.bib")
def record_bibtex(record_id: str) -> Response:
    found = _record_or_404(record_id)
    body = citations.bibtex(found, absolute(f"/records/{found.id}"))
    return Response(body, mimetype="application/x-bibtex",
                    headers={"Content-Disposition": f'attachment; filename="{found.id}.bib"'})


@blueprint.get("/records/<record_id>.csl.json")
def record_csl(record_id: str) -> Response:
    found = _record_or_404(record_id)
    response = json_response(citations.csl_json(found, absolute(f"/records/{found.id}")),
                             mimetype="application/vnd.citationstyles.csl+json")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.id}.csl.json"'
    return response


def _record_or_404(record_id: str):
    found = get_store().get(record_id)
    if found is None:
        raise NotFound(f"There is no record with the id “{record_id[:100]}”.")
    return found


class RecordLinks:
    """Links from a record page to the catalog filtered by one of its facts."""

    def __init__(self, collection_url: str):
        self.collection = collection_url

    @staticmethod
    def facet(name: str, value: str) -> str:
        return browse.BrowseRequest(path="/", selected=[(name, value)],
                                    per_page=current_app.config["CATALOG_PER_PAGE"]).url()

    @staticmethod
    def search(q: str) -> str:
        return browse.BrowseRequest(path="/search", q=q, sort="relevance",
                                    per_page=current_app.config["CATALOG_PER_PAGE"]).url()


def _record_data(found) -> tuple[dict, dict]:
    """The record page's data (the JSON twin) and what only the HTML needs (rendered text, JSON-LD)."""
    rid = found.id
    url = absolute(f"/records/{rid}")
    collection_url = f"/collections/{slugify(found.provenance.collection.name)}"
    links = RecordLinks(collection_url)
    identifier = f"oai:{current_app.config['CATALOG_OAI_REPOSITORY_IDENTIFIER']}:{rid}"
    link_map = {"self": f"/records/{rid}", "json": f"/records/{rid}.json", "api": f"/api/records/{rid}",
                "oai": f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={identifier}",
                "bibtex": f"/records/{rid}.bib", "csl_json": f"/records/{rid}.csl.json", "collection": collection_url}
    if "iiif.manifest" in current_app.view_functions:
        link_map["manifest"] = f"/iiif/{rid}/manifest"
    if viewer_installed is not None and viewer_installed(current_app):
        link_map["viewer"] = f"/iiif/{rid}/viewer"
    parts, notes = transcription.render(found)
    note_runs = citations.chicago_note(found, url)
    bibliography_runs = citations.chicago_bibliography(found, url)
    data = {
        "id": rid,
        "title": found.title,
        "document_type": found.document_type,
        "language": found.language,
        "date": {"iso": found.date.date.isoformat(), "display": facts.cited_date(found.date),
                 "as_printed": found.date.as_printed},
        "classification": {"level": found.provenance.classification.level,
                           "as_marked": found.provenance.classification.as_marked,
                           "url": links.facet("classification", found.provenance.classification.level)},
        "collection": found.provenance.collection.name,
        "repository": found.provenance.repository.name,
        "file_number": found.provenance.file_number,
        "summary": found.description.summary,
        "summary_source": found.description.summary_source,
        "subjects": found.description.subjects,
        "history": record_view.history(found, links),
        "people": record_view.people(found, links),
        "places": record_view.places(found, links),
        "parts": [{"index": group["index"],
                   "title": group["part"].title if group["part"] else None,
                   "document_type": group["part"].document_type if group["part"] else None,
                   "facts": record_view.part_facts(found, group["index"], links) if group["part"] else [],
                   "pages": group["pages"]} for group in parts],
        "footnotes": notes,
        "corrections": [c.model_dump(exclude_none=True) for c in found.corrections],
        "notes": [n.model_dump() for n in found.description.notes],
        "rights": found.rights.model_dump(exclude_none=True),
        "citation": {"chicago_note": citations.plain(note_runs),
                     "chicago_bibliography": citations.plain(bibliography_runs)},
        "links": link_map,
    }
    manifest = absolute(link_map["manifest"]) if "manifest" in link_map else None
    extras = {"note_runs": note_runs, "bibliography_runs": bibliography_runs,
              "json_ld": record_view.script_json(record_view.json_ld(found, url, absolute(collection_url), manifest))}
    return data, extras


# -- collections -----------------------------------------------------------------------------

@blueprint.get("/collections")
def collections() -> Response:
    items = search.collections(get_store().db)
    data = {"total": len(items), "items": items, "links": {"self": "/collections", "json": "/collections.json"}}
    return respond("pages/collections.html", data)


blueprint.add_url_rule("/collections.json", "collections_json", collections)


@blueprint.get("/collections/<slug>")
def collection(slug: str) -> Response:
    db = get_store().db
    found = next((c for c in search.collections(db) if c["slug"] == slug), None)
    if found is None:
        raise NotFound(f"There is no collection “{slug[:100]}”.")
    page, per_page = page_args()
    req = browse.BrowseRequest(path=f"/collections/{slug}", selected=[("collection", found["name"])],
                               page=page, per_page=per_page)
    result = search.search(db, req.filters, "date", page, per_page)
    pagination = _collection_pages(req, result.total)
    if page > pagination["pages"]:
        raise NotFound(f"There is no page {page}: the collection fills {pagination['pages']} pages.")
    data = {**found, "items": [browse.item(row) for row in result.rows], "pagination": pagination,
            "links": {"self": f"/collections/{slug}", "json": f"/collections/{slug}.json",
                      "browse": RecordLinks.facet("collection", found["name"])}}
    return respond("pages/collection.html", data)


def _collection_pages(req: browse.BrowseRequest, total: int) -> dict:
    """Pagination links for a collection page: only `page` (and `per_page`) in its query string."""
    pages = max(1, -(-total // req.per_page))
    extra = f"per_page={req.per_page}" if req.per_page != current_app.config["CATALOG_PER_PAGE"] else ""

    def url(n: int) -> str:
        query = "&".join(q for q in (f"page={n}" if n != 1 else "", extra) if q)
        return req.path + ("?" + query if query else "")

    window = sorted({1, pages, *range(max(1, req.page - 2), min(pages, req.page + 2) + 1)})
    return {"page": req.page, "pages": pages, "per_page": req.per_page,
            "prev_url": url(req.page - 1) if req.page > 1 else None,
            "next_url": url(req.page + 1) if req.page < pages else None,
            "numbers": [{"number": n, "url": url(n), "current": n == req.page} for n in window]}


@blueprint.get("/collections/<slug>.json")
def collection_json(slug: str) -> Response:
    return collection(slug)


# -- sitemaps and robots -----------------------------------------------------------------------

@blueprint.get("/sitemap.xml")
def sitemap_index() -> Response:
    return Response(sitemap.root(get_store().db, base_url()), mimetype="application/xml")


@blueprint.get("/sitemaps/<int:number>.xml")
def sitemap_part(number: int) -> Response:
    body = sitemap.part(get_store().db, base_url(), number)
    if body is None:
        raise NotFound(f"There is no sitemap {number}.")
    return Response(body, mimetype="application/xml")


@blueprint.get("/robots.txt")
def robots() -> Response:
    body = ("User-agent: *\n"
            "Disallow: /search\n"
            "Disallow: /*?\n"
            "Allow: /\n"
            f"Sitemap: {absolute('/sitemap.xml')}\n")
    return Response(body, mimetype="text/plain")


# -- errors ----------------------------------------------------------------------------------

def error_page(error: HTTPException) -> Response:
    """A page that helps: what went wrong, a search box, the way home (JSON for JSON twins)."""
    status = error.code or 500
    message = error.description or error.name
    if status == 404 and message == NotFound.description:
        message = "There is no page at this address."
    if wants_json():
        return json_error(status, message)
    data = {"status": status, "title": error.name, "message": message}
    response = Response(render_template("pages/error.html", data=data), status, mimetype="text/html")
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
