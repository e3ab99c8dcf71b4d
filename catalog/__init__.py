"""Archival catalog: records in, catalog pages, JSON API, IIIF and OAI-PMH out."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from catalog import config
from catalog.http import json_error
from catalog.store import Store

CORS_PREFIXES = ("/api/", "/iiif/", "/schemas/", "/oai")

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
VIEWER_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data: blob: https: http:; connect-src 'self' https: http:; font-src 'self' data:; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'self'")
"""The viewer page runs Mirador, which injects styles and may load images from remote IIIF services."""


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings from defaults, then `CATALOG_*` variables, then `test_config`."""
    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)
    app.config.update(config.defaults())
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    Path(app.config["CATALOG_INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)

    store = Store(app.config["CATALOG_RECORDS_DIR"], app.config["CATALOG_INSTANCE_DIR"],
                  refresh_interval=float(app.config["CATALOG_REFRESH_INTERVAL"]))
    store.refresh(unless_scanned_within=1.0 if store.refresh_interval > 0 else 0.0)
    app.extensions["store"] = store

    @app.before_request
    def _keep_index_current() -> None:
        store.keep_current()

    @app.after_request
    def _headers(response: Response) -> Response:
        if request.path.startswith(CORS_PREFIXES):
            response.headers["Access-Control-Allow-Origin"] = "*"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                    "Access-Control-Request-Headers", "Accept")
                response.headers["Access-Control-Max-Age"] = "86400"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if response.mimetype == "text/html":
            viewer = request.path.startswith("/iiif/") and request.path.endswith("/viewer")
            response.headers.setdefault("Content-Security-Policy", VIEWER_CSP if viewer else PAGE_CSP)
        return response

    from catalog import api
    from catalog import oai
    from catalog import pages
    from manifests import iiif
    from manifests import viewer

    for blueprint in (api.blueprint, pages.blueprint, iiif.blueprint, viewer.blueprint, oai.blueprint):
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, _error_response)
    return app


def _error_response(error: HTTPException) -> Response:
    """JSON errors for machine endpoints; the catalog pages answer in HTML where they exist."""
    if request.path.startswith(CORS_PREFIXES[:-1]):
        return json_error(error.code or 500, error.description or error.name)
    renderer = current_app.extensions.get("html_error")
    return renderer(error) if renderer else error
