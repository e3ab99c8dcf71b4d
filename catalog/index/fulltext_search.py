"""Searches answered by the full-text mirror (`catalog.index.fulltext`): the same filters, counts,
pages and facet counts as `catalog.index.search` answers with FTS5, in one compiled pass each.

A parsed search becomes a tantivy query term by term, as `catalog.query` builds the FTS5 MATCH:
a word or "phrase" in any column (each column's score weighted as BM25_WEIGHTS weights FTS5's), in
one column after `field:`, a `word*` prefix, alternatives joined by OR, excluded terms; facet values,
the date range and "not withheld" (read from SQLite, which alone knows what is public now) are
filters. What has no exact translation (a prefix after a phrase's first word, a name of more than
three words after `person:`) returns None, and FTS5 answers that search.
"""

from __future__ import annotations

import functools
import itertools
import re

from catalog.cache import VersionedCache
from catalog.index import fulltext
from catalog.index import search
from catalog.query import PERSON_NEAR
from catalog.query import Term

tantivy = fulltext.tantivy

FACET_BUCKETS = 60_000
"""Facet values counted per search (tantivy's aggregation limit is 65,000 buckets): beyond, FTS5 answers."""
SORT_FIELDS = {"date": ("date_key", "Asc"), "date-desc": ("date_key", "Desc"), "title": ("title_key", "Asc")}
"""Sort orders as (fast field, direction): each key is `value \\x1f id`, so ties fall to the id as in SQL."""
WEIGHTS = dict(zip(fulltext.TEXT_FIELDS, search.BM25_WEIGHTS, strict=True))


@functools.cache
def _analyzer():
    return fulltext.analyzer()


def index_words(tokens: tuple[str, ...]) -> list[str]:
    """The query's words as the mirror's analyzer indexed them."""
    return [word for token in tokens for word in _analyzer().analyze(token)]


class Untranslatable(Exception):
    """This search has no exact tantivy equivalent: FTS5 answers it."""


def _in_field(schema, field: str, term: Term):
    words = index_words(term.tokens)
    if not words:
        raise Untranslatable
    if term.prefix:
        if len(words) > 1:
            raise Untranslatable
        return tantivy.Query.regex_query(schema, field, re.escape(words[0]) + ".*")
    if term.column == "people" and len(term.tokens) > 1:
        if len(words) > 3:
            raise Untranslatable
        # FTS5 NEAR: the words in any order, at most PERSON_NEAR other words between them
        orders = [list(order) for order in dict.fromkeys(itertools.permutations(words))]
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.phrase_query(schema, field, order, slop=PERSON_NEAR))
            for order in orders])
    if len(words) == 1:
        return tantivy.Query.term_query(schema, field, words[0])
    return tantivy.Query.phrase_query(schema, field, words)


def term_query(schema, term: Term):
    """One term: in its column, or in any column with that column's weight."""
    if term.column:
        return _in_field(schema, term.column, term)
    return tantivy.Query.boolean_query([
        (tantivy.Occur.Should, tantivy.Query.boost_query(_in_field(schema, field, term), weight))
        for field, weight in WEIGHTS.items()])


def query_for(schema, filters: search.Filters, withheld: list[int]):
    """The tantivy query for `filters` over public records, or None when it has no exact equivalent."""
    must = []
    try:
        if filters.query is not None and filters.query.groups:
            for group in filters.query.groups:
                alternatives = [term_query(schema, term) for term in group]
                must.append(alternatives[0] if len(alternatives) == 1 else
                            tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in alternatives]))
        excluded = [term_query(schema, term) for term in (filters.query.excluded if filters.query else [])]
    except Untranslatable:
        return None
    for facet, value in filters.selected:
        must.append(tantivy.Query.term_query(schema, "facet", facet + fulltext.FACET_SEPARATOR + value))
    if filters.date_from or filters.date_to:
        low = fulltext.day_number(filters.date_from) if filters.date_from else None
        high = fulltext.day_number(filters.date_to) if filters.date_to else None
        if (filters.date_from and low is None) or (filters.date_to and high is None):
            return None
        must.append(tantivy.Query.range_query(schema, "day", tantivy.FieldType.Unsigned, low, high))
    if not must:
        return None
    clauses = [(tantivy.Occur.Must, q) for q in must] + [(tantivy.Occur.MustNot, q) for q in excluded]
    if withheld:
        clauses.append((tantivy.Occur.MustNot, tantivy.Query.term_set_query(schema, "rowid", withheld)))
    return tantivy.Query.boolean_query(clauses)


class Engine:
    """One search's query on the mirror's current searcher."""

    def __init__(self, searcher, query):
        self.searcher = searcher
        self.query = query

    def page(self, sort: str, offset: int, limit: int) -> tuple[int, list[int]]:
        """(how many match, the rowids of one page in `sort` order)."""
        if sort == "relevance":
            found = self.searcher.search(self.query, limit, count=True, offset=offset)
        else:
            field, direction = SORT_FIELDS.get(sort, SORT_FIELDS["date"])
            found = self.searcher.search(self.query, limit, count=True, order_by_field=field, offset=offset,
                                         order=getattr(tantivy.Order, direction))
        addresses = [address for _key, address in found.hits]
        rowids = self.searcher.fast_field_values("rowid", addresses) if addresses else []
        return found.count, [rowid for rowid in rowids if rowid is not None]

    def count(self) -> int:
        return self.searcher.search(self.query, 0, count=True).count

    def facet_counts(self) -> dict[tuple[str, str], int] | None:
        """(facet, value) → matches; None when there are more values than one aggregation counts."""
        found = self.searcher.aggregate(self.query, {"f": {"terms": {"field": "facet", "size": FACET_BUCKETS}}})["f"]
        if found.get("sum_other_doc_count"):
            return None
        counts = {}
        for bucket in found["buckets"]:
            facet, _, value = bucket["key"].partition(fulltext.FACET_SEPARATOR)
            counts[(facet, value)] = int(bucket["doc_count"])
        return counts


def withheld_rowids(db, cache: VersionedCache) -> list[int]:
    """Rowids of the records not public now (a few percent): left out of every mirror search."""
    return cache.get(("withheld rowids",), lambda: [r[0] for r in db.execute("SELECT rowid FROM withheld_records")])


def run_search(engine: Engine, db, cache: VersionedCache, filters: search.Filters, sort: str, page: int,
               per_page: int) -> search.Result:
    offset = (page - 1) * per_page
    key = filters.key()
    total, rowids = cache.get(("mirror page", key, sort, offset, per_page), lambda: engine.page(sort, offset, per_page))
    cache.get(("count", key), lambda: total)
    if offset >= total:
        return search.Result(total)
    return search.Result(total, search.within_deadline(db, lambda: search.result_rows(db, rowids, filters.query)))


def run_facet_counts(engine: Engine, filters: search.Filters, cache: VersionedCache):
    """Facet counts over the matches, ordered as the FTS5 path orders them (None: FTS5 must count)."""
    def counted():
        counts = engine.facet_counts()
        return None if counts is None else search._ordered(counts)
    return cache.get(("mirror facets", filters.key()), counted)
