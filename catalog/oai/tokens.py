"""Stateless OAI-PMH resumption tokens.

A token is the list request's arguments plus a keyset position (the last datestamp and id sent)
as compact JSON in URL-safe base64 without padding. Nothing is stored on the server, so a token
never expires, survives restarts and any worker can answer it; reusing it gives the same page
(as long as the records did not change). Decoding is strict: anything that is not exactly what
`encode` would produce is rejected, so garbage cannot reach a query.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import re

from catalog.model import RECORD_ID_PATTERN

MAX_TOKEN_LENGTH = 2000
LIST_VERBS = ("ListIdentifiers", "ListRecords")
DATESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_ID = re.compile(RECORD_ID_PATTERN)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")


class BadToken(ValueError):
    """The token was not issued by this repository (or was damaged on the way)."""


@dataclasses.dataclass(frozen=True)
class Token:
    """Where a list harvest stands: its arguments, the last item sent, and counts."""

    verb: str
    prefix: str
    set_spec: str | None
    start: str | None
    end: str | None
    after_datestamp: str
    after_id: str
    cursor: int
    size: int


_KEYS = {"verb": "v", "prefix": "m", "set_spec": "s", "start": "f", "end": "u",
         "after_datestamp": "d", "after_id": "i", "cursor": "c", "size": "n"}


def encode(token: Token) -> str:
    data = {short: getattr(token, name) for name, short in _KEYS.items()}
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _is_datestamp(value: object) -> bool:
    if not isinstance(value, str) or not DATESTAMP.fullmatch(value):
        return False
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


def _is_count(value: object) -> bool:
    return type(value) is int and 0 <= value <= 10**12


def decode(text: str) -> Token:
    """The token `text` stands for, or BadToken."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TOKEN_LENGTH or not _TOKEN_CHARS.fullmatch(text):
        raise BadToken("not a token of this repository")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw.decode("ascii"))
    except (binascii.Error, ValueError):
        raise BadToken("not a token of this repository") from None
    if not isinstance(data, dict) or set(data) != set(_KEYS.values()):
        raise BadToken("not a token of this repository")
    token = Token(**{name: data[short] for name, short in _KEYS.items()})
    valid = (
        token.verb in LIST_VERBS
        and isinstance(token.prefix, str) and PREFIX.fullmatch(token.prefix) is not None
        and (token.set_spec is None or (isinstance(token.set_spec, str) and SET_SPEC.fullmatch(token.set_spec)))
        and (token.start is None or _is_datestamp(token.start))
        and (token.end is None or _is_datestamp(token.end))
        and _is_datestamp(token.after_datestamp)
        and (token.start is None or token.start <= token.after_datestamp)
        and (token.end is None or token.after_datestamp <= token.end)
        and isinstance(token.after_id, str) and _ID.fullmatch(token.after_id) is not None
        and _is_count(token.cursor) and _is_count(token.size) and token.cursor > 0
    )
    if not valid or encode(token) != text:
        raise BadToken("not a token of this repository")
    return token
