"""The OAI-PMH response envelope, record headers and errors, built with lxml (which escapes)."""

from __future__ import annotations

import datetime as dt
import functools
import re

from lxml import etree

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text with the characters XML 1.0 forbids (control characters, lone surrogates) removed."""
    return _NOT_XML.sub("", text)


def oai(tag: str) -> str:
    return f"{{{OAI_NS}}}{tag}"


def sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    """A child in the OAI namespace; text and attribute values are cleaned of characters XML forbids."""
    element = etree.SubElement(parent, oai(tag), {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def envelope(base_url: str, echo: dict[str, str]) -> etree._Element:
    """`<OAI-PMH>` with the response date and the request it answers (attributes: `echo`)."""
    root = etree.Element(oai("OAI-PMH"), nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    sub(root, "responseDate", dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    sub(root, "request", base_url, **echo)
    return root


def add_error(root: etree._Element, code: str, message: str) -> None:
    sub(root, "error", message, code=code)


def text_bytes(text: str) -> bytes:
    """Text as lxml (libxml2) writes it in element content, UTF-8: `&`, `<`, `>` and carriage returns
    escaped, characters XML forbids removed."""
    return (xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;").encode())


@functools.lru_cache(maxsize=4096)
def _set_spec_bytes(spec: str) -> bytes:
    """Every header of a page names its sets, and there are few distinct ones."""
    return b"<setSpec>" + text_bytes(spec) + b"</setSpec>"


def header_bytes(identifier: str, datestamp: str, sets: tuple[str, ...], deleted: bool) -> bytes:
    """A record's `<header>` as lxml would serialize it inside a response, byte for byte (tests compare
    the two), written directly: a page of headers costs no tree."""
    specs = b"".join(map(_set_spec_bytes, sets))
    return (b'<header status="deleted">' if deleted else b"<header>") + b"<identifier>" + text_bytes(identifier) + \
        b"</identifier><datestamp>" + text_bytes(datestamp) + b"</datestamp>" + specs + b"</header>"


def add_oai_identifier(parent: etree._Element, repository_identifier: str, sample: str) -> None:
    """The `oai-identifier` description for Identify: how our item identifiers are formed."""
    description = sub(parent, "description")
    element = etree.SubElement(description, f"{{{OAI_ID_NS}}}oai-identifier", nsmap={None: OAI_ID_NS})
    element.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_ID_NS} {OAI_ID_SCHEMA}")
    for tag, text in (("scheme", "oai"), ("repositoryIdentifier", repository_identifier), ("delimiter", ":"),
                      ("sampleIdentifier", sample)):
        etree.SubElement(element, f"{{{OAI_ID_NS}}}{tag}").text = text


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


PLACEHOLDER = b"<metadata/>"
"""Where a fragment goes in a serialized envelope (an empty element: text and attribute values are
escaped, so nothing else serializes to this)."""


class Document:
    """A response: the envelope tree, plus byte fragments spliced into it in document order.

    A page of records is an empty element in the tree, replaced by the records' bytes when the
    response is serialized: it costs one small tree and a join, not a tree of them all."""

    def __init__(self, root: etree._Element, fragments: list[bytes] | None = None):
        self.root = root
        self.fragments = fragments if fragments is not None else []

    def splice(self, parent: etree._Element, fragment: bytes) -> None:
        """`fragment` (serialized elements) as the next children of `parent`."""
        sub(parent, "metadata")
        self.fragments.append(fragment)

    def to_bytes(self) -> bytes:
        body = serialize(self.root)
        if not self.fragments:
            return body
        pieces = body.split(PLACEHOLDER)
        if len(pieces) != len(self.fragments) + 1:
            raise ValueError("the envelope and its metadata fragments do not match")
        out = [pieces[0]]
        for fragment, piece in zip(self.fragments, pieces[1:]):
            out += (fragment, piece)
        return b"".join(out)
