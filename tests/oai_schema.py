"""Validate OAI-PMH responses against the official schemas in ../shared/oai (reusable helper).

`oai_errors(xml_bytes)` returns the schema errors of one response (an empty list when valid). The
validator is loaded from `shared_path("oai", "validate.py")`, so a test using it skips with a
reason when the shared artifacts are absent; nothing is copied into the project.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType

from tests.conftest import shared_path


@cache
def _validator() -> ModuleType:
    path = shared_path("oai", "validate.py")
    spec = importlib.util.spec_from_file_location("shared_oai_validate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def oai_errors(xml: bytes) -> list[str]:
    """Schema errors of an OAI-PMH response (or of a standalone oai_dc:dc document)."""
    return _validator().validate_bytes(xml)
