"""/collections/<slug>.ead.xml: a collection's EAD3 finding aid, for finding-aid networks.

Built from the index's public records only (a restricted record is never a member), in date order,
and remembered until the index changes. An unknown collection, or one left with no public record, is 404.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import Response
from werkzeug.exceptions import NotFound

from catalog.http import get_index
from catalog.http import urls
from catalog.oai import ead

blueprint = Blueprint("finding_aid", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions["catalog.capabilities"]["finding_aid"] = True


@blueprint.get("/collections/<slug>.ead.xml")
def finding_aid(slug: str) -> Response:
    index = get_index()
    links = urls()
    body = index.cache.get(("ead finding aid", slug, links.base), lambda: _body(slug))
    if body is None:
        raise NotFound(f"There is no collection “{slug[:100]}”.")
    return Response(body, mimetype="application/xml")


def _body(slug: str) -> bytes | None:
    index = get_index()
    found = index.collection(slug)
    if found is None:
        return None
    members = index.collection_members(found["name"], 0, max(1, found["count"]))
    records = [record for record in (index.record(row["id"]) for row in members) if record is not None]
    if not records:
        return None
    return ead.to_bytes(ead.finding_aid(found["name"], records, urls()))
