"""The JSON API: records as stored, a paginated list, health, and the published schema."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import url_for
from werkzeug.exceptions import HTTPException

from catalog.http import absolute
from catalog.http import base_url
from catalog.http import get_store
from catalog.http import json_error
from catalog.http import json_response
from catalog.http import page_args
from catalog.model import record_json_schema
from catalog.openapi import openapi_document
from catalog.store import source_bytes

blueprint = Blueprint("api", __name__)


@blueprint.errorhandler(HTTPException)
def _json_errors(error: HTTPException) -> Response:
    return json_error(error.code or 500, error.description or error.name)


@blueprint.get("/api/records")
def list_records() -> Response:
    store = get_store()
    page, per_page = page_args()
    total = store.count()
    rows = store.list_rows((page - 1) * per_page, per_page)
    last_page = max(1, -(-total // per_page))
    data = {
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": last_page,
        "items": [_summary(row) for row in rows],
        "links": {"self": absolute(url_for(".list_records", page=page, per_page=per_page))},
    }
    if page < last_page:
        data["links"]["next"] = absolute(url_for(".list_records", page=page + 1, per_page=per_page))
    if page > 1:
        data["links"]["prev"] = absolute(url_for(".list_records", page=min(page - 1, last_page), per_page=per_page))
    return json_response(data)


def _summary(row) -> dict:
    return {
        "id": row["id"],
        "title": row["title"],
        "date": row["date"],
        "date_as_printed": row["date_as_printed"],
        "document_type": row["document_type"],
        "creators": json.loads(row["creators"]),
        "recipients": json.loads(row["recipients"]),
        "collection": row["collection"],
        "classification": row["classification"],
        "links": record_links(row["id"]),
    }


def record_links(record_id: str) -> dict[str, str]:
    """Every representation of a record, as absolute URLs."""
    links = {"self": absolute(url_for("api.get_record", record_id=record_id))}
    for name, endpoint in (("page", "pages.record"), ("manifest", "iiif.manifest")):
        if endpoint in current_app.view_functions:
            links[name] = absolute(url_for(endpoint, record_id=record_id))
    return links


@blueprint.get("/api/records/<record_id>")
def get_record(record_id: str) -> Response:
    row = get_store().get_row(record_id)
    if row is None:
        return json_error(404, f"no record with id {record_id[:100]!r}")
    return Response(source_bytes(row), mimetype="application/json")


@blueprint.get("/api/health")
def health() -> Response:
    store = get_store()
    problems = store.problems()
    return json_response({
        "status": "ok" if not problems else "degraded",
        "records": store.count(),
        "bad_files": len(problems),
        "problems": problems,
        "last_change": store.last_change(),
    })


@blueprint.get("/api/ping")
def ping() -> Response:
    """A constant response: the benchmark's ceiling for what the server stack can do."""
    return Response(b"pong\n", mimetype="text/plain")


@blueprint.get("/api/openapi.json")
def openapi() -> Response:
    return json_response(openapi_document(base_url()))


@blueprint.get("/schemas/record.schema.json")
def record_schema() -> Response:
    return json_response(record_json_schema(), mimetype="application/schema+json")
