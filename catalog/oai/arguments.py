"""OAI-PMH request arguments: which verb, which arguments, and whether they are well formed.

All checks that need no data happen here, so each verb handler starts from arguments it can
trust. Problems become `OAIError`s carrying the protocol's error code; `echo` holds only the
arguments that were valid, for the response's `<request>` element.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from werkzeug.datastructures import MultiDict

from catalog.oai.tokens import PREFIX
from catalog.oai.tokens import SET_SPEC

ARGUMENTS: dict[str, tuple[set[str], set[str]]] = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
"""verb → (required arguments, optional arguments); `resumptionToken` is exclusive."""

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
OAI_IDENTIFIER = re.compile(
    r"oai:[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+:[a-zA-Z0-9\-_.!~*'();/?:@&=+$,%]+")
"""The oai-identifier scheme's syntax: only identifiers of this form are echoed back."""


class OAIError(Exception):
    """An OAI-PMH error condition: `code` from the protocol, a message, and the argument at fault.

    The argument at fault (`argument`) is left out of the echoed `<request>`: a response echoes
    valid arguments only (so an unknown or restricted identifier is not repeated back either).
    """

    def __init__(self, code: str, message: str, argument: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.argument = argument


@dataclasses.dataclass
class OAIRequest:
    verb: str
    args: dict[str, str]
    start: str | None = None
    """`from` as a full datestamp (a day means its first second)."""
    end: str | None = None
    """`until` as a full datestamp (a day means its last second)."""

    @property
    def echo(self) -> dict[str, str]:
        """The arguments to echo in `<request>`: the verb and every argument that is well formed."""
        shown = {"verb": self.verb, **self.args}
        identifier = shown.get("identifier")
        if identifier is not None and not OAI_IDENTIFIER.fullmatch(identifier):
            del shown["identifier"]
        return shown


def _bound(name: str, value: str, last_second: bool) -> tuple[str, str]:
    """(granularity, full datestamp) of a `from`/`until` value, or badArgument."""
    if DAY.fullmatch(value):
        granularity, parse = "day", "%Y-%m-%d"
    elif SECOND.fullmatch(value):
        granularity, parse = "second", "%Y-%m-%dT%H:%M:%SZ"
    else:
        raise OAIError("badArgument", f"'{name}' must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)")
    try:
        moment = dt.datetime.strptime(value, parse)
    except ValueError:
        raise OAIError("badArgument", f"'{name}' is not a valid date") from None
    if granularity == "day" and last_second:
        moment = moment.replace(hour=23, minute=59, second=59)
    return granularity, f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"


def parse(params: MultiDict) -> OAIRequest:
    """Check `params` (query string or form body) against the protocol; OAIError if they fail."""
    verbs = params.getlist("verb")
    if not verbs:
        raise OAIError("badVerb", "the 'verb' argument is missing")
    if len(verbs) > 1:
        raise OAIError("badVerb", "the 'verb' argument is repeated")
    verb = verbs[0]
    if verb not in ARGUMENTS:
        raise OAIError("badVerb", "the value of 'verb' is not an OAI-PMH verb")
    required, optional = ARGUMENTS[verb]
    args: dict[str, str] = {}
    for name in params:
        if name == "verb":
            continue
        if name not in required | optional:
            raise OAIError("badArgument", f"{verb} does not take the argument {name[:40]!r}")
        values = params.getlist(name)
        if len(values) > 1:
            raise OAIError("badArgument", f"the argument '{name}' is repeated")
        if not values[0]:
            raise OAIError("badArgument", f"the argument '{name}' is empty")
        args[name] = values[0]
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OAIError("badArgument", "resumptionToken is an exclusive argument: give it alone with the verb")
        return OAIRequest(verb, args)
    missing = sorted(required - set(args))
    if missing:
        raise OAIError("badArgument", f"{verb} needs the argument '{missing[0]}'")
    if "metadataPrefix" in args and not PREFIX.fullmatch(args["metadataPrefix"]):
        raise OAIError("badArgument", "'metadataPrefix' has characters a metadata prefix cannot have")
    if "set" in args and not SET_SPEC.fullmatch(args["set"]):
        raise OAIError("badArgument", "'set' is not a well-formed setSpec")
    request = OAIRequest(verb, args)
    granularities = set()
    if "from" in args:
        granularity, request.start = _bound("from", args["from"], last_second=False)
        granularities.add(granularity)
    if "until" in args:
        granularity, request.end = _bound("until", args["until"], last_second=True)
        granularities.add(granularity)
    if len(granularities) > 1:
        raise OAIError("badArgument", "'from' and 'until' must have the same granularity")
    if request.start and request.end and request.start > request.end:
        raise OAIError("badArgument", "'from' is later than 'until'")
    return request
