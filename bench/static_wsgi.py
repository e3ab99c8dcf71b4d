"""The static-file fallback when nginx is absent: each file under $BENCH_STATIC_ROOT read once
into memory, then returned as is (the cheapest a Python server can do; nginx does much better)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", ".")).resolve()
TYPES = {".json": "application/json", ".xml": "text/xml", ".png": "image/png"}
_files: dict[str, tuple[bytes, str]] = {}


def _read(path_info: str) -> tuple[bytes, str] | None:
    path = (ROOT / path_info.lstrip("/")).resolve()
    if not path.is_relative_to(ROOT) or not path.is_file():
        return None
    found = _files[path_info] = (path.read_bytes(), TYPES.get(path.suffix, "text/plain"))
    return found


def app(environ, start_response):
    path_info = environ.get("PATH_INFO", "/")
    found = _files.get(path_info) or _read(path_info)
    if found is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    body, kind = found
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
    return [body]
