"""Validate IIIF Presentation 3.0 documents against the official schema in ../shared/iiif.

`iiif_errors(document)` returns the schema errors of one document (an empty list when valid). When
the schema is absent it returns no errors and records a `ConformanceNotChecked` warning, so the
test still runs every assertion about behaviour and leaves out only the schema check.
"""

from __future__ import annotations

import json
from functools import cache

import jsonschema

from tests.conftest import conformance_not_checked
from tests.conftest import shared_artifact

SCHEMA = ("iiif", "iiif_3_0.schema.json")


@cache
def iiif_validator() -> jsonschema.Draft7Validator | None:
    """The official schema's validator (formats checked: navDate needs rfc3339-validator), or None."""
    path = shared_artifact(*SCHEMA)
    if path is None:
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def iiif_errors(document: dict) -> list[str]:
    """Schema errors of a IIIF collection, manifest or annotation page, one line each."""
    validator = iiif_validator()
    if validator is None:
        conformance_not_checked(*SCHEMA)
        return []
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
            for error in validator.iter_errors(document)]
