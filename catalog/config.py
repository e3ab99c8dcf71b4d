"""Every setting, its default and what it is for, in one place.

Each setting can be given as an environment variable `CATALOG_<NAME>` (values that parse as JSON,
such as numbers, are read as JSON) or in the mapping passed to `create_app`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SETTINGS: dict[str, tuple[object, str]] = {
    "RECORDS_DIR": (str(PROJECT_ROOT / "records"), "Folder of record files (*.json); the server never writes to it."),
    "INSTANCE_DIR": (str(PROJECT_ROOT / "instance"), "Folder for the embedded index and caches."),
    "BASE_URL": ("", "Public base URL for absolute links (e.g. https://catalog.example.org); empty: from the request."),
    "REFRESH_INTERVAL": (1.0, "Seconds between checks of the records folder for added, changed or removed files."),
    "PER_PAGE": (20, "Default page size of lists."),
    "MAX_PER_PAGE": (100, "Largest page size a client may ask for."),
    "INSTITUTION_NAME": ("Archival Catalog", "The institution named as IIIF provider and OAI-PMH repository."),
    "INSTITUTION_URL": ("", "Homepage of the institution; empty: the catalog's own home page."),
    "ADMIN_EMAIL": ("catalog@example.org", "Contact address given in OAI-PMH Identify."),
    "OAI_REPOSITORY_IDENTIFIER": ("catalog.example.org", "Domain-form namespace of OAI identifiers."),
    "OAI_REPOSITORY_NAME": ("Archival Catalog", "repositoryName in OAI-PMH Identify."),
    "OAI_PAGE_SIZE": (100, "Records or headers per OAI-PMH list response."),
    "VIEWER_DIR": (str(PROJECT_ROOT / "node_modules" / "mirador" / "dist"), "Where mirador.min.js is installed."),
}


def defaults() -> dict[str, object]:
    """The default configuration, keyed as the app sees it (`CATALOG_<NAME>`)."""
    return {f"CATALOG_{name}": value for name, (value, _help) in SETTINGS.items()}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, object]:
    """Settings given as `CATALOG_*` environment variables."""
    environ = os.environ if environ is None else environ
    found = {}
    for key in defaults():
        if key in environ:
            try:
                found[key] = json.loads(environ[key])
            except ValueError:
                found[key] = environ[key]
    return found
