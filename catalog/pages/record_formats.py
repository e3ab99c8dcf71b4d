"""A record as a metadata file: `/records/<id>.mods.xml`, `.marc.xml`, `.dc.xml`, `.dcterms.xml`.

The same serializers as OAI-PMH (the format registry), as standalone documents a cataloger can
download or a loader fetch without a harvest. Only public records: a restricted or unknown id is 404
like any missing record. The paths come from `catalog.urls.RECORD_FORMATS`, so link and route agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from flask import Flask
from flask import Response
from lxml import etree
from werkzeug.exceptions import NotFound

from catalog.http import get_index
from catalog.http import urls
from catalog.oai.formats import FORMATS
from catalog.urls import RECORD_FORMATS

blueprint = Blueprint("record_formats", __name__)


@dataclass(frozen=True)
class Download:
    fmt: str
    """The key in `RECORD_FORMATS` (the file suffix)."""
    prefix: str
    """The OAI-PMH metadataPrefix whose serializer writes it."""
    label: str
    mimetype: str


DOWNLOADS = (
    Download("mods", "mods", "MODS", "application/mods+xml"),
    Download("marc", "marc21", "MARCXML", "application/marcxml+xml"),
    Download("dc", "oai_dc", "Dublin Core", "application/xml"),
    Download("dcterms", "oai_dcterms", "qualified DC", "application/xml"),
)
"""What the record page offers, in the order it lists them (media types: RFC 6207 for MODS and MARCXML)."""


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions["catalog.capabilities"]["record_formats"] = True


def _view(download: Download):
    def view(record_id: str) -> Response:
        return record_file(record_id, download)
    return view


for _download in DOWNLOADS:
    blueprint.add_url_rule(f"/records/<record_id>{RECORD_FORMATS[_download.fmt]}", f"record_{_download.fmt}",
                           _view(_download))


def record_file(record_id: str, download: Download) -> Response:
    """The record in one format as an XML document (remembered until the index changes)."""
    index = get_index()
    found = index.record(record_id)
    if found is None:
        raise NotFound(f"There is no record with the id “{record_id[:100]}”.")
    links = urls()
    body = index.cache.get(("record file", download.prefix, found.id, links.base),
                           lambda: etree.tostring(FORMATS[download.prefix].serialize(found, links),
                                                  xml_declaration=True, encoding="UTF-8"))
    filename = f"{found.id}{RECORD_FORMATS[download.fmt]}"
    return Response(body, mimetype=download.mimetype,
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
