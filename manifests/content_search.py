"""IIIF Content Search 1.0 and 2.0 inside one document, with their autocomplete services.

A viewer sends the reader's words to the manifest's search service; the answer says on which page
(canvas) each match is, with the words around it, so the viewer can list the hits and turn to them.
Matching is the catalog's own: the query is parsed as the search box parses it (phrases, `-word`,
prefixes with `*`), case and diacritics fold as in the full-text index, and excluded words only
exclude. Restricted and unknown records are 404, as everywhere under /iiif/.

Version 1 answers an `sc:AnnotationList` with `hits` (Mirador 3/4, Universal Viewer); version 2 an
`AnnotationPage` of `highlighting` annotations with `TextQuoteSelector`s (Clover, newer Mirador).
A hit on a page the server draws is boxed: the renderer knows where each character stands, so the
target is `canvas#xywh=` the words' box (version 2 adds a FragmentSelector beside the quote). Hits
on scanned pages target the page; hits in footnotes the page that carries the footnote mark.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint
from flask import Response
from flask import request
from werkzeug.exceptions import BadRequest

from catalog.http import get_index
from catalog.http import urls
from catalog.index.search import SearchTerms
from catalog.model import Record
from catalog.query import QueryError
from catalog.query import parse
from catalog.query import tokens
from manifests import typescript
from manifests.iiif import dump
from manifests.iiif import iiif_response
from manifests.iiif import public_record

blueprint = Blueprint("content_search", __name__)

SEARCH1_CONTEXT = "http://iiif.io/api/search/1/context.json"
SEARCH2_CONTEXT = "http://iiif.io/api/search/2/context.json"
PRESENTATION2_CONTEXT = "http://iiif.io/api/presentation/2/context.json"
MAX_HITS = 500
"""Hits listed in one answer (the total is always given); a document rarely has more."""
CONTEXT_CHARS = 40
"""Characters shown before and after a hit."""
MAX_TERMS = 50


@dataclass(frozen=True)
class Hit:
    canvas: int
    """1-based page (canvas) number in reading order."""
    start: int
    end: int
    text: str
    """The text the hit was found in (the page's, or the footnote's)."""
    box: tuple[int, int, int, int] | None = None
    """Where the words are drawn on the page image (x, y, w, h), for pages the server renders."""

    def target(self, canvas_id: str) -> str:
        return canvas_id + (f"#xywh={','.join(map(str, self.box))}" if self.box else "")

    @property
    def match(self) -> str:
        return self.text[self.start:self.end]

    @property
    def before(self) -> str:
        return self.text[max(0, self.start - CONTEXT_CHARS):self.start]

    @property
    def after(self) -> str:
        return self.text[self.end:self.end + CONTEXT_CHARS]


def find(record: Record, q: str) -> list[Hit]:
    """Every match of the query in the record's pages and footnotes, in reading order."""
    try:
        query = parse(q)
    except QueryError as error:
        raise BadRequest(str(error)) from None
    if query.match is None:
        raise BadRequest("The search has no words to look for.")
    terms = SearchTerms(query)
    body, notes = terms.pattern("body"), terms.pattern("notes")
    pages = [page for _part, page in record.all_pages()]
    hits = [Hit(n, m.start(), m.end(), page.text, _box(page, m)) for n, page in enumerate(pages, 1)
            for m in (body.finditer(page.text) if body else ())]
    if notes:
        labels = {page.label: n for n, page in reversed(list(enumerate(pages, 1)))}  # first page with the label
        for footnote in record.footnotes:
            where = labels.get(footnote.referenced_at.page) if footnote.referenced_at else None
            hits += [Hit(where or 1, m.start(), m.end(), footnote.text) for m in notes.finditer(footnote.text)]
    excluded = [word for term in query.excluded for word in term.tokens]
    if excluded and any(word in tokens(page.text) for page in pages for word in excluded):
        return []  # `-word`: a document holding the word is not a match at all, as in the catalog
    return hits


def _box(page, match: re.Match) -> tuple[int, int, int, int] | None:
    """The match's box on a page the server draws (a scan has no known word positions)."""
    if page.image_service or page.image_url:
        return None
    return typescript.text_box(page.text, match.start(), match.end())


def _query() -> str:
    q = request.args.get("q", "").strip()
    if not q:
        raise BadRequest("Give the words to look for: ?q=...")
    return q


@blueprint.get("/iiif/<record_id>/search/1")
def search1(record_id: str) -> Response:
    record = public_record(record_id)
    q = _query()
    links = urls()
    hits = find(record, q)
    resources, found = [], []
    for n, hit in enumerate(hits[:MAX_HITS], 1):
        annotation_id = f"{links.content_search(record.id, 1)}/annotation/{n}?q={_quoted(q)}"
        resources.append({"@id": annotation_id, "@type": "oa:Annotation", "motivation": "sc:painting",
                          "resource": {"@type": "cnt:ContentAsText", "chars": hit.match},
                          "on": hit.target(links.canvas(record.id, hit.canvas))})
        found.append({"@type": "search:Hit", "annotations": [annotation_id], "match": hit.match,
                      "before": hit.before, "after": hit.after})
    body = {"@context": [PRESENTATION2_CONTEXT, SEARCH1_CONTEXT],
            "@id": f"{links.content_search(record.id, 1)}?q={_quoted(q)}", "@type": "sc:AnnotationList",
            "within": {"@type": "sc:Layer", "total": len(hits)}, "resources": resources, "hits": found}
    return _answer(record, body)


@blueprint.get("/iiif/<record_id>/search/2")
def search2(record_id: str) -> Response:
    record = public_record(record_id)
    q = _query()
    links = urls()
    hits = find(record, q)
    page_id = f"{links.content_search(record.id, 2)}?q={_quoted(q)}"
    items = [{"id": f"{links.content_search(record.id, 2)}/annotation/{n}?q={_quoted(q)}", "type": "Annotation",
              "motivation": "highlighting",
              "target": {"type": "SpecificResource",
                         "source": {"id": links.canvas(record.id, hit.canvas), "type": "Canvas",
                                    "partOf": [{"id": links.manifest(record.id), "type": "Manifest"}]},
                         "selector": [{"type": "TextQuoteSelector", "prefix": hit.before, "exact": hit.match,
                                       "suffix": hit.after},
                                      *([{"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                                          "value": f"xywh={','.join(map(str, hit.box))}"}] if hit.box else [])]}}
             for n, hit in enumerate(hits[:MAX_HITS], 1)]
    body = {"@context": SEARCH2_CONTEXT, "id": page_id, "type": "AnnotationPage",
            "partOf": {"id": page_id, "type": "AnnotationCollection", "total": len(hits)}, "items": items}
    return _answer(record, body)


def terms_starting(record: Record, prefix: str) -> list[tuple[str, int]]:
    """The document's words that begin with `prefix` (as the index folds them), most frequent first."""
    wanted = tokens(prefix)
    if len(wanted) != 1:
        raise BadRequest("Autocomplete takes the beginning of one word: ?q=harr")
    counts = Counter(word for _part, page in record.all_pages() for word in tokens(page.text)
                     if word.startswith(wanted[0]))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_TERMS]


@blueprint.get("/iiif/<record_id>/autocomplete/1")
def autocomplete1(record_id: str) -> Response:
    record = public_record(record_id)
    q = _query()
    links = urls()
    body = {"@context": SEARCH1_CONTEXT, "@id": f"{links.autocomplete(record.id, 1)}?q={_quoted(q)}",
            "@type": "search:TermList",
            "terms": [{"match": word, "url": f"{links.content_search(record.id, 1)}?q={_quoted(word)}",
                       "count": n} for word, n in terms_starting(record, q)]}
    return _answer(record, body)


@blueprint.get("/iiif/<record_id>/autocomplete/2")
def autocomplete2(record_id: str) -> Response:
    record = public_record(record_id)
    q = _query()
    links = urls()
    body = {"@context": SEARCH2_CONTEXT, "id": f"{links.autocomplete(record.id, 2)}?q={_quoted(q)}",
            "type": "TermPage",
            "items": [{"value": word, "total": n} for word, n in terms_starting(record, q)]}
    return _answer(record, body)


def _answer(record: Record, body: dict) -> Response:
    """A search service's JSON-LD, conditional on the record's datestamp like every IIIF resource."""
    return iiif_response(dump(body), get_index().datestamp(record.id), "application/ld+json")


def _quoted(q: str) -> str:
    """The query as it goes back into a URL (every character but the unreserved ones escaped)."""
    return quote(q, safe="")
