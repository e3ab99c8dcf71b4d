"""A record's manifest built once at index time, with the server's base URL and provider left open.

A manifest depends on the record version, the base URL and the provider. The base and the provider
are known only to the server (and may differ between servers of one index), so the index keeps the
manifest with three markers in their place, and a request fills them in: a first-time manifest is
then a read, a decompression and three byte replacements instead of a layout of every page.

`fill(template(record), base, name, homepage)` is byte for byte the manifest built at request time
(tests/test_manifest_templates.py). A record whose own text contains a marker gets no template; the
server builds its manifest at request time, as it does for every record when the index keeps none.
"""

from __future__ import annotations

import html
import zlib

import orjson

from catalog.model import Record
from catalog.urls import Urls
from manifests import presentation

BASE = "urn:x-catalog-template:base"
NAME = "urn:x-catalog-template:provider-name"
HOMEPAGE = "urn:x-catalog-template:provider-homepage"
OAI = "urn:x-catalog-template:oai"
MARK = b"urn:x-catalog-template:"


def template(record: Record) -> bytes | None:
    """The record's manifest with the markers in place, zlib-compressed; None if a marker could be
    mistaken for the record's own text."""
    if MARK.decode() in record.model_dump_json():
        return None
    body = orjson.dumps(presentation.manifest(record, Urls(BASE, OAI), presentation.provider(NAME, HOMEPAGE)))
    if OAI.encode() in body:  # a manifest that names the OAI-PMH repository cannot be kept open
        return None
    return zlib.compress(body, 1)


def fill(stored: bytes, base: str, name: str, homepage: str) -> bytes | None:
    """The manifest for this base URL and provider; None when a value holds a marker, or a character
    that HTML escapes (the manifest's HTML metadata values carry escaped links: filling them with
    the raw value would differ from what a request-time build writes)."""
    values = (base, name, homepage)
    if any(MARK.decode() in value or html.escape(value) != value for value in values):
        return None
    body = zlib.decompress(stored)
    for marker, value in zip((HOMEPAGE, NAME, BASE), (homepage, name, base), strict=True):
        body = body.replace(marker.encode(), orjson.dumps(value)[1:-1])
    return body
