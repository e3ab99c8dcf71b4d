"""Validate MODS, MARCXML and qualified DC, alone or inside an OAI-PMH response, with `xmlschema`.

The official schemas are read from ../shared/formats and ../shared/oai (never copied, never fetched:
`allow="local"` refuses any remote location). libxml2 rejects MODS 3.8 itself, so these use
`xmlschema`. qualifieddc.xsd has no target namespace: like any application of it, the test gives its
container ours by a chameleon include, written to a temporary folder. When ../shared is absent,
`format_errors`/`envelope_errors` return no errors and record a `ConformanceNotChecked` warning.
"""

from __future__ import annotations

import io
import tempfile
from functools import cache
from pathlib import Path

import xmlschema

from catalog.oai.dcterms import APPLICATION_SCHEMA
from catalog.oai.dcterms import OAI_DCTERMS_NS
from catalog.oai.marcxml import MARC_NS
from catalog.oai.mods import MODS_NS
from catalog.oai.xml import OAI_NS
from tests.conftest import conformance_not_checked
from tests.conftest import shared_artifact

SCHEMAS = {"mods": ("formats", "mods-3-8.xsd"), "marc21": ("formats", "MARC21slim.xsd"),
           "oai_dcterms": ("formats", "qualifieddc.xsd")}
NAMESPACES = {"mods": MODS_NS, "marc21": MARC_NS, "oai_dcterms": OAI_DCTERMS_NS}
ENVELOPE = ("oai", "OAI-PMH.xsd")

DCMI_QUALIFIED_DC = "http://dublincore.org/schemas/xmls/qdc/2008/02/11/qualifieddc.xsd"
"""Where the published application schema includes DCMI's container from."""


@cache
def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="format-schemas-"))


def _schema_file(prefix: str, path: Path) -> Path:
    """The file that declares the format's namespace: the official one, or for oai_dcterms the
    application schema the catalog publishes, its include of DCMI's schema pointed at the local copy."""
    if prefix != "oai_dcterms":
        return path
    published = APPLICATION_SCHEMA.replace(DCMI_QUALIFIED_DC, path.as_uri())
    assert published != APPLICATION_SCHEMA and OAI_DCTERMS_NS in published
    wrapper = _folder() / "oai_dcterms.xsd"
    wrapper.write_text(published, encoding="utf-8")
    return wrapper


@cache
def format_schema(prefix: str) -> xmlschema.XMLSchema | None:
    path = shared_artifact(*SCHEMAS[prefix])
    if path is None:
        return None
    return xmlschema.XMLSchema(str(_schema_file(prefix, path)), allow="local")


@cache
def envelope_schema(prefix: str) -> xmlschema.XMLSchema | None:
    """OAI-PMH.xsd with the format's schema loaded, so the strict `<metadata>` wildcard checks the payload."""
    envelope, path = shared_artifact(*ENVELOPE), shared_artifact(*SCHEMAS[prefix])
    if envelope is None or path is None:
        return None
    driver = _folder() / f"oai-{prefix}.xsd"
    driver.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="{OAI_NS}" schemaLocation="{envelope.as_uri()}"/>'
        f'<xs:import namespace="{NAMESPACES[prefix]}" schemaLocation="{_schema_file(prefix, path).as_uri()}"/>'
        '</xs:schema>', encoding="utf-8")
    return xmlschema.XMLSchema(str(driver), allow="local")


def _errors(schema: xmlschema.XMLSchema | None, xml: bytes, *artifact: str) -> list[str]:
    if schema is None:
        conformance_not_checked(*artifact)
        return []
    return [f"{error.path}: {error.reason}" for error in schema.iter_errors(io.BytesIO(xml))][:5]


def format_errors(prefix: str, xml: bytes) -> list[str]:
    """Schema errors of one standalone document in `prefix` (an empty list when valid)."""
    return _errors(format_schema(prefix), xml, *SCHEMAS[prefix])


def envelope_errors(prefix: str, xml: bytes) -> list[str]:
    """Schema errors of an OAI-PMH response whose metadata is in `prefix` (an empty list when valid)."""
    return _errors(envelope_schema(prefix), xml, *ENVELOPE)
