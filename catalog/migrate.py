"""`catalog migrate`: bring record files written for an older schema to the current one.

A dry run by default: the report and a unified diff of every file that would change, nothing
written. With `--write`, each changed file is replaced atomically, and only when the migrated
record validates: a migration never leaves a broken file. Migrations are pure functions of the
record's JSON, so running them twice changes nothing the second time.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from pathlib import Path

from catalog.validation import check_bytes


class CannotMigrate(ValueError):
    """What a record lacks for a migration, which only the cataloger can supply."""


def _dates(record: dict):
    yield from record.get("dates", [])
    for part in record.get("parts") or []:
        yield from part.get("dates", [])


def certainty_from_approximate(record: dict) -> None:
    """1.0 → 1.1: `approximate: true` becomes `certainty: "approximate"` in its place; the flag is dropped."""
    for date in _dates(record):
        if "approximate" not in date:
            continue
        items = []
        for key, value in date.items():
            if key != "approximate":
                items.append((key, value))
            elif value and "certainty" not in date:
                items.append(("certainty", "approximate"))
        date.clear()
        date.update(items)


def _pages(record: dict):
    yield from record.get("pages") or []
    for part in record.get("parts") or []:
        yield from part.get("pages") or []


def image_service_described(record: dict) -> None:
    """1.1 → 1.2: a page's `image_service` URL becomes the service described (id, type, profile, size).
    The catalog used to declare every scan service `ImageService3` at `level0` and took the page's
    `width` and `height` for its size, so those are what the record said; with no size given the record
    said nothing, and the page is left for the cataloger (the migration refuses rather than invent one)."""
    for page in _pages(record):
        service = page.get("image_service")
        if not isinstance(service, str):
            continue
        if not page.get("width") or not page.get("height"):
            raise CannotMigrate(f"page {page.get('label')!r}: its image_service has no width and height; "
                                "give the service as its info.json describes it (id, type, profile, width, height)")
        described = {"id": service, "type": "ImageService3", "profile": "level0",
                     "width": page["width"], "height": page["height"]}
        items = [(k, described if k == "image_service" else v) for k, v in page.items()
                 if not (k in ("width", "height") and not page.get("image_url"))]
        page.clear()
        page.update(items)


MIGRATIONS = (certainty_from_approximate, image_service_described)


def migrate(record: dict) -> dict:
    """The record as the current schema writes it (a new dict; the argument is not changed)."""
    out = copy.deepcopy(record)
    for step in MIGRATIONS:
        step(out)
    return out


def render(record: dict) -> str:
    """Records are written as the catalogers write them: 2-space indent, characters kept as they are."""
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def migrate_file(path: Path, write: bool) -> tuple[str, str]:
    """(status, diff) for one file: 'unchanged', 'migrated' (or 'would migrate'), or 'refused: ...'."""
    original = path.read_text(encoding="utf-8")
    try:
        data = json.loads(original)
    except ValueError as error:
        return f"refused: not JSON ({error})", ""
    try:
        text = render(migrate(data))
    except CannotMigrate as lacking:
        return f"refused: {lacking}", ""
    if json.loads(text) == data:
        return "unchanged", ""
    _record, problems = check_bytes(text.encode("utf-8"), str(path))
    if problems:
        return f"refused: the migrated record would not validate ({problems[0]})", ""
    diff = "".join(difflib.unified_diff(original.splitlines(keepends=True), text.splitlines(keepends=True),
                                        f"{path} (now)", f"{path} (migrated)"))
    if not write:
        return "would migrate", diff
    temporary = path.with_name(f".{path.name}.migrating")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return "migrated", diff
