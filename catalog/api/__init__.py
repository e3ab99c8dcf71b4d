"""The JSON API: records as stored, a paginated list, health, the published schema, OpenAPI."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import request

from catalog.api.openapi import openapi_document
from catalog.http import capability
from catalog.http import get_index
from catalog.http import handle_errors
from catalog.http import json_error
from catalog.http import json_http_error
from catalog.http import json_response
from catalog.http import page_args
from catalog.http import urls
from catalog.model import record_json_schema
from catalog.oai.dcterms import APPLICATION_SCHEMA as OAI_DCTERMS_XSD
from catalog.query import MAX_QUERY_LENGTH

blueprint = Blueprint("api", __name__)

SUGGESTIONS = 8
MAX_SUGGESTIONS = 20


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    handle_errors(app, ("/api/", "/schemas/"), json_http_error)
    app.extensions["catalog.capabilities"]["api"] = True


@blueprint.get("/api/records")
def list_records() -> Response:
    index = get_index()
    page, per_page = page_args()
    total = index.count()
    rows = index.summaries((page - 1) * per_page, per_page)
    last_page = max(1, -(-total // per_page))
    links = urls()
    data = {
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": last_page,
        "items": [_summary(row) for row in rows],
        "links": {"self": links.api_records(page, per_page)},
    }
    if page < last_page:
        data["links"]["next"] = links.api_records(page + 1, per_page)
    if page > 1:
        data["links"]["prev"] = links.api_records(min(page - 1, last_page), per_page)
    return json_response(data)


def _summary(row: dict) -> dict:
    return {
        "id": row["id"],
        "title": row["title"],
        "date": row["date"],
        "date_as_printed": row["date_as_printed"],
        "document_type": row["document_type"],
        "creators": row["creators"],
        "recipients": row["recipients"],
        "collection": row["collection"],
        "classification": row["classification"],
        "links": record_links(row["id"]),
    }


def record_links(record_id: str) -> dict[str, str]:
    """Every representation of a record the registered surfaces offer, as absolute URLs."""
    links = urls()
    out = {"self": links.api_record(record_id)}
    if capability("pages"):
        out["page"] = links.record(record_id)
    if capability("iiif"):
        out["manifest"] = links.manifest(record_id)
    return out


@blueprint.get("/api/records/<record_id>")
def get_record(record_id: str) -> Response:
    source = get_index().source(record_id)
    if source is None:
        return json_error(404, f"no record with id {record_id[:100]!r}")
    return Response(source, mimetype="application/json")


@blueprint.get("/api/health")
def health() -> Response:
    index = get_index()
    problems = index.problems()
    faults = index.faults()
    return json_response({
        "status": "ok" if not problems and not faults else "degraded",
        "records": index.count(),
        "bad_files": len(problems),
        "problems": problems,
        "faults": faults,
        "warnings": index.warnings(),
        "last_change": index.last_change(),
    })


@blueprint.get("/api/suggest")
def suggestions() -> Response:
    """What completes the word being typed in the search box: words of public records (each a
    search for the box's text with that word) and headings (each the catalog narrowed to it)."""
    text = request.args.get("q", "")
    if len(text) > MAX_QUERY_LENGTH:
        return json_error(400, f"q is too long ({len(text)} characters; at most {MAX_QUERY_LENGTH})")
    try:
        limit = int(request.args.get("limit", SUGGESTIONS))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_SUGGESTIONS:
        return json_error(400, f"limit must be a whole number from 1 to {MAX_SUGGESTIONS}")
    found = get_index().suggest(text, limit)
    links = urls()
    typed = text[:len(text) - len(text.split()[-1])] if text.split() else ""
    return json_response({  # the typed text is not echoed: a client has it, and a page never repeats it unasked
        "words": [{"word": word, "search": links.search_for(typed + word)} for word in found["words"]],
        "headings": [{"facet": facet, "value": value, "records": n, "browse": links.facet(facet, value)}
                     for facet, value, n in found["headings"]],
    })


@blueprint.get("/api/ping")
def ping() -> Response:
    """A constant response: the benchmark's ceiling for what the server stack can do."""
    return Response(b"pong\n", mimetype="text/plain")


@blueprint.get("/api/openapi.json")
def openapi() -> Response:
    return json_response(openapi_document(urls().base, int(current_app.config["CATALOG_MAX_PER_PAGE"])))


@blueprint.get("/schemas/record.schema.json")
def record_schema() -> Response:
    return json_response(record_json_schema(), mimetype="application/schema+json")


@blueprint.get("/schemas/oai_dcterms.xsd")
def oai_dcterms_schema() -> Response:
    """The application schema that gives DCMI's qualifieddc container the oai_dcterms namespace."""
    return Response(OAI_DCTERMS_XSD.encode(), mimetype="application/xml")
