"""Helpers every surface shares: the index, the URL builder, argument parsing, JSON responses."""

from __future__ import annotations

import json

from flask import Response
from flask import current_app
from flask import request
from werkzeug.exceptions import BadRequest

from catalog.index.api import CatalogIndex
from catalog.urls import Urls


def get_index() -> CatalogIndex:
    return current_app.extensions["catalog.index"]


def base_url() -> str:
    """Absolute base for links: `CATALOG_BASE_URL`, else the request's (proxy headers as configured)."""
    configured = current_app.config["CATALOG_BASE_URL"]
    return (configured or request.host_url).rstrip("/")


def urls(absolute: bool = True) -> Urls:
    """The URL builder: absolute links (the default), or site-relative ones for HTML pages."""
    return Urls(base_url() if absolute else "", str(current_app.config["CATALOG_OAI_REPOSITORY_IDENTIFIER"]))


def capability(name: str) -> bool:
    """Whether a surface that registered itself offers `name` (e.g. "iiif", "viewer")."""
    return bool(current_app.extensions.get("catalog.capabilities", {}).get(name))


def int_arg(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer query argument, or 400 with a message saying what is allowed."""
    values = request.args.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise BadRequest(f"'{name}' is given more than once")
    raw = values[0]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise BadRequest(f"'{name}' must be a whole number, got {raw[:40]!r}")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and {maximum}" if maximum is not None else ""
        raise BadRequest(f"'{name}' must be between {minimum}{upper}, got {value}")
    return value


def page_args() -> tuple[int, int]:
    """(page, per_page) from the query string, per_page capped by CATALOG_MAX_PER_PAGE."""
    cap = int(current_app.config["CATALOG_MAX_PER_PAGE"])
    per_page = int_arg("per_page", int(current_app.config["CATALOG_PER_PAGE"]), 1, cap)
    page = int_arg("page", 1, 1, 10**6)
    return page, per_page


def json_response(data, status: int = 200, mimetype: str = "application/json") -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(body + "\n", status=status, mimetype=mimetype)


def json_error(status: int, message: str) -> Response:
    return json_response({"error": {"status": status, "message": message}}, status)


def json_http_error(error) -> Response:
    """An HTTP error as the JSON body machine clients read (its headers, such as Allow and
    Retry-After, are added by `error_response`)."""
    return json_error(error.code or 500, error.description or error.name)


def handle_errors(app, prefixes: tuple[str, ...], handler) -> None:
    """A surface answers HTTP errors for the paths under its prefixes (first registered wins)."""
    app.extensions.setdefault("catalog.error_handlers", []).append((prefixes, handler))


def error_response(error):
    """The app's one HTTP error handler: the surface that owns the path formats the error."""
    for prefixes, handler in current_app.extensions.get("catalog.error_handlers", []):
        if request.path.startswith(prefixes):
            response = handler(error)
            for name, value in error.get_headers():  # Retry-After, Allow...: the error's own headers
                if name.lower() != "content-type":
                    response.headers.setdefault(name, value)
            return response
    return error
