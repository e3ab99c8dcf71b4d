"""Stateless, signed OAI-PMH resumption tokens.

A token is the list request's arguments plus a keyset position (the last datestamp and id sent)
as compact JSON in URL-safe base64 without padding, followed by a signature: the first 16 bytes of
an HMAC-SHA256 of that text, also in URL-safe base64 (22 characters). Nothing is stored on the
server, so a token never expires, survives restarts and any worker can answer it; reusing it
gives the same page (as long as the records did not change). Only a token this server signed is
parsed at all, and even then defensively (size and nesting capped, then exactly what `encode`
would produce), so neither garbage nor a forged position can reach a query.

The key is `CATALOG_OAI_TOKEN_SECRET` or, when that is empty, a random key kept in the instance
folder (`oai-token.key`), made once by whichever worker gets there first.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path

from catalog.model import RECORD_ID_PATTERN

MAX_TOKEN_LENGTH = 2000
MAC_BYTES = 16
MAC_CHARS = 22
"""Length of the signature's text: 16 bytes in base64 without padding."""
MAX_BRACKETS = 8
"""A token's JSON is one flat object: a payload with more brackets than this is not parsed at all."""
KEY_FILE = "oai-token.key"
KEY_WAIT = 1.0
"""Seconds to wait for the key another worker is writing (it creates the file, then writes it)."""
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


def encode(token: Token, key: bytes) -> str:
    data = {short: getattr(token, name) for name, short in _KEYS.items()}
    raw = json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode()
    return _signed(base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), key)


def _mac(payload: str, key: bytes) -> str:
    digest = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _signed(payload: str, key: bytes) -> str:
    """`payload` with its signature appended (tests use it to sign payloads `encode` would never make)."""
    return payload + _mac(payload, key)


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


def _parse(payload: str) -> object:
    """The JSON a signed payload carries; nesting is capped before parsing, so no input exhausts the stack."""
    try:
        text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("ascii")
        if text.count("[") + text.count("{") > MAX_BRACKETS:
            raise BadToken("not a token of this repository")
        return json.loads(text)
    except (binascii.Error, ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadToken("not a token of this repository") from None


def decode(text: str, key: bytes) -> Token:
    """The token `text` stands for, or BadToken: whatever `text` is, nothing else is raised."""
    if (not isinstance(text, str) or not MAC_CHARS < len(text) <= MAX_TOKEN_LENGTH
            or not _TOKEN_CHARS.fullmatch(text)):
        raise BadToken("not a token of this repository")
    payload, mac = text[:-MAC_CHARS], text[-MAC_CHARS:]
    if not hmac.compare_digest(mac, _mac(payload, key)):
        raise BadToken("not a token of this repository")
    data = _parse(payload)
    if not isinstance(data, dict) or set(data) != set(_KEYS.values()):
        raise BadToken("not a token of this repository")
    token = Token(**{name: data[short] for name, short in _KEYS.items()})
    if not _is_valid(token) or encode(token, key) != text:
        raise BadToken("not a token of this repository")
    return token


def _is_valid(token: Token) -> bool:
    """Every field has the type and form `encode` is given: a signed token is still checked (defence in depth)."""
    return bool(
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


# -- the signing key ---------------------------------------------------------------------------

def key_for(config: Mapping[str, object]) -> bytes:
    """The key an app's tokens are signed with: its `CATALOG_OAI_TOKEN_SECRET`, else its instance folder's key."""
    secret = config.get("CATALOG_OAI_TOKEN_SECRET")
    secret = "" if secret is None else str(secret)  # the variable is read as JSON: 12345 arrives as a number
    return _key(secret, str(config["CATALOG_INSTANCE_DIR"]))


@functools.lru_cache(maxsize=16)
def _key(secret: str, instance_dir: str) -> bytes:
    """Read once per process: the key file never changes once written."""
    if secret:
        return secret.encode()
    return _instance_key(Path(instance_dir) / KEY_FILE)


def _instance_key(path: Path) -> bytes:
    """The key in `path`, made first if there is none: O_EXCL lets exactly one of racing workers create it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    key = secrets.token_hex(32).encode()
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def _read_key(path: Path) -> bytes:
    """The key another worker wrote, waiting briefly if it has created the file but not yet written it."""
    deadline = time.monotonic() + KEY_WAIT
    while True:
        key = path.read_bytes().strip()
        if key:
            return key
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} is empty: delete it (a new key is made; tokens already issued stop "
                               "working) or set CATALOG_OAI_TOKEN_SECRET")
        time.sleep(0.05)
