"""OAI-PMH 2.0 repository at `/oai` (GET and POST).

- `arguments`: which verb, which arguments, well formed or an OAI error code;
- `verbs`: the six verbs over the index's ledger;
- `tokens`: stateless resumption tokens;
- `formats`: the registry of metadata formats (prefix → schema, namespace, serializer);
- `dublin_core`, `xml`: the serializers and the response envelope;
- `fragments`: each record version's metadata per format, serialized once and kept as bytes.

Errors are HTTP 200 with the protocol's error codes; `<request>` echoes only well-formed arguments.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import request

from catalog.http import get_index
from catalog.http import urls
from catalog.oai.arguments import OAIError
from catalog.oai.arguments import parse
from catalog.oai.fragments import Fragments
from catalog.oai.verbs import VERBS
from catalog.oai.xml import Document
from catalog.oai.xml import add_error
from catalog.oai.xml import envelope
from catalog.oai.xml import oai

blueprint = Blueprint("oai", __name__)

GZIP_LEVEL = 1
"""The fastest level: a page of 100 Dublin Core records shrinks 10× in 0.5 ms of CPU (level 6: 14× in
1.3 ms); on a warm harvest compression would otherwise be the largest cost left per page."""


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions["catalog.oai.fragments"] = Fragments(Path(app.config["CATALOG_INSTANCE_DIR"]))
    app.extensions["catalog.capabilities"]["oai"] = True


@blueprint.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    params = request.form if request.method == "POST" else request.args
    response_date = get_index().oai_response_date()  # before anything is read: see oai_response_date
    try:
        oai_request = parse(params)
    except OAIError as error:
        return _error_response(error, {}, response_date)
    try:
        document = VERBS[oai_request.verb](oai_request)
    except OAIError as error:
        echo = {name: value for name, value in oai_request.echo.items() if name != error.argument}
        return _error_response(error, echo, response_date)
    document.root.find(oai("responseDate")).text = response_date
    return _xml(document)


def _xml(document: Document) -> Response:
    """The response, gzip-compressed when the client accepts gzip (Identify advertises it); never otherwise."""
    body = document.to_bytes()
    response = Response(body, mimetype="text/xml", content_type="text/xml; charset=utf-8")
    response.vary.add("Accept-Encoding")
    if request.accept_encodings["gzip"] > 0:
        response.set_data(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
    return response


def _error_response(error: OAIError, echo: dict[str, str], response_date: str) -> Response:
    if error.code in ("badVerb", "badArgument"):
        echo = {}
    root = envelope(urls().oai(), echo)
    root.find(oai("responseDate")).text = response_date
    add_error(root, error.code, error.message)
    return _xml(Document(root))
