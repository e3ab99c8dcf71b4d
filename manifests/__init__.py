"""IIIF for the catalog: Presentation 3.0 manifests and collections, page images, the Mirador viewer,
and Change Discovery (what changed, for aggregators)."""

from __future__ import annotations

from flask import Flask

from catalog.http import handle_errors
from catalog.http import json_http_error


def init_app(app: Flask) -> None:
    """Register the IIIF routes, JSON errors under /iiif/, and the `iiif` and `viewer` capabilities."""
    from pathlib import Path

    from manifests import content_search
    from manifests import discovery
    from manifests import iiif
    from manifests import viewer
    from manifests.representations import FOLDER
    from manifests.representations import Representations

    app.extensions["manifests.representations"] = Representations(Path(app.config["CATALOG_INSTANCE_DIR"]) / FOLDER)
    app.register_blueprint(iiif.blueprint)
    app.register_blueprint(discovery.blueprint)
    app.register_blueprint(content_search.blueprint)
    app.register_blueprint(viewer.blueprint)
    handle_errors(app, ("/iiif/",), json_http_error)
    app.extensions["catalog.capabilities"]["iiif"] = True
    app.extensions["catalog.capabilities"]["viewer"] = viewer.viewer_installed(app)
