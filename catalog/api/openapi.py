"""OpenAPI 3.1 description of the machine endpoints (JSON API, schema, IIIF).

Written as data next to the code it describes; `tests/test_openapi.py` runs schemathesis against it,
so a drift between the two fails the build.
"""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
IIIF_TYPES = ("application/ld+json", "application/json")


def _json(schema: dict, types: tuple[str, ...] = ("application/json",)) -> dict:
    return {"content": {t: {"schema": schema} for t in types}}


def _responses(ok: dict, *errors: int, ok_description: str = "OK") -> dict:
    responses = {"200": {"description": ok_description, **ok}}
    for code in errors:
        responses[str(code)] = {"description": {400: "Bad argument", 404: "Not found"}[code], **_json(ERROR)}
    return responses


RECORD_ID = {"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
PAGE_NUMBER = {"name": "n", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1},
               "description": "Page number in reading order, from 1"}


def _iiif_object(kind: str) -> dict:
    return {"type": "object", "required": ["@context", "id", "type"],
            "properties": {"type": {"const": kind}, "id": {"type": "string", "pattern": "^https?://"}}}


def _page_reference(kind: str) -> dict:
    return {"type": "object", "required": ["id", "type"],
            "properties": {"id": {"type": "string", "pattern": "^https?://"}, "type": {"const": kind}}}


ACTIVITY = {"type": "object", "required": ["type", "object", "endTime"], "properties": {
    "type": {"enum": ["Create", "Update", "Delete"]},
    "object": {"type": "object", "required": ["id", "type"], "properties": {
        "id": {"type": "string", "pattern": "^https?://"}, "type": {"enum": ["Manifest", "Collection"]}}},
    "endTime": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}}}
"""An IIIF Change Discovery Activity as /iiif/discovery/{page} lists them."""


def _discovery_collection() -> dict:
    schema = _iiif_object("OrderedCollection")
    schema["required"] = [*schema["required"], "totalItems", "first", "last"]
    schema["properties"] |= {"totalItems": {"type": "integer", "minimum": 0},
                             "first": _page_reference("OrderedCollectionPage"),
                             "last": _page_reference("OrderedCollectionPage")}
    return schema


def _discovery_page() -> dict:
    schema = _iiif_object("OrderedCollectionPage")
    schema["required"] = [*schema["required"], "partOf", "startIndex", "orderedItems"]
    schema["properties"] |= {"partOf": _page_reference("OrderedCollection"),
                             "startIndex": {"type": "integer", "minimum": 0},
                             "prev": _page_reference("OrderedCollectionPage"),
                             "next": _page_reference("OrderedCollectionPage"),
                             "orderedItems": {"type": "array", "items": ACTIVITY}}
    return schema


def openapi_document(base_url: str, max_per_page: int) -> dict:
    """The description, with limits read from the settings and the record body from the published schema."""
    page_params = [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": max_per_page}},
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Archival Catalog API", "version": "1.0.0",
                 "description": "Records as JSON, the published record schema, and IIIF Presentation 3.0."},
        "servers": [{"url": base_url}],
        "paths": {
            "/api/records": {"get": {
                "summary": "Public records, paginated in date order",
                "parameters": page_params,
                "responses": _responses(_json({"$ref": "#/components/schemas/RecordList"}), 400)}},
            "/api/records/{record_id}": {"get": {
                "summary": "One record exactly as stored",
                "parameters": [RECORD_ID],
                "responses": _responses(_json({"$ref": f"{base_url}/schemas/record.schema.json"}), 404)}},
            "/api/suggest": {"get": {
                "summary": "Completions of the word being typed: words of public records and headings",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                          "maximum": 20}}],
                "responses": {**_responses(_json({"type": "object", "required": ["words", "headings"]}), 400),
                              "414": {"description": "The query makes the request line longer than the server takes"}}}},
            "/api/health": {"get": {
                "summary": "Counts of records and bad files",
                "responses": _responses(_json({"type": "object", "required": ["records", "bad_files", "problems"]}))}},
            "/schemas/record.schema.json": {"get": {
                "summary": "The published record schema",
                "responses": _responses(_json({"type": "object"}, ("application/schema+json",)))}},
            "/schemas/oai_dcterms.xsd": {"get": {
                "summary": "The XML Schema of the OAI-PMH oai_dcterms format (DCMI's qualifieddc in its namespace)",
                "responses": _responses({"content": {"application/xml": {"schema": {"type": "string"}}}})}},
            "/iiif/{record_id}/manifest": {"get": {
                "summary": "IIIF Presentation 3.0 Manifest",
                "parameters": [RECORD_ID],
                "responses": _responses(_json(_iiif_object("Manifest"), IIIF_TYPES), 404)}},
            "/iiif/collection": {"get": {
                "summary": "IIIF Collection of every public record",
                "responses": _responses(_json(_iiif_object("Collection"), IIIF_TYPES))}},
            "/iiif/collection/{slug}": {"get": {
                "summary": "IIIF Collection of one archival collection",
                "parameters": [SLUG],
                "responses": _responses(_json(_iiif_object("Collection"), IIIF_TYPES), 404)}},
            "/iiif/collection/{slug}/{page}": {"get": {
                "summary": "One part of a large archival collection, as a nested IIIF Collection",
                "parameters": [SLUG, {"name": "page", "in": "path", "required": True,
                                      "schema": {"type": "integer", "minimum": 1}}],
                "responses": _responses(_json(_iiif_object("Collection"), IIIF_TYPES), 404)}},
            "/iiif/discovery": {"get": {
                "summary": "IIIF Change Discovery 1.0 OrderedCollection: changes to manifests and collections",
                "responses": _responses(_json(_discovery_collection(), IIIF_TYPES))}},
            "/iiif/discovery/{page}": {"get": {
                "summary": "One page of IIIF Change Discovery activities, oldest first (pages from 0)",
                "parameters": [{"name": "page", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 0}}],
                "responses": _responses(_json(_discovery_page(), IIIF_TYPES), 404)}},
            "/iiif/{record_id}/canvas/{n}/annotations": {"get": {
                "summary": "A page's transcription and footnotes as a IIIF AnnotationPage",
                "parameters": [RECORD_ID, PAGE_NUMBER],
                "responses": _responses(_json(_iiif_object("AnnotationPage"), IIIF_TYPES), 404)}},
            **{f"/iiif/{{record_id}}/{service}/{version}": {"get": {
                "summary": f"IIIF Content Search {version}.0 {label} inside one document",
                "parameters": [RECORD_ID, {"name": "q", "in": "query", "required": True,
                                           "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "responses": {**_responses(_json({"type": "object"}, ("application/ld+json", "application/json")),
                                           400, 404),
                              "414": {"description": "The query makes the request line longer than the server takes"}}}}
               for service, label in (("search", "search"), ("autocomplete", "autocomplete"))
               for version in (1, 2)},
            "/iiif/{record_id}/transcription.txt": {"get": {
                "summary": "The transcription as plain text",
                "parameters": [RECORD_ID],
                "responses": _responses({"content": {"text/plain": {"schema": {"type": "string"}}}}, 404)}},
            "/iiif/image/{record_id}/{n}": {"get": {
                "summary": "IIIF Image API base URI: redirects to info.json",
                "parameters": [RECORD_ID, PAGE_NUMBER],
                "responses": {"303": {"description": "See the info.json"},
                              "404": {"description": "Not found", **_json(ERROR)}}}},
            "/iiif/image/{record_id}/{n}/info.json": {"get": {
                "summary": "IIIF Image API 3.0 (level 1) description of a page image",
                "parameters": [RECORD_ID, PAGE_NUMBER],
                "responses": _responses(_json(_iiif_object("ImageService3"), IIIF_TYPES), 404)}},
            "/iiif/image/{record_id}/{n}/{region}/{size}/{rotation}/{quality}.{fmt}": {"get": {
                "summary": "A page image (level 1: full, square, pixel or pct regions; max, w, ,h, w,h, !w,h or pct sizes; rotation 0)",
                "parameters": [RECORD_ID, PAGE_NUMBER] + [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                    for name in ("region", "size", "rotation", "quality", "fmt")],
                "responses": _responses({"content": {"image/png": {"schema": {"type": "string",
                                                                                "format": "binary"}},
                                                     "image/jpeg": {"schema": {"type": "string",
                                                                                 "format": "binary"}}}},
                                        400, 404)}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}},
            "RecordList": {"type": "object", "required": ["total", "page", "per_page", "items", "links"],
                           "properties": {"items": {"type": "array", "items": {
                               "type": "object", "required": ["id", "title", "date", "links"]}}}},
        }},
    }
