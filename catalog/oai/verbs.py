"""The six OAI-PMH verbs over the index's ledger; each takes checked arguments and returns the XML.

Datestamps come from the ledger and move only when a record's content, visibility or existence
changes. Deleted records are kept (`persistent`). Lists are paged with stateless, signed resumption tokens.
"""

from __future__ import annotations

import re

from flask import current_app
from lxml import etree

from catalog.http import get_index
from catalog.http import urls
from catalog.index.oai import Item
from catalog.index.oai import Window
from catalog.oai import tokens
from catalog.oai.arguments import OAIError
from catalog.oai.arguments import OAIRequest
from catalog.oai.formats import FORMATS
from catalog.oai.fragments import Fragments
from catalog.oai.xml import Document
from catalog.oai.xml import add_oai_identifier
from catalog.oai.xml import envelope
from catalog.oai.xml import header_bytes
from catalog.oai.xml import sub

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
REPOSITORY_IDENTIFIER = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
NO_SUCH_ITEM = "no item has this identifier in this repository"


def _record_id(identifier: str) -> str:
    """The record id an OAI identifier names (idDoesNotExist checked by the caller)."""
    prefix = urls().oai_identifier("")
    return identifier[len(prefix):] if identifier.startswith(prefix) else ""


def _check_format(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OAIError("cannotDisseminateFormat", f"formats offered: {', '.join(FORMATS)}; not {prefix[:40]!r}",
                       "metadataPrefix")


def _item(identifier: str) -> Item:
    item = get_index().oai_item(_record_id(identifier))
    if item is None:
        raise OAIError("idDoesNotExist", NO_SUCH_ITEM, "identifier")
    return item


def _context() -> str:
    """Everything a format's bytes depend on besides the record: the base URL, the repository
    identifier (MODS) and the institution's name (EAD)."""
    links = urls()
    return "\n".join((links.base, links.oai_repository, str(current_app.config.get("CATALOG_INSTITUTION_NAME") or "")))


def fragments() -> Fragments:
    return current_app.extensions["catalog.oai.fragments"]


def _add_records(document: Document, parent: etree._Element, items: list[Item], prefix: str,
                 with_metadata: bool) -> None:
    """A `<header>` per item (ListIdentifiers), or a `<record>` with its metadata unless deleted.

    Written as bytes: the metadata is each record version's bytes in `prefix`, built once (`fragments`)."""
    links = urls()
    out = []
    if not with_metadata:
        for item in items:
            out.append(header_bytes(links.oai_identifier(item.id), item.datestamp, item.sets, item.deleted))
        document.splice(parent, b"".join(out))
        return
    index = get_index()
    context = _context()
    serializer = FORMATS[prefix].serialize
    wanted = {(item.row["content_hash"], prefix, context):
              (item.id, lambda item=item: serializer(index.oai_record(item), links))
              for item in items if not item.deleted}
    found = fragments().many(wanted)
    for item in items:
        out.append(b"<record>" + header_bytes(links.oai_identifier(item.id), item.datestamp, item.sets, item.deleted))
        if not item.deleted:
            out.append(found[(item.row["content_hash"], prefix, context)])
        out.append(b"</record>")
    document.splice(parent, b"".join(out))


def identify(req: OAIRequest) -> Document:
    index = get_index()
    config = current_app.config
    links = urls()
    root = envelope(links.oai(), req.echo)
    element = sub(root, "Identify")
    sub(element, "repositoryName", str(config["CATALOG_OAI_REPOSITORY_NAME"]))
    sub(element, "baseURL", links.oai())
    sub(element, "protocolVersion", "2.0")
    sub(element, "adminEmail", str(config["CATALOG_ADMIN_EMAIL"]))
    sub(element, "earliestDatestamp", index.oai_earliest_datestamp() or root[0].text)
    sub(element, "deletedRecord", "persistent")
    sub(element, "granularity", GRANULARITY)
    sub(element, "compression", "gzip")
    if REPOSITORY_IDENTIFIER.fullmatch(links.oai_repository):
        add_oai_identifier(element, links.oai_repository,
                           links.oai_identifier(index.oai_sample_id() or "hull-memorandum-1943-10-30"))
    return Document(root)


def list_metadata_formats(req: OAIRequest) -> Document:
    if "identifier" in req.args and _item(req.args["identifier"]).deleted:
        raise OAIError("noMetadataFormats", "the item is deleted: no metadata is disseminated for it")
    links = urls()
    root = envelope(links.oai(), req.echo)
    element = sub(root, "ListMetadataFormats")
    for found in FORMATS.values():
        entry = sub(element, "metadataFormat")
        sub(entry, "metadataPrefix", found.prefix)
        sub(entry, "schema", found.schema_url(links))
        sub(entry, "metadataNamespace", found.namespace)
    return Document(root)


def list_sets(req: OAIRequest) -> Document:
    if "resumptionToken" in req.args:
        raise OAIError("badResumptionToken", "ListSets is answered in one response; there is nothing to resume",
                       "resumptionToken")
    sets = get_index().oai_sets()
    if not sets:
        raise OAIError("noSetHierarchy", "there are no sets: the repository holds no public records")
    root = envelope(urls().oai(), req.echo)
    element = sub(root, "ListSets")
    for spec, name in sets:
        entry = sub(element, "set")
        sub(entry, "setSpec", spec)
        sub(entry, "setName", name)
    return Document(root)


def get_record(req: OAIRequest) -> Document:
    _check_format(req.args["metadataPrefix"])
    item = _item(req.args["identifier"])
    document = Document(envelope(urls().oai(), req.echo))
    _add_records(document, sub(document.root, "GetRecord"), [item], req.args["metadataPrefix"], with_metadata=True)
    return document


def _token_key() -> bytes:
    """Tokens are signed, so that only those this server issued are resumed (see `tokens.key_for`)."""
    return tokens.key_for(current_app.config)


def _list_start(req: OAIRequest) -> tokens.Token:
    """The token a list request stands for: decoded, or made up for the first page."""
    if "resumptionToken" in req.args:
        try:
            token = tokens.decode(req.args["resumptionToken"], _token_key())
        except tokens.BadToken:
            token = None
        if token is None or token.verb != req.verb or token.prefix not in FORMATS:
            raise OAIError("badResumptionToken", "the resumptionToken is not one this repository issued for "
                           f"{req.verb}", "resumptionToken")
        return token
    _check_format(req.args["metadataPrefix"])
    return tokens.Token(req.verb, req.args["metadataPrefix"], req.args.get("set"), req.start, req.end,
                        "", "", 0, -1)


def list_items(req: OAIRequest) -> Document:
    """ListIdentifiers and ListRecords: one page, then a token for the next (empty on the last)."""
    token = _list_start(req)
    index = get_index()
    set_filter = None
    if token.set_spec is not None:
        if not index.oai_has_live_items():
            raise OAIError("noSetHierarchy", "there are no sets: the repository holds no public records")
        set_filter = index.oai_resolve_set(token.set_spec)
        if set_filter is None:
            raise OAIError("noRecordsMatch", "no set has this setSpec (see ListSets)")
    resuming = token.cursor > 0
    window = Window(token.start, token.end, set_filter, (token.after_datestamp, token.after_id) if resuming else None)
    size = max(1, int(current_app.config["CATALOG_OAI_PAGE_SIZE"]))
    with_metadata = req.verb == "ListRecords"
    items = index.oai_items(window, size + 1, with_source=with_metadata)
    if not items:
        raise OAIError("noRecordsMatch", "no items match these arguments" if not resuming else
                       "no items are left in this list: it changed since the harvest began")
    more = len(items) > size
    items = items[:size]
    total = token.size if resuming else index.oai_count(window)
    total = max(total, token.cursor + len(items) + int(more))
    document = Document(envelope(urls().oai(), req.echo))
    element = sub(document.root, req.verb)
    _add_records(document, element, items, token.prefix, with_metadata)
    if more:
        last = items[-1]
        following = tokens.Token(token.verb, token.prefix, token.set_spec, token.start, token.end,
                                 last.datestamp, last.id, token.cursor + len(items), total)
        sub(element, "resumptionToken", tokens.encode(following, _token_key()),
            completeListSize=str(total), cursor=str(token.cursor))
    elif resuming:
        sub(element, "resumptionToken", completeListSize=str(total), cursor=str(token.cursor))
    return document


VERBS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "ListIdentifiers": list_items,
    "ListRecords": list_items,
    "GetRecord": get_record,
}
