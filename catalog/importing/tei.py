"""`catalog import tei VOLUME.xml`: one record per `div[@type='document']` of a FRUS TEI volume.

What comes from where (the README's "Importing records" has the table): title from `head`; sender
and recipient from `persName`/`gloss` `@type="from|to"`, names resolved through the volume's persons
list (`persName/@corresp`); place and date from the dateline (`date/@when`, else the document's
`frus:doc-dateTime-min/max`, then marked inferred); the source note as provenance (source_notes.py);
classification and other markings from the opener; pages split at `pb/@n` (tei_text.py); footnotes;
signature; the edition from the teiHeader. Record ids are `{volume}-{document}` (`frus1944quebec-d25`),
so a re-import finds its records again: the importer's own fields (OWNED) are replaced, everything a
cataloger added is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from lxml import etree

from catalog.importing import source_notes
from catalog.importing.batch import Candidate
from catalog.importing.batch import now
from catalog.importing.tei_text import NS
from catalog.importing.tei_text import is_footnote
from catalog.importing.tei_text import local
from catalog.importing.tei_text import plain
from catalog.importing.tei_text import read_text

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FRUS_MIN = "{http://history.state.gov/frus/ns/1.0}doc-dateTime-min"
FRUS_MAX = "{http://history.state.gov/frus/ns/1.0}doc-dateTime-max"

DOCUMENT_URL = "https://history.state.gov/historicaldocuments/{volume}/{document}"
"""Where the Office of the Historian publishes each document (an external URL, not one of ours)."""
PUBLISHER = "Office of the Historian, U.S. Department of State"
RIGHTS = {"statement": "Foreign Relations of the United States is a work of the United States Government and "
                       "is in the public domain in the United States.",
          "uri": "http://creativecommons.org/publicdomain/mark/1.0/"}
NO_DECLASSIFICATION = "The edition prints no declassification action."

OWNED = ("title", "document_type", "dates", "creators", "recipients", "dateline", "signature", "pages",
         "footnotes", "provenance.file_number", "provenance.classification", "provenance.markings",
         "provenance.paraphrase", "provenance.transmission", "provenance.editions")
"""What the volume says and a re-import replaces. Everything else (description, persons and places,
repository and collection, rights, access, corrections, relations...) is the cataloger's after the
first import."""

SENT = {"telegram", "cable", "message"}
LEVEL = re.compile(r"^(?:strictly |most )?(top secret|secret|confidential|restricted)\W*$", re.IGNORECASE)
PRECEDENCE = re.compile(r"^(?:(?:most|triple|operational) )?(?:urgent|priority|niact|immediate|flash)\W*$",
                        re.IGNORECASE)
TYPE_IN_HEAD = (("memorandum of conversation", "memorandum of conversation"), ("memorandum", "memorandum"),
                ("minutes", "minutes"), ("letter", "letter"), ("report", "report"), ("note", "note"))


class TeiError(ValueError):
    """The file is not a FRUS TEI volume we can read (not the documents' problems)."""


@dataclass
class Person:
    name: str
    office: str | None = None


@dataclass
class Volume:
    id: str
    title: str | None
    series: str | None
    editors: list
    year: int | None
    language: str
    persons: dict[str, Person] = field(default_factory=dict)
    file_name: str = ""

    def edition(self, number: str | None, document: str, pages: str | None, source_note: str | None) -> dict:
        entry = {"publisher": PUBLISHER, "title": self.title or self.id}
        if self.series:
            entry["series"] = self.series
        if self.editors:
            entry["editors"] = self.editors
        entry["volume_id"] = self.id
        if self.year:
            entry["year"] = self.year
        if number:
            entry["document_number"] = number
        if pages:
            entry["pages"] = pages
        entry["url"] = DOCUMENT_URL.format(volume=self.id, document=document)
        if source_note:
            entry["source_note"] = source_note
        return entry


def read_volume(path: Path):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                             collect_ids=False)  # a repeated xml:id is a slip in the volume, not a reason to stop
    try:
        return etree.parse(str(path), parser)
    except OSError as error:
        raise TeiError(f"{path}: cannot be read ({error})") from error
    except etree.XMLSyntaxError as error:
        line = error.position[0] if error.position else 0
        raise TeiError(f"{path}:{line}: not well-formed XML: {error.msg}") from error


def candidates(path: Path) -> list[Candidate]:
    return read(path)[0]


def read(path: Path) -> tuple[list[Candidate], list[str]]:
    """One candidate per document of the volume, named `FILE:xml:id`; and the editorial notes left out
    (`subtype="editorial-note"`: the editors' narrative, not a document of the archive)."""
    tree = read_volume(path)
    root = tree.getroot()
    volume = _volume(root, path)
    first_pages = _first_pages(root)
    documents = root.findall(".//tei:div[@type='document']", NS)
    if not documents:
        raise TeiError(f"{path}: has no div[@type='document'] (is it a FRUS volume in TEI?)")
    notes = [div for div in documents if div.get("subtype") == "editorial-note"]
    found = [document(div, volume, first_pages.get(div)) for div in documents if div not in notes]
    return found, [f"{path.name}:{div.get(XML_ID) or div.get('n')}" for div in notes]


def _volume(root, path: Path) -> Volume:
    header = root.find(".//tei:teiHeader", NS)

    def text(xpath: str) -> str | None:
        found = header.find(xpath, NS) if header is not None else None
        value = plain(found) if found is not None else ""
        return value or None

    volume_id = text(".//tei:publicationStmt/tei:idno[@type='frus']") or path.stem
    series = [text(".//tei:titleStmt/tei:title[@type='series']"), text(".//tei:titleStmt/tei:title[@type='sub-series']")]
    editors = []
    for editor in header.iterfind(".//tei:titleStmt/tei:editor", NS) if header is not None else []:
        name = plain(editor)
        role = {"primary": "volume editor", "general": "general editor"}.get(editor.get("role", ""))
        if name:
            editors.append({"name": name, "role": role} if role else name)
    year = re.search(r"\d{4}", text(".//tei:publicationStmt/tei:date[@type='publication-date']") or "")
    language = root.get(XML_LANG) or (root.find("tei:text", NS).get(XML_LANG) if root.find("tei:text", NS) is not None
                                      else None) or "en"
    return Volume(volume_id, text(".//tei:titleStmt/tei:title[@type='complete']"),
                  ": ".join(s for s in series if s) or None, editors, int(year.group()) if year else None,
                  language, _persons(root), path.name)


PERSONS_SECTIONS = ("persons", "persname", "listofpersons", "correspondents")
"""The `xml:id`s FRUS volumes give their persons list (most: "persons")."""


def _persons(root) -> dict[str, Person]:
    """The volume's persons list: the id (on the `persName` or on its `item`) → the name, and the
    office that follows it."""
    found = {}
    for div in root.iter("{http://www.tei-c.org/ns/1.0}div"):
        if (div.get(XML_ID) or "").lower() not in PERSONS_SECTIONS:
            continue
        for item in div.iter("{http://www.tei-c.org/ns/1.0}item"):
            name = item.find(".//tei:persName", NS)
            key = None if name is None else name.get(XML_ID) or item.get(XML_ID)
            if key and key not in found:
                office = plain(item).removeprefix(plain(name)).lstrip(" ,")
                found[key] = Person(plain(name), office or None)
    return found


def _first_pages(root) -> dict:
    """For each document, the label of the last page break before it (None when there is none)."""
    found, current = {}, None
    for element in root.iter():
        name = local(element)
        if name == "pb":
            current = element.get("n") or current
        elif name == "div" and element.get("type") == "document":
            found[element] = current
    return found


def record_id(volume: str, document: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{volume}-{document}".lower()).strip("-")[:100].strip("-")


def document(div, volume: Volume, first_label: str | None) -> Candidate:
    """A document's record, and the fields of it the importer owns."""
    doc_id = div.get(XML_ID) or f"n{div.get('n')}"
    head = div.find("tei:head", NS)
    title = plain(head) if head is not None else ""
    source_element = div.find("tei:note[@type='source']", NS)
    source = source_notes.parse(plain(source_element)) if source_element is not None else None
    text = read_text(div, first_label)
    doc_type = _document_type(div, title, source)
    record: dict = {"id": record_id(volume.id, doc_id)}
    if title:
        record["title"] = title
    if doc_type:
        record["document_type"] = doc_type
    record["language"] = volume.language
    dates = _dates(div, doc_type)
    if dates:
        record["dates"] = dates
    creators, recipients = _agents(div, head, title, volume, doc_type)
    record["creators"], record["recipients"] = creators, recipients
    mentioned = _mentioned(div, volume)
    if mentioned:
        record["persons_mentioned"] = mentioned
    record["places"] = _places(div, doc_type)
    record["provenance"] = _provenance(div, volume, doc_id, source, text)
    record["description"] = {"notes": _notes(volume, div, doc_id, text)}
    if text.footnotes:
        record["footnotes"] = text.footnotes
    dateline = div.find("tei:opener/tei:dateline", NS)
    if dateline is None:
        dateline = div.find(".//tei:dateline", NS)
    if dateline is not None and plain(dateline):
        record["dateline"] = plain(dateline)
    signed = div.find(".//tei:closer//tei:signed", NS)
    if signed is not None and plain(signed):
        record["signature"] = plain(signed)
    record["rights"] = dict(RIGHTS)
    record["access"] = {"status": "open"}
    record["pages"] = [{"label": p.label, **({"label_supplied": True} if p.supplied else {}), "text": p.text}
                       for p in text.pages]
    stamp = now()
    record["cataloging"] = {"created": stamp, "modified": stamp, "sources": [
        DOCUMENT_URL.format(volume=volume.id, document=doc_id), f"{volume.file_name} (FRUS TEI), {doc_id}"]}
    return Candidate(f"{volume.file_name}:{doc_id}", record, OWNED, keep=_keep_other_editions)


def _keep_other_editions(existing: dict, merged: dict) -> None:
    """Editions a cataloger added (another volume, a website) stay beside the imported one."""
    imported = merged.get("provenance", {}).get("editions", [])
    urls = {e.get("url") for e in imported}
    others = [e for e in existing.get("provenance", {}).get("editions", []) if e.get("url") not in urls]
    if others:
        merged["provenance"]["editions"] = imported + others


def _document_type(div, title: str, source) -> str | None:
    """From the source note's form ("Telegram"), else the heading or the first line ("Memorandum for the
    President"); None when the volume does not say (the report then names the field)."""
    if source and source.document_type:
        return source.document_type
    lines = [title.lower()]
    first = div.find("tei:p", NS)
    if first is not None:
        lines.append(plain(first).lower())
    for line in lines:
        for word, doc_type in TYPE_IN_HEAD:
            if line.startswith(word):
                return doc_type
    return None


def _dates(div, doc_type: str | None) -> list[dict]:
    """The dateline's date (`@when`); without one, the day the editors assigned, marked inferred."""
    kind = "sent" if doc_type in SENT else "dated"
    date = div.find("tei:opener//tei:date", NS)
    if date is None:
        date = div.find(".//tei:dateline//tei:date", NS)
    printed = plain(date) if date is not None else ""
    when = date.get("when", "") if date is not None else ""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}))?.*", when)
    if match:
        entry = {"type": kind, "date": match.group(1)}
        if match.group(2):
            entry["time"] = match.group(2)
        if printed:
            entry["as_printed"] = printed
        return [entry]
    low, high = div.get(FRUS_MIN, "")[:10], div.get(FRUS_MAX, "")[:10]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", low):
        return []
    entry = {"type": kind, "date": low, "certainty": "inferred"}
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", high) and high != low:
        entry.update(not_before=low, not_after=high, edtf=f"{low}/{high}")
    if printed:
        entry["as_printed"] = printed
    entry["note"] = ("The dateline gives no full date; the date is the one the editors assigned the document "
                     "in the volume's encoding (frus:doc-dateTime-min/max).")
    return [entry]


def _agents(div, head, title: str, volume: Volume, doc_type: str | None) -> tuple[list, list]:
    """Senders and recipients named in the heading (`@type="from"`/`"to"`), each with the heading as
    printed for its side, its office, and the name from the persons list."""
    scope = head if head is not None else div
    sides = {}
    for side in ("from", "to"):
        sides[side] = [e for e in scope.iterfind(f".//*[@type='{side}']") if local(e) in ("persName", "gloss")
                       and not _in_note(e, scope)]
    printed_from, printed_to = _split_heading(title, sides)
    creators = [_agent(e, printed_from if len(sides["from"]) == 1 else None, volume,
                       "sender" if doc_type in SENT else "author") for e in sides["from"]]
    recipients = [_agent(e, printed_to if len(sides["to"]) == 1 else None, volume, "addressee") for e in sides["to"]]
    return creators, recipients


def _in_note(element, scope) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not scope:
        if is_footnote(parent):
            return True
        parent = parent.getparent()
    return False


def _split_heading(title: str, sides: dict) -> tuple[str | None, str | None]:
    """'The Ambassador in the Soviet Union (Harriman) to the President' at the ' to ' between the two
    sides; 'Memorandum by the Secretary of State' keeps what follows ' by '."""
    if not title:
        return None, None
    split = title.find(" to ") if sides["to"] else -1
    sender = plain(sides["from"][-1]) if sides["from"] else ""
    if sender and sides["to"] and sender in title:
        end = title.find(sender) + len(sender)
        start = title.find(plain(sides["to"][0]), end)
        split = title.rfind(" to ", end - 1, start + 1) if start >= 0 else -1
    before, after = (title[:split], title[split + 4:]) if split >= 0 else (title, None)
    if " by " in before:
        before = before.rsplit(" by ", 1)[1]
    return (before.strip(" ,") or None) if sides["from"] else None, (after or "").strip(" ,") or None


def _agent(element, printed: str | None, volume: Volume, role: str) -> dict:
    shown = plain(element)
    printed = printed or shown
    agent: dict = {}
    if local(element) == "gloss":
        agent["name"] = shown
        agent["note"] = "The heading names the office only; the person is not identified in the volume's encoding."
    else:
        person = _resolve(element, volume)
        agent["name"] = person.name if person else shown
        if person is None:
            agent["note"] = "Not resolved through the volume's persons list (the name has no @corresp)."
        elif not element.get("corresp"):
            agent["note"] = (f"The name has no @corresp; “{shown}” matches only {person.name} in the volume's "
                             "persons list.")
    agent["role"] = role
    office = _office(printed, shown, local(element) == "gloss", agent["name"])
    if office:
        agent["office"] = office
    agent["as_printed"] = printed
    return {k: agent[k] for k in ("name", "role", "office", "as_printed", "note") if k in agent}


def _resolve(element, volume: Volume) -> Person | None:
    """The persons-list entry a `persName` points to; without @corresp, the one entry whose family
    name is the printed name (several, or none: not resolved)."""
    reference = (element.get("corresp") or "").removeprefix("#")
    if reference:
        return volume.persons.get(reference)
    shown = plain(element)
    matches = [p for p in volume.persons.values() if p.name.split(",")[0].strip() == shown]
    return matches[0] if len(matches) == 1 else None


def _office(printed: str, shown: str, is_gloss: bool, name: str) -> str | None:
    """'The Ambassador in the Soviet Union (Harriman)' → 'Ambassador in the Soviet Union';
    'President Roosevelt' → 'President'; a gloss is the office itself, and so is a linked name that
    is a title ('the <persName corresp="#p_RFD1">President</persName>')."""
    article = re.compile(r"^(?:the|The)\b\s*")
    if is_gloss:
        return article.sub("", shown) or None
    office = re.sub(r"\s*\([^)]*\)", "", printed).strip(" ,").removesuffix(shown)
    office = article.sub("", office.strip(" ,"))
    if not office and shown not in name:
        return shown
    return office or None


def _mentioned(div, volume: Volume) -> list[dict]:
    """People the text names with a link to the persons list (not the heading's sender and recipient)."""
    found = {}
    for element in div.iterfind(".//tei:persName[@corresp]", NS):
        if element.get("type") in ("from", "to"):
            continue
        person = volume.persons.get(element.get("corresp").removeprefix("#"))
        if person and person.name not in found:
            found[person.name] = {"name": person.name, "as_printed": plain(element)}
    return list(found.values())


def _places(div, doc_type: str | None) -> list[dict]:
    found = []
    role = "sent from" if doc_type in SENT else "written at"
    for element in div.iterfind(".//tei:placeName", NS):
        name = plain(element).strip("[]").strip(" ,")
        if not name:
            continue
        in_dateline = any(local(a) == "dateline" for a in element.iterancestors())
        entry = {"name": name, "role": role if in_dateline else "mentioned", "as_printed": plain(element)}
        if entry not in found:
            found.append(entry)
    return found


def _provenance(div, volume: Volume, doc_id: str, source, text) -> dict:
    provenance: dict = {}
    repository = source.repository() if source else None
    if repository:
        provenance["repository"] = repository
    collection = source.collection_entry() if source else None
    if collection:
        provenance["collection"] = collection
    if source and source.file_number:
        provenance["file_number"] = source.file_number
    levels, markings = _markings(div)
    provenance["classification"] = {"level": levels[0][0] if levels else "unmarked",
                                    "as_marked": [marked for _level, marked in levels]}
    if markings:
        provenance["markings"] = markings
    if any(m["kind"] == "paraphrase" for m in markings):
        provenance["paraphrase"] = True
    if source and source.channel:
        provenance["transmission"] = {"channel": source.channel}
    if levels:
        provenance["declassification_unrecorded"] = NO_DECLASSIFICATION
    printed = [p.label for p in text.pages if not p.supplied or p.label.isdigit()]
    pages = (printed[0] if len(set(printed)) == 1 else f"{printed[0]}–{printed[-1]}") if printed else None
    provenance["editions"] = [volume.edition(div.get("n"), doc_id, pages, source.text if source else None)]
    return provenance


def _markings(div) -> tuple[list[tuple[str, str]], list[dict]]:
    """The opener's lines other than the dateline: classification, precedence, paraphrase, handling."""
    opener = div.find("tei:opener", NS)
    if opener is None:
        return [], []
    lines = []
    for child in opener:
        if local(child) in ("dateline", "salute", "note", ""):
            continue
        lines += _lines(child)
    levels, markings = [], []
    for line in lines:
        level = LEVEL.match(line)
        if level:
            levels.append((level.group(1).lower(), line))
        elif PRECEDENCE.match(line):
            markings.append({"kind": "precedence", "text": line})
        elif line.lower().strip("[]. ") == "paraphrase":
            markings.append({"kind": "paraphrase", "text": line})
        elif len(line.split()) <= 12:
            markings.append({"kind": "handling", "text": line})
    return levels, markings


def _lines(element) -> list[str]:
    """An element's text split at its line breaks (`lb`), each line on one line, footnotes left out."""
    parts = [element.text or ""]
    for child in element.iter():
        if child is element or _in_note(child, element):
            continue
        if local(child) == "lb":
            parts.append("\n")
        elif local(child) and not is_footnote(child) and child.text:
            parts.append(child.text)
        if child.tail:
            parts.append(child.tail)
    return [" ".join(line.split()) for line in "".join(parts).split("\n") if line.strip()]


def _notes(volume: Volume, div, doc_id: str, text) -> list[dict]:
    notes = [{"kind": "cataloger", "text": f"Imported from the FRUS TEI volume {volume.id}, document "
                                           f"{div.get('n') or doc_id} ({doc_id}), by `catalog import tei`."}]
    first = text.pages[0]
    if first.supplied:
        how = ("the page before the document's first page break" if first.label != "[1]"
               else "a label supplied by the importer")
        notes.append({"kind": "cataloger", "text": "The volume's encoding has no page break before this document, "
                                                   f"so its first page carries the label “{first.label}”: {how}."})
    return notes
