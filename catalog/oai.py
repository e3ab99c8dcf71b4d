"""OAI-PMH 2.0 repository at `/oai` (GET and POST): the six verbs over the store's ledger.

Identifiers are `oai:<CATALOG_OAI_REPOSITORY_IDENTIFIER>:<record id>`; the only format is
`oai_dc` (catalog/oai_dc.py). Datestamps come from the ledger and move only when a record's
content, visibility or existence changes. Deleted records are kept (`persistent`). Lists are
paged with stateless resumption tokens (catalog/oai_tokens.py); errors are HTTP 200 with the
protocol's error codes, and the `<request>` element echoes only well-formed arguments.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from lxml import etree

from catalog import oai_query
from catalog import oai_tokens
from catalog import search
from catalog.http import absolute
from catalog.http import base_url
from catalog.http import get_store
from catalog.model import RECORD_ID_PATTERN
from catalog.oai_args import OAIError
from catalog.oai_args import OAIRequest
from catalog.oai_args import parse
from catalog.oai_dc import OAI_DC_NS
from catalog.oai_dc import OAI_DC_SCHEMA
from catalog.oai_dc import dc_elements
from catalog.oai_dc import dc_xml_from
from catalog.oai_xml import add_error
from catalog.oai_xml import add_header
from catalog.oai_xml import add_oai_identifier
from catalog.oai_xml import envelope
from catalog.oai_xml import serialize
from catalog.oai_xml import sub

blueprint = Blueprint("oai", __name__)

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
FORMATS = {"oai_dc": (OAI_DC_SCHEMA, OAI_DC_NS)}
REPOSITORY_IDENTIFIER = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
RECORD_ID = re.compile(RECORD_ID_PATTERN)


@blueprint.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    params = request.form if request.method == "POST" else request.args
    try:
        oai_request = parse(params)
    except OAIError as error:
        return _error_response(error, {})
    handler = VERBS[oai_request.verb]
    try:
        root = handler(oai_request)
    except OAIError as error:
        echo = {name: value for name, value in oai_request.echo.items() if name != error.argument}
        return _error_response(error, echo)
    return _xml(root)


def _xml(root: etree._Element) -> Response:
    return Response(serialize(root), mimetype="text/xml", content_type="text/xml; charset=utf-8")


def _error_response(error: OAIError, echo: dict[str, str]) -> Response:
    if error.code in ("badVerb", "badArgument"):
        echo = {}
    root = envelope(_base(), echo)
    add_error(root, error.code, error.message)
    return _xml(root)


def _base() -> str:
    return absolute("/oai")


def _repository_identifier() -> str:
    return str(current_app.config["CATALOG_OAI_REPOSITORY_IDENTIFIER"])


def _oai_identifier(record_id: str) -> str:
    return f"oai:{_repository_identifier()}:{record_id}"


def _record_id(identifier: str) -> str:
    """The record id an OAI identifier names, or idDoesNotExist."""
    prefix = f"oai:{_repository_identifier()}:"
    record_id = identifier[len(prefix):] if identifier.startswith(prefix) else ""
    if not RECORD_ID.fullmatch(record_id):
        raise OAIError("idDoesNotExist", "no item has this identifier in this repository", "identifier")
    return record_id


def _page_size() -> int:
    return max(1, int(current_app.config["CATALOG_OAI_PAGE_SIZE"]))


def _check_format(prefix: str) -> None:
    if prefix not in FORMATS:
        raise OAIError("cannotDisseminateFormat", f"the only metadata format here is oai_dc, not {prefix[:40]!r}",
                       "metadataPrefix")


def _item(identifier: str) -> oai_query.Item:
    item = oai_query.get_item(get_store().db, _record_id(identifier))
    if item is None:
        raise OAIError("idDoesNotExist", "no item has this identifier in this repository", "identifier")
    return item


def _add_record(parent: etree._Element, item: oai_query.Item, with_metadata: bool) -> None:
    """A `<header>` (in ListIdentifiers) or a `<record>` with its oai_dc metadata unless deleted."""
    if not with_metadata:
        add_header(parent, _oai_identifier(item.id), item.datestamp, item.sets, item.deleted)
        return
    record_element = sub(parent, "record")
    add_header(record_element, _oai_identifier(item.id), item.datestamp, item.sets, item.deleted)
    if not item.deleted:
        sub(record_element, "metadata").append(dc_xml_from(_dc_pairs(item.row, base_url())))


_dc_memo: OrderedDict[tuple[str, str, str], tuple] = OrderedDict()
_dc_memo_lock = threading.Lock()
DC_MEMO_SIZE = 1024


def _dc_pairs(row, base: str) -> tuple:
    """A record's Dublin Core, remembered per content hash: harvests ask for the same records often."""
    key = (row["record_id"], row["content_hash"], base)
    pairs = _dc_memo.get(key)
    if pairs is None:
        pairs = tuple(dc_elements(get_store().record_from_row(row), base))
        with _dc_memo_lock:
            _dc_memo[key] = pairs
            while len(_dc_memo) > DC_MEMO_SIZE:
                _dc_memo.popitem(last=False)
    return pairs


# -- the verbs -------------------------------------------------------------------------------

def identify(req: OAIRequest) -> etree._Element:
    db = get_store().db
    config = current_app.config
    root = envelope(_base(), req.echo)
    element = sub(root, "Identify")
    sub(element, "repositoryName", str(config["CATALOG_OAI_REPOSITORY_NAME"]))
    sub(element, "baseURL", _base())
    sub(element, "protocolVersion", "2.0")
    sub(element, "adminEmail", str(config["CATALOG_ADMIN_EMAIL"]))
    sub(element, "earliestDatestamp", oai_query.earliest_datestamp(db) or root[0].text)
    sub(element, "deletedRecord", "persistent")
    sub(element, "granularity", GRANULARITY)
    if REPOSITORY_IDENTIFIER.fullmatch(_repository_identifier()):
        add_oai_identifier(element, _repository_identifier(),
                           _oai_identifier(oai_query.sample_id(db) or "hull-memorandum-1943-10-30"))
    return root


def list_metadata_formats(req: OAIRequest) -> etree._Element:
    if "identifier" in req.args and _item(req.args["identifier"]).deleted:
        raise OAIError("noMetadataFormats", "the item is deleted: no metadata is disseminated for it")
    root = envelope(_base(), req.echo)
    element = sub(root, "ListMetadataFormats")
    for prefix, (schema, namespace) in FORMATS.items():
        entry = sub(element, "metadataFormat")
        sub(entry, "metadataPrefix", prefix)
        sub(entry, "schema", schema)
        sub(entry, "metadataNamespace", namespace)
    return root


def list_sets(req: OAIRequest) -> etree._Element:
    if "resumptionToken" in req.args:
        raise OAIError("badResumptionToken", "ListSets is answered in one response; there is nothing to resume",
                       "resumptionToken")
    sets = oai_query.list_sets(get_store().db)
    if not sets:
        raise OAIError("noSetHierarchy", "there are no sets: the repository holds no public records")
    root = envelope(_base(), req.echo)
    element = sub(root, "ListSets")
    for spec, name in sets:
        entry = sub(element, "set")
        sub(entry, "setSpec", spec)
        sub(entry, "setName", name)
    return root


def get_record(req: OAIRequest) -> etree._Element:
    _check_format(req.args["metadataPrefix"])
    item = _item(req.args["identifier"])
    root = envelope(_base(), req.echo)
    _add_record(sub(root, "GetRecord"), item, with_metadata=True)
    return root


def _list_start(req: OAIRequest) -> oai_tokens.Token:
    """The token a list request stands for: decoded, or made up for the first page."""
    if "resumptionToken" in req.args:
        try:
            token = oai_tokens.decode(req.args["resumptionToken"])
        except oai_tokens.BadToken:
            token = None
        if token is None or token.verb != req.verb or token.prefix not in FORMATS:
            raise OAIError("badResumptionToken", "the resumptionToken is not one this repository issued for "
                           f"{req.verb}", "resumptionToken")
        return token
    _check_format(req.args["metadataPrefix"])
    return oai_tokens.Token(req.verb, req.args["metadataPrefix"], req.args.get("set"), req.start, req.end,
                            "", "", 0, -1)


def list_items(req: OAIRequest) -> etree._Element:
    """ListIdentifiers and ListRecords: one page, then a token for the next (empty on the last)."""
    token = _list_start(req)
    db = get_store().db
    set_filter = None
    if token.set_spec is not None:
        if not oai_query.has_live_items(db):
            raise OAIError("noSetHierarchy", "there are no sets: the repository holds no public records")
        set_filter = oai_query.resolve_set(db, token.set_spec)
        if set_filter is None:
            raise OAIError("noRecordsMatch", "no set has this setSpec (see ListSets)")
    resuming = token.cursor > 0
    window = oai_query.Window(token.start, token.end, set_filter,
                              (token.after_datestamp, token.after_id) if resuming else None)
    size = _page_size()
    with_metadata = req.verb == "ListRecords"
    items = oai_query.list_items(db, window, size + 1, with_source=with_metadata)
    if not items:
        raise OAIError("noRecordsMatch", "no items match these arguments" if not resuming else
                       "no items are left in this list: it changed since the harvest began")
    more = len(items) > size
    items = items[:size]
    total = token.size if resuming else search.cached(db, ("oai count", window),
                                                      lambda: oai_query.count_items(db, window))
    total = max(total, token.cursor + len(items) + int(more))
    root = envelope(_base(), req.echo)
    element = sub(root, req.verb)
    for item in items:
        _add_record(element, item, with_metadata)
    if more:
        last = items[-1]
        following = oai_tokens.Token(token.verb, token.prefix, token.set_spec, token.start, token.end,
                                     last.datestamp, last.id, token.cursor + len(items), total)
        sub(element, "resumptionToken", oai_tokens.encode(following),
            completeListSize=str(total), cursor=str(token.cursor))
    elif resuming:
        sub(element, "resumptionToken", completeListSize=str(total), cursor=str(token.cursor))
    return root


VERBS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "ListIdentifiers": list_items,
    "ListRecords": list_items,
    "GetRecord": get_record,
}
