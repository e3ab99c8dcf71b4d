"""The OAI-PMH response envelope, record headers and errors, built with lxml (which escapes)."""

from __future__ import annotations

import datetime as dt
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


def add_header(parent: etree._Element, identifier: str, datestamp: str, sets: tuple[str, ...],
               deleted: bool) -> etree._Element:
    header = sub(parent, "header", **({"status": "deleted"} if deleted else {}))
    sub(header, "identifier", identifier)
    sub(header, "datestamp", datestamp)
    for spec in sets:
        sub(header, "setSpec", spec)
    return header


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
