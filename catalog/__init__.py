"""Archival catalog: records in, catalog pages, JSON API, IIIF and OAI-PMH out.

`create_app` builds the settings and the index, then lets each surface register itself
(`init_app`: its blueprint, its error handling, its capability flags). Surfaces are siblings:
none imports another's views; they meet in `catalog.http` (index, URL builder) and `catalog.facts`.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from flask import Flask
from flask import Response
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from catalog import config
from catalog.http import error_response
from catalog.index import open_index
from catalog.index.api import IndexUnavailable
from catalog.index.refresh import is_corruption
from catalog.index.search import SearchTimeout

CORS_PREFIXES = ("/api/", "/iiif/", "/schemas/", "/oai")
REBUILD_RETRY_SECONDS = 5
DATABASE_RETRY_SECONDS = 10

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
VIEWER_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
              "img-src 'self' data: blob: https: http:; connect-src 'self' https: http:; font-src 'self' data:; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'self'")
"""The viewer page runs Mirador, which injects styles and may load images from remote IIIF services."""


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings from defaults, then `CATALOG_*` variables, then `test_config`."""
    app = Flask(__name__)
    app.config.update(config.defaults())
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    hosts = [h.strip() for h in str(app.config["CATALOG_TRUSTED_HOSTS"]).split(",") if h.strip()]
    if hosts:  # Flask answers 400 for a Host (or trusted X-Forwarded-Host) not in the list
        app.config["TRUSTED_HOSTS"] = hosts
    proxies = int(app.config["CATALOG_TRUSTED_PROXIES"])
    if proxies > 0:  # forwarded headers are believed only from proxies the operator declared
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=proxies, x_host=proxies)
    Path(app.config["CATALOG_INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)

    index = open_index(app.config["CATALOG_RECORDS_DIR"], app.config["CATALOG_INSTANCE_DIR"],
                       refresh_interval=float(app.config["CATALOG_REFRESH_INTERVAL"]),
                       database_url=str(app.config["CATALOG_DATABASE_URL"] or ""),
                       replica_url=str(app.config["CATALOG_DATABASE_REPLICA_URL"] or ""),
                       fulltext=str(app.config["CATALOG_FULLTEXT"]),
                       **({"clock": app.config["CATALOG_CLOCK"]} if "CATALOG_CLOCK" in app.config else {}))
    try:
        index.refresh(unless_scanned_within=1.0 if index.refresh_interval > 0 else 0.0)
    except IndexUnavailable:  # a database that is down: logged by the index; requests answer 503 until it is up
        pass
    app.extensions["catalog.index"] = index
    app.extensions["catalog.capabilities"] = {}

    @app.before_request
    def _keep_index_current() -> None:
        if index.rebuilding() and request.path != "/api/health":
            raise ServiceUnavailable("The index is being rebuilt from the record files; try again in a moment.",
                                     retry_after=REBUILD_RETRY_SECONDS)
        index.keep_current()

    @app.errorhandler(SearchTimeout)
    def _search_too_long(error: SearchTimeout):
        return error_response(ServiceUnavailable("The search took too long; narrow it (more words, a facet, a date "
                                                 "range) and try again.", retry_after=30))

    @app.errorhandler(IndexUnavailable)
    def _index_unavailable(error: IndexUnavailable):
        return error_response(ServiceUnavailable(str(error), retry_after=DATABASE_RETRY_SECONDS))

    @app.errorhandler(sqlite3.DatabaseError)
    def _damaged_index(error: sqlite3.DatabaseError):
        """A corrupted index answers 503 while it is rebuilt in the background; other errors stay 500s."""
        if not is_corruption(error):
            raise error
        threading.Thread(target=index.heal, args=(error,), name="index-heal", daemon=True).start()
        return error_response(ServiceUnavailable("The index is damaged and is being rebuilt from the record "
                                                 "files; try again in a moment.", retry_after=REBUILD_RETRY_SECONDS))

    app.after_request(_headers)

    from catalog import api
    from catalog import oai
    from catalog import pages
    from manifests import init_app as init_iiif

    for surface in (api.init_app, oai.init_app, init_iiif, pages.init_app):
        surface(app)
    app.register_error_handler(HTTPException, error_response)
    return app


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
