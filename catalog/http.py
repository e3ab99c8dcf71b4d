"""Helpers every blueprint shares: the store, absolute URLs, argument parsing, JSON errors."""

from __future__ import annotations

import json

from flask import Response
from flask import current_app
from flask import request
from werkzeug.exceptions import BadRequest

from catalog.store import Store


def get_store() -> Store:
    return current_app.extensions["store"]


def base_url() -> str:
    """Absolute base for links: `CATALOG_BASE_URL`, else the request's (proxy headers honoured)."""
    configured = current_app.config["CATALOG_BASE_URL"]
    return (configured or request.host_url).rstrip("/")


def absolute(path: str) -> str:
    return base_url() + path


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
