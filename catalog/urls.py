"""Every URL the catalog names, from one place: pages and their JSON twins, the API, IIIF, OAI-PMH.

`Urls("")` gives site-relative links (HTML pages); `Urls(base)` absolute ones (JSON twins, IIIF,
OAI-PMH, citations). Routes are registered with the same paths, so a link and its route cannot
drift apart without a test (tests/test_urls.py) noticing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote
from urllib.parse import urlencode

RECORD_FORMATS = {None: "", "json": ".json", "bib": ".bib", "csl": ".csl.json", "mods": ".mods.xml",
                  "marc": ".marc.xml", "dc": ".dc.xml", "dcterms": ".dcterms.xml"}
"""A record page's representations and their suffixes (the `.xml` ones: catalog/pages/record_formats.py)."""


@dataclass(frozen=True)
class Urls:
    base: str = ""
    oai_repository: str = "catalog.example.org"

    def _at(self, path: str, query: list[tuple[str, str]] | dict | None = None) -> str:
        encoded = urlencode(query, safe=":") if query else ""
        return self.base + path + ("?" + encoded if encoded else "")

    # -- catalog pages -----------------------------------------------------------------------------
    def home(self, query=None, json: bool = False) -> str:
        return self._at("/index.json" if json else "/", query)

    def search(self, query=None, json: bool = False) -> str:
        return self._at("/search.json" if json else "/search", query)

    def browse_path(self, path: str, query=None, json: bool = False) -> str:
        """The browse or search page at `path` ("/" or "/search") with a query string."""
        return self.search(query, json) if path == "/search" else self.home(query, json)

    def facet(self, name: str, value: str) -> str:
        """The catalog filtered to the records counted under one facet value."""
        return self.home([(name, value)])

    def search_for(self, q: str) -> str:
        return self.search([("q", q)])

    def record(self, record_id: str, fmt: str | None = None) -> str:
        return self._at(f"/records/{record_id}{RECORD_FORMATS[fmt]}")

    def collections(self, json: bool = False) -> str:
        return self._at("/collections.json" if json else "/collections")

    def collection(self, slug: str, json: bool = False, query=None) -> str:
        return self._at(f"/collections/{slug}" + (".json" if json else ""), query)

    def finding_aid(self, slug: str) -> str:
        """The collection's EAD3 finding aid."""
        return self._at(f"/collections/{slug}.ead.xml")

    def people(self, json: bool = False) -> str:
        return self._at("/people.json" if json else "/people")

    def person(self, slug: str, json: bool = False) -> str:
        """A person's page (`facts.person_slug`); a slug may hold letters beyond ASCII, so it is quoted."""
        return self._at(f"/people/{quote(slug)}" + (".json" if json else ""))

    def sitemap(self, part: int | None = None) -> str:
        return self._at(f"/sitemaps/{part}.xml" if part else "/sitemap.xml")

    # -- machine interfaces ------------------------------------------------------------------------
    def api_records(self, page: int | None = None, per_page: int | None = None) -> str:
        query = [(k, str(v)) for k, v in (("page", page), ("per_page", per_page)) if v is not None]
        return self._at("/api/records", query)

    def api_record(self, record_id: str) -> str:
        return self._at(f"/api/records/{record_id}")

    def record_schema(self) -> str:
        return self._at("/schemas/record.schema.json")

    def published_schema(self, name: str) -> str:
        """A schema the catalog publishes from `schemas/` (e.g. the oai_dcterms application schema)."""
        return self._at(f"/schemas/{name}")

    def openapi(self) -> str:
        return self._at("/api/openapi.json")

    # -- IIIF ------------------------------------------------------------------------------------
    def manifest(self, record_id: str) -> str:
        return self._at(f"/iiif/{record_id}/manifest")

    def canvas(self, record_id: str, n: int) -> str:
        return self._at(f"/iiif/{record_id}/canvas/{n}")

    def annotations(self, record_id: str, n: int) -> str:
        return self._at(f"/iiif/{record_id}/canvas/{n}/annotations")

    def range(self, record_id: str, index: int) -> str:
        return self._at(f"/iiif/{record_id}/range/{index}")

    def transcription_text(self, record_id: str) -> str:
        return self._at(f"/iiif/{record_id}/transcription.txt")

    def image_service(self, record_id: str, n: int) -> str:
        return self._at(f"/iiif/image/{record_id}/{n}")

    def image_info(self, record_id: str, n: int) -> str:
        return self.image_service(record_id, n) + "/info.json"

    def iiif_collection(self, slug: str | None = None, page: int | None = None) -> str:
        return self._at("/iiif/collection" + (f"/{slug}" if slug else "") + (f"/{page}" if page else ""))

    def content_search(self, record_id: str, version: int) -> str:
        return self._at(f"/iiif/{record_id}/search/{version}")

    def autocomplete(self, record_id: str, version: int) -> str:
        return self._at(f"/iiif/{record_id}/autocomplete/{version}")

    def viewer(self, record_id: str) -> str:
        return self._at(f"/iiif/{record_id}/viewer")

    def discovery(self, page: int | None = None) -> str:
        """IIIF Change Discovery: the OrderedCollection, or one of its pages (numbered from 0)."""
        return self._at("/iiif/discovery" + (f"/{page}" if page is not None else ""))

    # -- OAI-PMH ---------------------------------------------------------------------------------
    def oai(self, query=None) -> str:
        return self._at("/oai", query)

    def oai_identifier(self, record_id: str) -> str:
        """The record's OAI-PMH identifier (a URI, not a link)."""
        return f"oai:{self.oai_repository}:{record_id}"

    def oai_record(self, record_id: str, prefix: str = "oai_dc") -> str:
        return self.oai([("verb", "GetRecord"), ("metadataPrefix", prefix),
                         ("identifier", self.oai_identifier(record_id))])
