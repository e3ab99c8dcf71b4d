"""Mirador, served by the catalog itself, on one record's manifest: the viewer works offline.

The bundle comes from npm (`npm install` puts it in `node_modules/mirador/dist/`); without it the
catalog still works and record pages link the manifest instead of embedding the viewer.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import render_template
from flask import send_from_directory
from werkzeug.exceptions import NotFound

from catalog.http import get_index
from catalog.http import urls

blueprint = Blueprint("viewer", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/iiif/viewer/static")

BUNDLE = "mirador.min.js"


def viewer_installed(app: Flask) -> bool:
    return (Path(app.config["CATALOG_VIEWER_DIR"]) / BUNDLE).is_file()


@blueprint.get("/iiif/viewer/mirador.min.js")
def bundle() -> Response:
    if not viewer_installed(current_app):
        raise NotFound("The Mirador bundle is not installed (run `npm install`).")
    return send_from_directory(current_app.config["CATALOG_VIEWER_DIR"], BUNDLE, max_age=86400)


@blueprint.get("/iiif/<record_id>/viewer")
def viewer(record_id: str) -> str:
    record = get_index().record(record_id)
    if record is None:
        raise NotFound(f"There is no public record with the id {record_id[:100]!r}.")
    if not viewer_installed(current_app):
        raise NotFound("The IIIF viewer is not installed; use the manifest in any IIIF viewer.")
    return render_template("viewer.html", record=record, manifest=urls().manifest(record.id),
                           record_url=urls(absolute=False).record(record.id))
