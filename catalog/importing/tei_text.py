"""A FRUS document's text as printed, page by page, with its footnotes and where their marks sit.

The text is read in document order: paragraphs and other blocks are separated by a blank line,
`lb` is a line break, `pb/@n` starts the next printed page (also inside a paragraph, which then
continues on the new page), and each footnote leaves its number in the text where its mark is
printed, as in the seed records ("last night63"). A footnote's `referenced_at.after` quotes the text
just before its mark on that page, so `catalog validate` can check it against the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field

from lxml import etree

TEI = "http://www.tei-c.org/ns/1.0"
FRUS = "http://history.state.gov/frus/ns/1.0"
NS = {"tei": TEI, "frus": FRUS}

BLOCKS = {"head", "p", "opener", "closer", "dateline", "signed", "salute", "list", "item", "table", "row",
          "postscript", "div", "ab", "lg", "l", "attachment", "trailer", "byline", "docAuthor", "seg"}
"""Elements printed as a block of their own (a `seg` only inside an opener, as FRUS lays markings out)."""

_MARK = "\ue000"
"""Stands where a footnote mark is until the page text is final (a private-use character)."""


def local(element) -> str:
    """The element's name without its namespace ('' for comments and processing instructions)."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def plain(element, skip_notes: bool = True) -> str:
    """An element's text on one line, whitespace collapsed, footnotes left out."""
    parts = []

    def walk(node):
        if node.text and isinstance(node.tag, str):
            parts.append(node.text)
        for child in node:
            if not (skip_notes and local(child) == "note"):
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return " ".join("".join(parts).split())


def is_footnote(element) -> bool:
    return local(element) == "note" and element.get("type") != "source" and element.get("rend") != "inline"


@dataclass
class Footnote:
    number: str
    text: str
    page: int
    mark: int
    """Which mark on its page it is (0 = first), to find its place in the final text."""


@dataclass
class Page:
    label: str
    supplied: bool = False
    chunks: list[str] = field(default_factory=list)
    text: str = ""


@dataclass
class Text:
    """A document's pages and footnotes."""

    pages: list[Page]
    footnotes: list[dict]


def read_text(div, first_label: str | None) -> Text:
    """The pages of a `div[@type='document']`; the first page's label is the page break before the
    document, or a supplied "[1]" when the volume has none before it."""
    pages = [Page(first_label or "[1]", supplied=first_label is None)]
    notes: list[Footnote] = []
    marks_on_page = [0]

    def emit(text: str) -> None:
        pages[-1].chunks.append(text)

    def block() -> None:
        emit("\n\n")

    def new_page(pb) -> None:
        label = pb.get("n")
        pages.append(Page(label or f"[{len(pages) + 1}]", supplied=not label))
        marks_on_page.append(0)

    def mark(note) -> None:
        number = note.get("n") or "*"
        notes.append(Footnote(number, plain(note, skip_notes=False), len(pages) - 1, marks_on_page[-1]))
        marks_on_page[-1] += 1
        emit(_MARK + number)

    def children(node, in_opener: bool, skip=None) -> None:
        for child in node:
            kind = local(child)
            if child is skip:
                pass
            elif kind == "pb":
                new_page(child)
            elif kind == "lb":
                emit("\n")
            elif is_footnote(child):
                mark(child)
            elif kind:
                walk(child, in_opener)
            if child.tail:
                emit(_spaced(child.tail))

    def walk(node, in_opener: bool) -> None:
        name = local(node)
        is_block = name in BLOCKS and (name != "seg" or in_opener)
        if is_block:
            block()
        if node.text:
            emit(_spaced(node.text))
        children(node, in_opener or name == "opener")
        if is_block:
            block()

    source = div.find("tei:note[@type='source']", NS)
    if source is not None:
        emit(plain(source))
        block()
    children(div, False, skip=source)
    return _finish(pages, notes)


def _spaced(text: str) -> str:
    """Source whitespace (indentation, line ends) is a single space; an empty text stays empty."""
    return re.sub(r"\s+", " ", text)


def _clean(text: str) -> str:
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _finish(pages: list[Page], notes: list[Footnote]) -> Text:
    """Final page texts; a page break before any text (the document starts on a new page) or after
    all of it leaves no empty page; each footnote is placed by the text before its mark."""
    for page in pages:
        page.text = _clean("".join(page.chunks))
    footnotes = []
    for note in notes:
        page = pages[note.page]
        before = page.text.split(_MARK)[: note.mark + 1]
        prefix = "".join(before).replace(_MARK, "")
        footnote = {"number": note.number, "text": note.text or "(no text)"}
        after = _quote_before(prefix)
        reference = {"page": page.label}
        if after:
            reference["after"] = after
            occurrence = prefix.count(after)
            if occurrence > 1:
                reference["occurrence"] = occurrence
        footnote["referenced_at"] = reference
        footnotes.append(footnote)
    for page in pages:
        page.text = page.text.replace(_MARK, "")
    while len(pages) > 1 and not pages[0].text:
        pages.pop(0)
    while len(pages) > 1 and not pages[-1].text:  # a break as the document's last element: the next one's page
        pages.pop()
    if pages[0].supplied and len(pages) > 1 and pages[1].label.isdigit() and int(pages[1].label) > 1:
        pages[0].label = str(int(pages[1].label) - 1)  # FRUS pages run on: the page before the first break
        for footnote in footnotes:
            if footnote["referenced_at"]["page"] == "[1]":
                footnote["referenced_at"]["page"] = pages[0].label
    return Text(pages, footnotes)


def _quote_before(prefix: str, limit: int = 60) -> str:
    """The end of the line before a mark, at most `limit` characters, starting at a word."""
    line = prefix.rsplit("\n", 1)[-1].rstrip()
    if len(line) <= limit:
        return line
    cut = line[-limit:]
    space = cut.find(" ")
    return cut[space + 1:] if 0 <= space < len(cut) - 1 else cut
