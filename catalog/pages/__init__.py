"""Catalog pages for people: browse and search, records, collections, sitemaps; each with a JSON twin.

Thin views: `browse` and `record` build the data from the index's read API and the record facts,
templates in `catalog/templates/pages/` lay it out. The same dict is rendered as HTML (links
relative to the site) or, for `<url>.json` and `?format=json`, returned as JSON (links absolute):
the URL builder is chosen once per request, so no link is guessed afterwards.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import render_template
from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound

from catalog import citations
from catalog import facts
from catalog.http import capability
from catalog.http import get_index
from catalog.http import handle_errors
from catalog.http import json_error
from catalog.http import json_response
from catalog.http import page_args
from catalog.http import urls
from catalog.pages import browse
from catalog.pages import finding_aid
from catalog.pages import people
from catalog.pages import record as record_view
from catalog.pages import record_formats
from catalog.pages import sitemap
from catalog.pages import transcription
from catalog.urls import Urls

blueprint = Blueprint("pages", __name__)

MAX_QUERY_STRING = 4096


def init_app(app: Flask) -> None:
    """Register the pages, HTML error pages for every path no other surface owns, and `urls` for templates."""
    app.register_blueprint(blueprint)
    app.register_blueprint(people.blueprint)
    finding_aid.init_app(app)
    record_formats.init_app(app)
    handle_errors(app, ("",), error_page)
    app.extensions["catalog.capabilities"]["pages"] = True

    @app.context_processor
    def _url_builder() -> dict:
        return {"urls": urls(absolute=False)}


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


def links() -> Urls:
    """Links for this response: site-relative in HTML, absolute in a JSON twin."""
    return urls(absolute=wants_json())


def respond(template: str, data: dict, status: int = 200, **html_only) -> Response:
    """The page as HTML, or its JSON twin (everything but the `*_html` renderings)."""
    if wants_json():
        return json_response(_without_html(data), status)
    return Response(render_template(template, data=data, **html_only), status, mimetype="text/html")


def _without_html(data):
    if isinstance(data, dict):
        return {key: _without_html(value) for key, value in data.items() if not key.endswith("_html")}
    if isinstance(data, list):
        return [_without_html(value) for value in data]
    return data


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
    popular searches are asked for again and again; rendering is most of their cost). A search
    that runs past its deadline answers 503 with Retry-After, in HTML or JSON."""
    key = ("browse response", request.full_path, links())
    try:
        body, status, mimetype = get_index().cache.get(key, lambda: _frozen(_render_browse(path)))
    except browse.SearchTimeout:  # past the deadline: a 503 that says what to do (and is not remembered)
        raise browse.too_long() from None
    return Response(body, status, mimetype=mimetype)


def _frozen(response: Response) -> tuple[bytes, int, str]:
    return response.get_data(), response.status_code, response.mimetype


def _render_browse(path: str) -> Response:
    page, per_page = page_args()
    here = links()
    req = browse.parse_request(request.args, path, page, per_page, here.base)
    data = browse.browse_data(get_index(), req, here)
    pages = data["pagination"]["pages"]
    if page > pages:
        raise NotFound(f"There is no page {page}: the results fill {pages} page{'s' if pages != 1 else ''}.")
    data["links"]["json"] = here.browse_path(path, req.pairs(page=page), json=True)
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
    body = citations.bibtex(found, urls().record(found.id))
    return Response(body, mimetype="application/x-bibtex",
                    headers={"Content-Disposition": f'attachment; filename="{found.id}.bib"'})


@blueprint.get("/records/<record_id>.csl.json")
def record_csl(record_id: str) -> Response:
    found = _record_or_404(record_id)
    response = json_response(citations.csl_json(found, urls().record(found.id)),
                             mimetype="application/vnd.citationstyles.csl+json")
    response.headers["Content-Disposition"] = f'attachment; filename="{found.id}.csl.json"'
    return response


def _record_or_404(record_id: str):
    found = get_index().record(record_id)
    if found is None:
        raise NotFound(f"There is no record with the id “{record_id[:100]}”.")
    return found


class RecordLinks:
    """Links from a record page to the catalog filtered by one of its facts."""

    def __init__(self, where: Urls, collection_url: str):
        self.where = where
        self.collection = collection_url

    def facet(self, name: str, value: str) -> str:
        return self.where.facet(name, value)

    def search(self, q: str) -> str:
        return self.where.search_for(q)

    def person(self, slug: str) -> str:
        return self.where.person(slug)


def _record_data(found) -> tuple[dict, dict]:
    """The record page's data (the JSON twin) and what only the HTML needs (rendered text, JSON-LD)."""
    rid = found.id
    where, absolute = links(), urls()
    url = absolute.record(rid)
    collection_url = where.collection(facts.collection_slug(found))
    record_links = RecordLinks(where, collection_url)
    link_map = {"self": where.record(rid), "json": where.record(rid, "json"), "api": where.api_record(rid),
                "oai": where.oai_record(rid), "bibtex": where.record(rid, "bib"),
                "csl_json": where.record(rid, "csl"), "collection": collection_url,
                **{fmt: where.record(rid, fmt) for fmt in ("mods", "marc", "dc", "dcterms")}}
    if capability("iiif"):
        link_map["manifest"] = where.manifest(rid)
    if capability("viewer"):
        link_map["viewer"] = where.viewer(rid)
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
                           "url": record_links.facet("classification", found.provenance.classification.level)},
        "collection": found.provenance.collection.name,
        "repository": found.provenance.repository.name,
        "file_number": found.provenance.file_number,
        "summary": found.description.summary,
        "summary_source": found.description.summary_source,
        "subjects": found.description.subjects,
        "history": record_view.history(found, record_links),
        "people": record_view.people(found, record_links),
        "places": record_view.places(found, record_links),
        "parts": [{"index": group["index"],
                   "title": group["part"].title if group["part"] else None,
                   "document_type": group["part"].document_type if group["part"] else None,
                   "facts": record_view.part_facts(found, group["index"], record_links) if group["part"] else [],
                   "pages": group["pages"]} for group in parts],
        "footnotes": notes,
        "corrections": [c.model_dump(exclude_none=True) for c in found.corrections],
        "notes": [n.model_dump() for n in found.description.notes],
        "relations": record_view.relations(found, where),
        "annotations": [{"kind": a.kind, "text": a.text, "hand": a.hand, "note": a.note,
                         "where": facts.locator_text(a.located_at)} for a in found.annotations],
        "dateline": found.dateline,
        "signature": found.signature,
        "original_language": found.original_language,
        "translation_note": found.translation_note,
        "rights": found.rights.model_dump(exclude_none=True),
        "citation": {"chicago_note": citations.plain(note_runs),
                     "chicago_bibliography": citations.plain(bibliography_runs)},
        "links": link_map,
    }
    manifest = absolute.manifest(rid) if "manifest" in link_map else None
    json_ld = record_view.json_ld(found, url, absolute.collection(facts.collection_slug(found)), manifest)
    extras = {"note_runs": note_runs, "bibliography_runs": bibliography_runs,
              "json_ld": record_view.script_json(json_ld)}
    return data, extras


# -- collections -----------------------------------------------------------------------------

def _with_url(found: dict, where: Urls) -> dict:
    return {**found, "url": where.collection(found["slug"])}


@blueprint.get("/collections")
def collections() -> Response:
    where = links()
    items = [_with_url(c, where) for c in get_index().collections()]
    data = {"total": len(items), "items": items,
            "links": {"self": where.collections(), "json": where.collections(json=True)}}
    return respond("pages/collections.html", data)


blueprint.add_url_rule("/collections.json", "collections_json", collections)


@blueprint.get("/collections/<slug>")
def collection(slug: str) -> Response:
    index = get_index()
    found = index.collection(slug)
    if found is None:
        raise NotFound(f"There is no collection “{slug[:100]}”.")
    where = links()
    page, per_page = page_args()
    req = browse.BrowseRequest(path=f"/collections/{slug}", selected=[("collection", found["name"])],
                               page=page, per_page=per_page)
    result = index.search(req.filters, "date", page, per_page)
    pagination = _collection_pages(where, slug, req, result.total)
    if page > pagination["pages"]:
        raise NotFound(f"There is no page {page}: the collection fills {pagination['pages']} pages.")
    data = {**_with_url(found, where), "items": [browse.item(row, where) for row in result.rows],
            "pagination": pagination,
            "links": {"self": where.collection(slug), "json": where.collection(slug, json=True),
                      "ead": where.finding_aid(slug),
                      "browse": where.facet("collection", found["name"])}}
    return respond("pages/collection.html", data)


def _collection_pages(where: Urls, slug: str, req: browse.BrowseRequest, total: int) -> dict:
    """Pagination links for a collection page: only `page` (and `per_page`) in its query string."""
    pages = max(1, -(-total // req.per_page))
    extra = [("per_page", str(req.per_page))] if req.per_page != current_app.config["CATALOG_PER_PAGE"] else []

    def url(n: int) -> str:
        return where.collection(slug, query=([("page", str(n))] if n != 1 else []) + extra)

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
    return Response(sitemap.root(get_index(), urls()), mimetype="application/xml")


@blueprint.get("/sitemaps/<int:number>.xml")
def sitemap_part(number: int) -> Response:
    body = sitemap.part(get_index(), urls(), number)
    if body is None:
        raise NotFound(f"There is no sitemap {number}.")
    return Response(body, mimetype="application/xml")


@blueprint.get("/robots.txt")
def robots() -> Response:
    body = ("User-agent: *\n"
            "Disallow: /search\n"
            "Disallow: /*?\n"
            "Allow: /\n"
            f"Sitemap: {urls().sitemap()}\n")
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
