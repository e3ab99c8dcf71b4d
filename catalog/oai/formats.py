"""The metadata formats the repository disseminates: prefix → schema, namespace and serializer.

The verbs never know a format: ListMetadataFormats lists this registry, GetRecord and ListRecords
ask it for a record's metadata element. A new format is one entry here and one serializer module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from catalog.model import Record
from catalog.oai import dcterms
from catalog.oai import dublin_core
from catalog.oai import ead
from catalog.oai import marcxml
from catalog.oai import mods
from catalog.urls import Urls


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    """The schema's URL, or the name of one the catalog publishes under /schemas/."""
    namespace: str
    serialize: Callable[[Record, Urls], etree._Element]
    """The record's metadata as one element that validates against `schema` on its own."""

    def schema_url(self, urls: Urls) -> str:
        return self.schema if self.schema.startswith(("http://", "https://")) else urls.published_schema(self.schema)


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", dublin_core.OAI_DC_SCHEMA, dublin_core.OAI_DC_NS, dublin_core.dc_xml),
    "oai_dcterms": MetadataFormat("oai_dcterms", dcterms.SCHEMA_NAME, dcterms.OAI_DCTERMS_NS,
                                  dcterms.dcterms_xml),
    "mods": MetadataFormat("mods", mods.MODS_SCHEMA, mods.MODS_NS, mods.mods_xml),
    "marc21": MetadataFormat("marc21", marcxml.MARC_SCHEMA, marcxml.MARC_NS, marcxml.marc_xml),
    "ead": MetadataFormat("ead", ead.EAD_SCHEMA, ead.EAD_NS, ead.item_document),
}
