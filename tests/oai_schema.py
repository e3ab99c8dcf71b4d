"""Validate OAI-PMH responses against the official schemas in ../shared/oai (reusable helper).

`oai_errors(xml_bytes)` returns the schema errors of one response (an empty list when valid). The
validator is loaded from ../shared/oai/validate.py; nothing is copied into the project. When that
folder is absent, `oai_errors` returns no errors and records a `ConformanceNotChecked` warning, so
the test still runs every assertion about behaviour and leaves out only the schema check.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

from tests.conftest import conformance_not_checked
from tests.conftest import shared_artifact

VALIDATOR = ("oai", "validate.py")


@cache
def _validator() -> ModuleType | None:
    path = shared_artifact(*VALIDATOR)
    if path is None:
        return None
    spec = importlib.util.spec_from_file_location("shared_oai_validate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def oai_errors(xml: bytes) -> list[str]:
    """Schema errors of an OAI-PMH response (or of a standalone oai_dc:dc document)."""
    validator = _validator()
    if validator is None:
        conformance_not_checked(*VALIDATOR)
        return []
    return validator.validate_bytes(xml)
