"""The catalog and search pages as data: query-string parsing, links, results, facets, year counts.

`parse_request` turns the query string into a `BrowseRequest` or a 400 with a message saying what
is allowed; `browse_data` asks the index for one page of results and the counts, and returns
the dict the HTML template renders and the JSON twin serialises. Links keep the other filters and
drop the page number when the filters change.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from urllib.parse import urlencode

from flask import current_app
from markupsafe import Markup
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import ServiceUnavailable

from catalog.facts import display_name
from catalog.facts import long_date
from catalog.facts import person_slug
from catalog.index import search
from catalog.index.api import CatalogIndex
from catalog.index.projection import FACETS
from catalog.index.search import SearchTimeout  # noqa: F401 (the views catch it from here)
from catalog.model import slugify
from catalog.query import ParsedQuery
from catalog.query import QueryError
from catalog.query import parse
from catalog.urls import Urls

FACET_LABELS = {
    "collection": "Collection",
    "repository": "Holding repository",
    "type": "Document type",
    "classification": "Original classification",
    "decade": "Decade",
    "year": "Year",
    "creator": "Creator",
    "recipient": "Recipient",
    "place": "Place",
}
assert set(FACET_LABELS) == set(FACETS)
PERSON_FACETS = ("creator", "recipient")
"""Facets whose values are people (or offices): each value links its person page too."""

FACET_LIMIT = 10
MORE_LIMIT = 200
MAX_SELECTED = 20
MAX_VALUE_LENGTH = 300
SINGLE = ("q", "sort", "page", "per_page", "from", "to", "format", "more")
ALLOWED = (*SINGLE, *FACETS)
CLASSIFICATION_ORDER = ("top secret", "secret", "confidential", "restricted", "unclassified", "unmarked")
RETRY_AFTER_SECONDS = 30
"""Retry-After of the 503 a search past its deadline answers."""


@dataclass
class BrowseRequest:
    """A validated catalog request: what to show and how to link to its neighbours."""

    path: str
    base: str = ""
    """Prefix of every link: empty for the HTML page, the site's absolute base for the JSON twin."""
    q: str = ""
    query: ParsedQuery | None = None
    selected: list[tuple[str, str]] = field(default_factory=list)
    date_from: str = ""
    date_to: str = ""
    sort: str = "date"
    page: int = 1
    per_page: int = 20
    more: str | None = None

    @property
    def filters(self) -> search.Filters:
        return search.Filters(self.query, tuple(self.selected),
                              date_bound(self.date_from, upper=False) if self.date_from else None,
                              date_bound(self.date_to, upper=True) if self.date_to else None)

    def pairs(self, **changes) -> list[tuple[str, str]]:
        """The query string of this request with `changes` applied (page dropped unless given)."""
        q = changes.get("q", self.q)
        selected = changes.get("selected", self.selected)
        date_from, date_to = changes.get("dates", (self.date_from, self.date_to))
        sort = changes.get("sort", self.sort)
        more = changes.get("more", self.more)
        out = [("q", q)] if q else []
        out += list(selected)
        out += [("from", date_from)] if date_from else []
        out += [("to", date_to)] if date_to else []
        if sort != default_sort(q):
            out.append(("sort", sort))
        if self.per_page != current_app.config["CATALOG_PER_PAGE"]:
            out.append(("per_page", str(self.per_page)))
        if more:
            out.append(("more", more))
        if changes.get("page", 1) != 1:
            out.append(("page", str(changes["page"])))
        return out

    def url(self, **changes) -> str:
        pairs = self.pairs(**changes)
        path = changes.get("path", self.path)
        return self.base + path + ("?" + urlencode(pairs) if pairs else "")

    def hidden_fields(self, *without: str) -> list[tuple[str, str]]:
        """The current filters as hidden form fields, for forms that change one thing."""
        return [(name, value) for name, value in self.pairs(page=1) if name not in without]


def default_sort(q: str) -> str:
    return "relevance" if q else "date"


def parse_request(args: MultiDict, path: str, page: int, per_page: int, base: str = "") -> BrowseRequest:
    """Validate the query string; BadRequest says what is wrong and what is allowed."""
    unknown = sorted(name for name in args if name not in ALLOWED)
    if unknown:
        raise BadRequest(f"Unknown parameter {unknown[0][:40]!r}. Allowed: {', '.join(ALLOWED)}.")
    for name in SINGLE:
        if len(args.getlist(name)) > 1:
            raise BadRequest(f"'{name}' is given more than once.")
    request = BrowseRequest(path=path, base=base, page=page, per_page=per_page)
    request.q = args.get("q", "").strip()
    if request.q:
        try:
            request.query = parse(request.q)
        except QueryError as error:
            raise BadRequest(str(error)) from None
        if request.query.match is None:
            raise BadRequest(f"The search “{request.q[:100]}” has no words to look for. Try a word, a "
                             "\"phrase in quotation marks\", file:\"740.0011 Moscow/10-3043\" or person:harriman.")
    sort = args.get("sort", default_sort(request.q))
    if sort not in search.SORTS:
        raise BadRequest(f"Unknown sort {sort[:40]!r}. Allowed: {', '.join(search.SORTS)}.")
    request.sort = "date" if sort == "relevance" and not request.q else sort
    for name in FACETS:
        for value in args.getlist(name):
            if not value or len(value) > MAX_VALUE_LENGTH:
                raise BadRequest(f"'{name}' must be a value between 1 and {MAX_VALUE_LENGTH} characters long.")
            if (name, value) not in request.selected:
                request.selected.append((name, value))
    if len(request.selected) > MAX_SELECTED:
        raise BadRequest(f"At most {MAX_SELECTED} filters can be combined.")
    for name in ("from", "to"):
        value = args.get(name, "").strip()
        if value:
            try:
                date_bound(value, upper=name == "to")
            except ValueError as error:
                raise BadRequest(f"'{name}': {error}.") from None
        setattr(request, "date_from" if name == "from" else "date_to", value)
    filters = request.filters
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise BadRequest(f"The date range ends ({request.date_to}) before it begins ({request.date_from}).")
    more = args.get("more") or None
    if more is not None and more not in FACETS:
        raise BadRequest(f"Unknown facet {more[:40]!r}. Facets: {', '.join(FACETS)}.")
    request.more = more
    return request


# -- the data behind the page ----------------------------------------------------------------

def highlight(snippet: str | None) -> Markup | None:
    """Escape an FTS5 snippet, then turn its private marker characters into balanced <mark> tags."""
    if snippet is None:
        return None
    out, open_mark = [], False
    for piece in re.split(f"([{search.MARK_START}{search.MARK_END}])", snippet):
        if piece == search.MARK_START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif piece == search.MARK_END:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(str(escape(piece)))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


def too_long() -> ServiceUnavailable:
    """The error a search past its deadline answers: 503 with Retry-After, saying what to do."""
    return ServiceUnavailable("The search took too long; narrow it (fewer or rarer words, a \"phrase in "
                              "quotation marks\", a facet or a date range) and try again in a moment.",
                              retry_after=RETRY_AFTER_SECONDS)


def plain_snippet(snippet: str | None) -> str | None:
    if snippet is None:
        return None
    return snippet.replace(search.MARK_START, "").replace(search.MARK_END, "")


def item(row: dict, links: Urls) -> dict:
    """One result as shown in the list and in the JSON twin."""
    return {
        "id": row["id"],
        "title": row["title"],
        "date": row["date"],
        "date_display": long_date(date.fromisoformat(row["date"])),
        "date_as_printed": row["date_as_printed"],
        "document_type": row["document_type"],
        "creators": [display_name(n) for n in row["creators"]],
        "recipients": [display_name(n) for n in row["recipients"]],
        "collection": row["collection"],
        "collection_url": links.collection(row["collection_slug"]),
        "repository": row["repository"],
        "classification": row["classification"],
        "classification_class": slugify(row["classification"]),
        "file_number": row["file_number"],
        "summary": row["summary"],
        "snippet": plain_snippet(row["snippet"]),
        "snippet_html": highlight(row["snippet"]),
        "url": links.record(row["id"]),
    }


def facet_data(request: BrowseRequest, counts: dict[str, list[tuple[str, int]]], links: Urls | None = None) -> list[dict]:
    """Each facet's values as filter links; a person's (creator, recipient) also links their person page."""
    links = links or Urls(request.base)
    out = []
    for name in FACETS:
        values = counts.get(name, [])
        if name == "classification":
            values = sorted(values, key=lambda v: (CLASSIFICATION_ORDER.index(v[0])
                                                   if v[0] in CLASSIFICATION_ORDER else 99, v[0]))
        limit = MORE_LIMIT if request.more == name else FACET_LIMIT
        shown = values[:limit]
        for chosen in (v for f, v in request.selected if f == name):  # a selected value is always shown
            if chosen not in (v for v, _n in shown):
                shown.append((chosen, next((n for v, n in values if v == chosen), 0)))
        entries = []
        for value, number in shown:
            selected = (name, value) in request.selected
            changed = ([p for p in request.selected if p != (name, value)] if selected
                       else [*request.selected, (name, value)])
            entry = {"value": value, "label": display_name(value) if name in PERSON_FACETS else value,
                     "count": number, "selected": selected, "url": request.url(selected=changed)}
            if name in PERSON_FACETS and person_slug(value):
                entry["person_url"] = links.person(person_slug(value))
            entries.append(entry)
        facet = {"name": name, "label": FACET_LABELS[name], "values": entries, "distinct": len(values)}
        if len(values) > FACET_LIMIT:
            facet["more_url" if request.more != name else "fewer_url"] = request.url(
                more=name if request.more != name else None)
        out.append(facet)
    return out


def year_data(request: BrowseRequest, counts: dict[str, list[tuple[str, int]]]) -> list[dict]:
    """Documents per year, every year from the first to the last (empty years too), each a date filter."""
    found = {int(v): n for v, n in counts.get("year", []) if v.isdigit()}
    if not found:
        return []
    years = range(min(found), max(found) + 1) if max(found) - min(found) < 150 else sorted(found)
    filters = request.filters
    out = []
    for year in years:
        first, last = f"{year}-01-01", f"{year}-12-31"
        active = bool(filters.date_from or filters.date_to)
        within = active and (filters.date_from or "") <= first and last <= (filters.date_to or "9999")
        out.append({"year": year, "count": found.get(year, 0), "selected": within,
                    "url": request.url(dates=(str(year), str(year)))})
    return out


def chart_geometry(years: list[dict], width: int = 320, height: int = 96) -> dict:
    """Bar positions for the server-rendered SVG chart (viewBox units)."""
    if not years:
        return {"bars": [], "width": width, "height": height}
    peak = max(y["count"] for y in years) or 1
    slot = width / len(years)
    plot = height - 16
    bars = []
    for index, year in enumerate(years):
        bar_height = 0 if year["count"] == 0 else max(2.0, plot * year["count"] / peak)
        bars.append({**year, "x": round(index * slot + slot * 0.1, 2), "width": round(slot * 0.8, 2),
                     "y": round(plot - bar_height, 2), "height": round(bar_height, 2),
                     "label_x": round(index * slot + slot / 2, 2)})
    step = max(1, round(len(years) / 6))
    for index, bar in enumerate(bars):
        bar["show_label"] = index % step == 0
    return {"bars": bars, "width": width, "height": height, "plot": plot}


def pagination(request: BrowseRequest, total: int) -> dict:
    pages = max(1, -(-total // request.per_page))
    window = sorted({1, pages, *range(max(1, request.page - 2), min(pages, request.page + 2) + 1)})
    return {
        "page": request.page, "pages": pages, "per_page": request.per_page,
        "prev_url": request.url(page=request.page - 1) if request.page > 1 else None,
        "next_url": request.url(page=request.page + 1) if request.page < pages else None,
        "numbers": [{"number": n, "url": request.url(page=n), "current": n == request.page} for n in window],
    }


def browse_data(index: CatalogIndex, request: BrowseRequest, links: Urls) -> dict:
    """Everything the catalog page shows for this request; the search and its facet counts share one
    deadline (SearchTimeout past it)."""
    filters = request.filters
    with search.deadline(float(current_app.config["CATALOG_SEARCH_DEADLINE"])):
        result = index.search(filters, request.sort, request.page, request.per_page)
        counts = index.facet_counts(filters)
    years = year_data(request, counts)
    selected = [{"facet": f, "label": FACET_LABELS[f], "value": v,
                 "display": display_name(v) if f in ("creator", "recipient") else v,
                 "remove_url": request.url(selected=[p for p in request.selected if p != (f, v)])}
                for f, v in request.selected]
    if request.date_from or request.date_to:
        selected.append({"facet": "date", "label": "Date", "value": f"{request.date_from or '…'} – {request.date_to or '…'}",
                         "display": f"{request.date_from or '…'} – {request.date_to or '…'}",
                         "remove_url": request.url(dates=("", ""))})
    return {
        "q": request.q,
        "total": result.total,
        "sort": request.sort,
        "sorts": [{"value": key, "label": label, "selected": key == request.sort}
                  for key, label in search.SORTS.items() if key != "relevance" or request.q],
        "filters": {"selected": selected, "from": request.date_from, "to": request.date_to,
                    "clear_url": request.url(selected=[], dates=("", "")) if selected else None},
        "items": [item(row, links) for row in result.rows],
        "facets": facet_data(request, counts, links),
        "years": years,
        "pagination": pagination(request, result.total),
        "links": {"self": request.url(page=request.page)},
    }


# -- dates in the query string -----------------------------------------------------------------------------------

DATE_INPUT = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def date_bound(text: str, upper: bool) -> str:
    """`1943`, `1943-10` or `1943-10-30` as the first (or last) ISO day it covers; ValueError if bad."""
    found = DATE_INPUT.match(text.strip())
    if not found:
        raise ValueError(f"{text[:40]!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(part) if part else None for part in found.groups())
    try:
        if day:
            return dt.date(year, month, day).isoformat()
        if month:
            first = dt.date(year, month, 1)
            if not upper:
                return first.isoformat()
            if month == 12:
                return dt.date(year, 12, 31).isoformat()
            return (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).isoformat()
        return (dt.date(year, 12, 31) if upper else dt.date(year, 1, 1)).isoformat()
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD "
                         "with a real month and day") from None
