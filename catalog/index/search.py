"""Browse and search over the index: filtered record sets, result pages, facet counts, year counts.

Everything is SQL over the index's `public_records`, `facets` and `record_text`; Python never walks
the record set. The filtered set ("hits") is built once from the most selective source (the FTS5
match, a facet, the date index), narrowed with `rowid IN (...)` subqueries that SQLite answers from
indexes alone, and kept in a temporary table (`catalog.index.hits`) that the count, the page and the
facet counts all read: the full-text match runs once per search, not three times.

What keeps a new search fast at 100,000 records:
- pages: a date or title page walks its sort's index probing the kept matches (or sorts the rows of
  a few matches); a relevance page ranks with bm25 at most RANK_ALL matches, and for a common search
  the RANK_CANDIDATES shortest matching records (see `ranked`);
- facet counts: when the hits are most of the catalog, counts are the catalog-wide counts minus the
  counts of the few public records *not* hit (the catalog-wide counts come from an index-only scan);
- results are kept in the index's version-keyed cache, so they are recomputed exactly when the
  index changes.

Two things keep a search bounded whatever the records hold:
- snippets: FTS5's `snippet()` costs the square of a row's matches (it scores a window at every
  match against every match), so it never sees more than a bounded text: the record's text whole
  when it is short and has few matches (the snippet every search has always had), else a window of
  each long column around its first match. It runs in a private in-memory FTS5 table with the
  index's columns and tokenizer, never over the megabytes of a long transcription;
- a deadline: every query runs under an SQLite progress handler that stops it once the search has
  run `SEARCH_DEADLINE_SECONDS`, and the search raises `SearchTimeout` (the pages answer 503).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import json
import logging
import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import TypeVar

from catalog.cache import VersionedCache
from catalog.index import hits
from catalog.index.projection import FACETS
from catalog.index.schema import DERIVED_SCHEMA
from catalog.index.schema import PUBLIC
from catalog.query import ParsedQuery

log = logging.getLogger("catalog.search")
T = TypeVar("T")

SORTS = {"relevance": "Relevance", "date": "Date (oldest first)", "date-desc": "Date (newest first)",
         "title": "Title"}
ORDER_BY = {"date": "date, id", "date-desc": "date DESC, id DESC", "title": "title, id"}
BM25_WEIGHTS = (10.0, 5.0, 4.0, 1.0, 2.0)
"""Column weights for title, people, provenance, body, notes: a word in the title counts most."""

SNIPPET_COLUMNS = (3, 4, -1)
"""Where a result's snippet comes from: the transcription, else the summary and notes, else the best
column (a list of names or a file number reads badly as a snippet, so it comes last)."""

MARK_START = "\ue000"
MARK_END = "\ue001"
"""Private-use characters FTS5 puts around matches; turned into <mark> after escaping."""

RESULT_COLUMNS = ("rowid, id, title, date, date_as_printed, document_type, creators, recipients, collection, "
                  "collection_slug, repository, classification, file_number, summary")

RANK_ALL = 2000
"""Up to this many matches, bm25 ranks them all (a few milliseconds); see `ranked` beyond."""
RANK_CANDIDATES = 1000
"""How many of a common search's matches bm25 ranks: the shortest records (see `ranked`)."""
SORT_IN_MEMORY = 5000
"""Up to this many matches, a date or title page sorts their rows; beyond, it walks the sort's index."""

SEARCH_DEADLINE_SECONDS = 10
"""How long one search (its count, page of results, snippets and facet counts) may run before it is
stopped with SearchTimeout: well within the server's worker timeout (60 s)."""
PROGRESS_STEPS = 1000
"""SQLite virtual-machine steps between two looks at the clock while a query runs."""

SNIPPET_TOKENS = 28
SNIPPET_TEXT_LIMIT = 131_072
"""Characters (all full-text columns together) up to which a record's text is snippeted whole..."""
SNIPPET_MATCH_LIMIT = 1000
"""...provided it has at most this many matches (snippet() costs about 10 ms at 1,000 matches, growing
with their square). Otherwise each column longer than two windows is cut to a window around its
first match, so snippet() sees a bounded text whatever the record holds."""
SNIPPET_WINDOW = 300
"""Characters kept on each side of the first match when a column is cut to a window."""
SNIPPET_MAX_CHARS = 800
"""Longest snippet returned (28 words are far shorter; this only bounds freak texts, e.g. huge tokens)."""
ELLIPSIS = "…"

_FTS5_ARGS = re.search(r"CREATE VIRTUAL TABLE record_text USING fts5\((.*?)\);", DERIVED_SCHEMA,
                       re.DOTALL).group(1)
TEXT_COLUMNS = tuple(arg.strip() for arg in _FTS5_ARGS.split(",") if arg.strip() and "=" not in arg)
"""The full-text columns (title, people, provenance, body, notes), as the index's schema names them."""
TOKENIZE = next(arg.strip() for arg in _FTS5_ARGS.split(",") if arg.strip().startswith("tokenize"))
"""The index's tokenizer option, so snippets of cut texts match words exactly as the index does."""


@dataclass(frozen=True)
class Filters:
    """What narrows the catalog: a parsed search, selected facet values (all must hold), a date range."""

    query: ParsedQuery | None = None
    selected: tuple[tuple[str, str], ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    @property
    def match(self) -> str | None:
        return self.query.match if self.query else None

    @property
    def narrowed(self) -> bool:
        return bool(self.match or self.selected or self.date_from or self.date_to)

    def key(self) -> tuple:
        return (self.match, tuple(sorted(self.selected)), self.date_from, self.date_to)


@dataclass
class Result:
    total: int
    rows: list[dict] = field(default_factory=list)


def hits_sql(filters: Filters) -> tuple[str, list]:
    """`SELECT rid ...` of the public records that pass the filters, and its parameters."""
    selected = list(filters.selected)
    if filters.match:
        base, args = "SELECT rowid AS rid FROM record_text WHERE record_text MATCH ?", [filters.match]
    elif selected:
        facet, value = selected.pop(0)
        base, args = "SELECT record_rowid AS rid FROM facets WHERE facet = ? AND value = ?", [facet, value]
    else:
        date_sql, args = _date_range(filters)
        return "SELECT rowid AS rid FROM public_records WHERE 1" + date_sql, args
    conditions, more = narrowing(Filters(None, tuple(selected), filters.date_from, filters.date_to))
    return f"SELECT rid FROM ({base}) WHERE {conditions}", args + more


def narrowing(filters: Filters, column: str = "rid") -> tuple[str, list]:
    """SQL conditions on `column` for the facet and date filters (not the search), public only.

    The unary `+` keeps SQLite from pushing `rowid IN (...)` into FTS5 as one lookup per row.
    """
    conditions, args = [], []
    for facet, value in filters.selected:
        conditions.append(f"+{column} IN (SELECT record_rowid FROM facets WHERE facet = ? AND value = ?)")
        args += [facet, value]
    if filters.date_from or filters.date_to:
        date_sql, date_args = _date_range(filters)
        conditions.append(f"+{column} IN (SELECT rowid FROM public_records WHERE 1{date_sql})")
        args += date_args
    conditions.append(f"+{column} NOT IN (SELECT rowid FROM withheld_records)")
    return " AND ".join(conditions), args


def _date_range(filters: Filters) -> tuple[str, list]:
    sql, args = "", []
    if filters.date_from:
        sql, args = sql + " AND date >= ?", args + [filters.date_from]
    if filters.date_to:
        sql, args = sql + " AND date <= ?", args + [filters.date_to]
    return sql, args


def count(db: sqlite3.Connection, filters: Filters) -> int:
    """How many public records pass the filters; a search's matches are kept for its page and facets."""
    if not filters.narrowed:
        return db.execute("SELECT COUNT(*) FROM public_records").fetchone()[0]
    sql, args = hits_sql(filters)
    return hits.materialize(db, filters.key(), sql, args)


def page_rowids(db: sqlite3.Connection, filters: Filters, sort: str, offset: int, limit: int) -> list[int]:
    """The rowids of one page of results, in order; only indexes and the kept matches are read."""
    order = ORDER_BY.get(sort, ORDER_BY["date"])
    if not filters.narrowed:
        query = f"SELECT rowid FROM public_records ORDER BY {order} LIMIT ? OFFSET ?"
        return [r[0] for r in db.execute(query, [limit, offset])]
    total = count(db, filters)
    if sort == "relevance" and filters.match:
        return ranked(db, filters.match, total, offset, limit)
    if total <= SORT_IN_MEMORY:  # few matches: read their rows (small: the source is the last column)
        query = (f"SELECT r.rowid FROM {hits.HITS} h CROSS JOIN records r ON r.rowid = h.rowid "
                 f"ORDER BY {order} LIMIT ? OFFSET ?")
    else:  # many: walk the sort order's index until the page is full
        query = (f"SELECT rowid FROM public_records WHERE +rowid IN (SELECT rowid FROM {hits.HITS}) "
                 f"ORDER BY {order} LIMIT ? OFFSET ?")
    return [r[0] for r in db.execute(query, [limit, offset])]


def ranked(db: sqlite3.Connection, match: str, total: int, offset: int, limit: int) -> list[int]:
    """A page of the kept matches by relevance: bm25 (column weights BM25_WEIGHTS), then rowid.

    bm25 costs about a microsecond per match (it reads every match's positions), so a word found in
    most of a large catalog cannot be ranked whole within a search's budget. Up to RANK_ALL matches
    are ranked whole; beyond, bm25 ranks the RANK_CANDIDATES shortest matching records (file size),
    which it favours anyway when a word is common (its weight, idf, is then near zero and the score
    is its frequency against the record's length), and the other matches follow, shortest first."""
    weights = ", ".join(str(w) for w in BM25_WEIGHTS)
    # `+rowid`: one pass over the match, bm25 only where the rowid is wanted (never a lookup per rowid)
    by_bm25 = (f"SELECT rowid FROM record_text WHERE record_text MATCH ? AND +rowid IN (SELECT rowid FROM {{}}) "
               f"ORDER BY bm25(record_text, {weights}), rowid LIMIT ? OFFSET ?")
    if total <= RANK_ALL:
        return [r[0] for r in db.execute(by_bm25.format(hits.HITS), [match, limit, offset])]
    by_size = f"SELECT rowid FROM public_records WHERE +rowid IN (SELECT rowid FROM {hits.HITS}) ORDER BY size, rowid"
    out: list[int] = []
    if offset < RANK_CANDIDATES:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS rank_candidates(rowid INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM temp.rank_candidates")
        db.execute(f"INSERT INTO temp.rank_candidates(rowid) {by_size} LIMIT ?", [RANK_CANDIDATES])
        out = [r[0] for r in db.execute(by_bm25.format("temp.rank_candidates"), [match, limit, offset])]
    if len(out) < limit:
        out += [r[0] for r in db.execute(f"{by_size} LIMIT ? OFFSET ?",
                                         [limit - len(out), RANK_CANDIDATES + max(0, offset - RANK_CANDIDATES)])]
    return out


def result_rows(db: sqlite3.Connection, rowids: list[int], query: ParsedQuery | None) -> list[dict]:
    """Summary rows for the given rowids (in that order), with a highlighted snippet when searching."""
    if not rowids:
        return []
    marks = ", ".join("?" for _ in rowids)
    # `records` by rowid, "public" as the view defines it but unindexed (`+`): on the view SQLite would
    # walk the index on (public, ...) of every public record (10 ms at 100,000) instead of 20 lookups
    rows = {r["rowid"]: dict(r) for r in db.execute(
        f"SELECT {RESULT_COLUMNS} FROM records WHERE rowid IN ({marks}) AND +({PUBLIC})", rowids)}
    found = snippets(db, list(rows), query) if query is not None and query.match else {}
    out = []
    for rowid in rowids:
        row = rows.get(rowid)
        if row is None:
            continue
        row["creators"] = json.loads(row["creators"])
        row["recipients"] = json.loads(row["recipients"])
        row["snippet"] = found.get(rowid)
        del row["rowid"]
        out.append(row)
    return out


# -- snippets ------------------------------------------------------------------------------------

def snippets(db: sqlite3.Connection, rowids: list[int], query: ParsedQuery) -> dict[int, str]:
    """A snippet per rowid: FTS5's snippet() (matches between MARK_START and MARK_END) over a bounded
    text, from the transcription, else the summary and notes, else the best column."""
    if not rowids:
        return {}
    terms = SearchTerms(query)
    marks = ", ".join("?" for _ in rowids)
    shown = {}
    for rowid, *texts in db.execute(f"SELECT rowid, {', '.join(TEXT_COLUMNS)} FROM record_text_source "
                                    f"WHERE rowid IN ({marks})", rowids):
        check_deadline()
        shown[rowid] = snippet_texts([text or "" for text in texts], terms)
    found = _fts5_snippets(shown, terms.any_term)
    return {rowid: clipped(found[rowid]) if rowid in found else plain_start(texts)
            for rowid, texts in shown.items()}


def snippet_texts(texts: list[str], terms: SearchTerms) -> tuple[str, ...]:
    """What snippet() sees of a record: its columns whole when short with few matches (the snippet
    searches have always had), else every column longer than two windows cut to the window around
    its first match."""
    size = sum(map(len, texts))
    if size <= SNIPPET_TEXT_LIMIT and (size <= SNIPPET_MATCH_LIMIT  # each match takes a character at least
                                       or terms.count(texts, SNIPPET_MATCH_LIMIT) <= SNIPPET_MATCH_LIMIT):
        return tuple(texts)
    return tuple(window(text, terms.first(column, text)) for column, text in zip(TEXT_COLUMNS, texts))


def window(text: str, found: re.Match | None) -> str:
    """The text, or (when longer than two windows) SNIPPET_WINDOW characters either side of the match
    `found` (else the beginning), from a word's start to a word's end, with an ellipsis where cut."""
    if len(text) <= 2 * SNIPPET_WINDOW:
        return text
    first, last = found.span() if found else (0, 0)
    start = _word_start(text, max(0, first - SNIPPET_WINDOW), first)
    end = _word_end(text, last, min(len(text), last + (SNIPPET_WINDOW if found else 2 * SNIPPET_WINDOW)))
    return (ELLIPSIS if start > 0 else "") + text[start:end] + (ELLIPSIS if end < len(text) else "")


def _word_start(text: str, low: int, high: int) -> int:
    """The first position in [low, high] where a word begins (high when none does)."""
    for position in range(low, high):
        if text[position].isalnum() and (position == 0 or not text[position - 1].isalnum()):
            return position
    return high


def _word_end(text: str, low: int, high: int) -> int:
    """The last position in [low, high] where a word ends (low when none does)."""
    for position in range(high, low, -1):
        if text[position - 1].isalnum() and (position == len(text) or not text[position].isalnum()):
            return position
    return low


def _fts5_snippets(texts: dict[int, tuple[str, ...]], match: str) -> dict[int, str]:
    """snippet() over the given texts, in a private in-memory FTS5 table like the index's."""
    if not texts:
        return {}
    pieces = ", ".join(f"snippet(shown, {column}, '{MARK_START}', '{MARK_END}', '{ELLIPSIS}', {SNIPPET_TOKENS})"
                       for column in SNIPPET_COLUMNS)
    with contextlib.closing(sqlite3.connect(":memory:", isolation_level=None)) as memory:
        memory.execute(f"CREATE VIRTUAL TABLE shown USING fts5({', '.join(TEXT_COLUMNS)}, {TOKENIZE})")
        memory.executemany(f"INSERT INTO shown(rowid, {', '.join(TEXT_COLUMNS)}) "
                           f"VALUES (?{', ?' * len(TEXT_COLUMNS)})", [(rowid, *row) for rowid, row in texts.items()])
        return {rowid: next((text for text in found if MARK_START in (text or "")), found[-1])
                for rowid, *found in memory.execute(f"SELECT rowid, {pieces} FROM shown WHERE shown MATCH ?", [match])}


def clipped(snippet: str | None) -> str | None:
    """The snippet, cut to SNIPPET_MAX_CHARS around its first match if longer."""
    if snippet is None or len(snippet) <= SNIPPET_MAX_CHARS:
        return snippet
    first = max(0, snippet.find(MARK_START))
    start = max(0, first - SNIPPET_MAX_CHARS // 3)
    end = start + SNIPPET_MAX_CHARS
    return ((ELLIPSIS if start > 0 and not snippet.startswith(ELLIPSIS, start) else "") + snippet[start:end]
            + (ELLIPSIS if end < len(snippet) else ""))


def plain_start(texts: tuple[str, ...]) -> str | None:
    """The beginning of the transcription (else the notes, else the title) when no match is in view."""
    text = next((t for t in (texts[3], texts[4], texts[0]) if t.strip()), None)
    if text is None:
        return None
    start = _word_start(text, 0, min(len(text), SNIPPET_WINDOW))
    end = _word_end(text, start, min(len(text), start + 2 * SNIPPET_WINDOW))
    if end <= start:
        end = min(len(text), start + 2 * SNIPPET_WINDOW)
    return ((ELLIPSIS if start > 0 and not text.startswith(ELLIPSIS) else "") + text[start:end]
            + (ELLIPSIS if end < len(text) and not text.endswith(ELLIPSIS) else ""))


# -- a search's words in a text, read as the index's tokenizer reads them ----------------------------

WORD_BEFORE = r"(?<![^\W_])"
WORD_AFTER = r"(?![^\W_])"
SEPARATORS = r"[\W_]+"
COMBINING = "[\u0300-\u036f]*"
"""Combining diacritics a decomposed text may carry after a letter (the tokenizer drops them)."""
UNDECOMPOSED = {"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ŧ": "t", "ı": "i"}
"""Latin letters with a stroke or without a dot, which Unicode does not decompose to a base letter."""
ASCII_WORD_BYTES = bytes(c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32
                         for c in range(256))
"""bytes.translate table: ASCII letters in lower case, digits kept, every other byte a space."""
COMBINING_UTF8 = re.compile(rb"\xcc[\x80-\xbf]|\xcd[\x80-\xaf]")
"""U+0300 to U+036F, the combining diacritics, in UTF-8."""


class SearchTerms:
    """A search's terms (not the excluded ones) per full-text column: a MATCH expression for any of
    them, a quick count of their matches that never counts fewer than the index would, and the
    first match in a text."""

    def __init__(self, query: ParsedQuery):
        terms = [term for group in query.groups for term in group]
        self.any_term = " OR ".join(f"({term.match()})" for term in terms)
        """snippet() marks the same matches with it as with the search itself (excluded terms are
        never in a matching record), and a window cut from the text still matches it."""
        self._sources: dict[str, list[str]] = {column: [] for column in TEXT_COLUMNS}
        self._needles: dict[str, list[bytes] | None] = {column: [] for column in TEXT_COLUMNS}
        for term in terms:
            near = term.column == "people" and len(term.tokens) > 1 and not term.prefix  # see Term.match
            if near:
                sources = [_token_pattern(token) + WORD_AFTER for token in term.tokens]
            else:
                sources = [SEPARATORS.join(map(_token_pattern, term.tokens)) + ("" if term.prefix else WORD_AFTER)]
            needles = [_ascii_word(token) for token in (term.tokens if near else term.tokens[:1])]
            for column in [term.column] if term.column else TEXT_COLUMNS:
                if column not in self._sources:
                    continue
                self._sources[column] += sources
                counted = self._needles[column]
                if counted is not None:
                    self._needles[column] = None if None in needles else counted + [b" " + n for n in needles]

    def pattern(self, column: str) -> re.Pattern | None:
        """The search's words in one column's text, as a regular expression (case and diacritics fold
        as in the index): IIIF Content Search finds the matches inside a document with it."""
        return self._patterns.get(column)

    @functools.cached_property
    def _patterns(self) -> dict[str, re.Pattern]:
        return {column: re.compile(WORD_BEFORE + "(?:" + "|".join(dict.fromkeys(sources)) + ")", re.IGNORECASE)
                for column, sources in self._sources.items() if sources}

    def count(self, texts: list[str], limit: int) -> int:
        """At least the number of matches in the record's columns (more than `limit`: stops counting).

        Words are counted where they begin (a phrase by its first word), in the text folded to
        ASCII: bytes.translate and bytes.count, so a record costs microseconds."""
        total = 0
        for column, text in zip(TEXT_COLUMNS, texts):
            needles = self._needles[column]
            if not text or not self._sources[column]:
                continue
            if needles is None:  # a word that does not fold to ASCII: the regular expression counts
                total += sum(1 for _ in itertools.islice(self._patterns[column].finditer(text), limit - total + 1))
            else:
                words = _ascii_words(text)
                total += sum(words.count(needle) for needle in needles)
            if total > limit:
                break
        return total

    def first(self, column: str, text: str) -> re.Match | None:
        """The first match in the column's text (when longer than two windows; else None).

        The text is read up to the match: in an ASCII text, bytes.find skips to where a search word
        first begins (no match can start before), and the regular expression goes on from there."""
        pattern = self._patterns.get(column)
        if pattern is None or len(text) <= 2 * SNIPPET_WINDOW:
            return None
        needles = self._needles[column]
        if needles and text.isascii():
            words = _ascii_words(text)  # position p in it is position p - 1 in the text
            starts = [at for at in (words.find(needle) for needle in needles) if at >= 0]
            return pattern.search(text, min(starts)) if starts else None
        return pattern.search(text)


def _ascii_words(text: str) -> bytes:
    """The text's words as the tokenizer folds them (diacritics off, lower case), ASCII letters and
    digits only, every other character a space; a leading space, so every word starts after one."""
    if text.isascii():
        data = text.encode("ascii")
    else:
        data = COMBINING_UTF8.sub(b"", unicodedata.normalize("NFKD", text).encode())
    return b" " + data.translate(ASCII_WORD_BYTES)


def _ascii_word(token: str) -> bytes | None:
    """The query word folded like `_ascii_words`, or None if it is not ASCII once folded."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c)).lower()
    return folded.encode("ascii") if folded.isascii() and folded.isalnum() else None


@functools.cache
def _latin_folds() -> tuple[dict[str, str], dict[str, str]]:
    """(letter → its base letter, base letter → a character class of every letter folding to it) for
    Latin letters with diacritics, folded the way `remove_diacritics 2` folds them."""
    base_of: dict[str, str] = {}
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code).lower()
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).lower()
        base = UNDECOMPOSED.get(char, base)
        if len(char) == 1 and len(base) == 1 and base.isascii() and base.isalpha() and char != base:
            base_of[char] = base
    classes: dict[str, set[str]] = {}
    for char, base in base_of.items():
        classes.setdefault(base, {base}).add(char)
    return base_of, {base: "[" + "".join(sorted(chars)) + "]" for base, chars in classes.items()}


def _token_pattern(token: str) -> str:
    """A query word as a regular expression: its Latin letters with or without diacritics (case is
    ignored by the flag), each maybe followed by combining diacritics."""
    base_of, classes = _latin_folds()
    out = []
    for char in token:
        base = base_of.get(char, char)
        out.append(classes.get(base, re.escape(base)) + (COMBINING if base.isascii() else ""))
    return "".join(out)


# -- the deadline ----------------------------------------------------------------------------------

class SearchTimeout(RuntimeError):
    """A search ran past its deadline and was stopped: the pages answer 503, never a killed worker."""


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("search_deadline", default=None)
_guarded: contextvars.ContextVar[bool] = contextvars.ContextVar("search_guarded", default=False)


@contextlib.contextmanager
def deadline(seconds: float | None = None) -> Iterator[None]:
    """The searches and facet counts inside share one deadline, `seconds` (SEARCH_DEADLINE_SECONDS
    unless given) from now. Without it, each search and facet count has a deadline of its own."""
    token = _deadline.set(time.monotonic() + (SEARCH_DEADLINE_SECONDS if seconds is None else seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_deadline() -> None:
    """Raise SearchTimeout if the current deadline has passed (between steps done in Python)."""
    ends = _deadline.get()
    if ends is not None and time.monotonic() >= ends:
        raise SearchTimeout("The search ran past its deadline and was stopped.")


def within_deadline(db: sqlite3.Connection, work: Callable[[], T]) -> T:
    """`work()` with every query on `db` stopped once the deadline passes (SearchTimeout). The progress
    handler is removed afterwards: the connection is the thread's, reused by whatever comes next."""
    if _guarded.get():
        return work()
    if _deadline.get() is None:
        with deadline():
            return within_deadline(db, work)
    ends = _deadline.get()
    check_deadline()
    guarded = _guarded.set(True)
    db.set_progress_handler(lambda: time.monotonic() >= ends, PROGRESS_STEPS)
    try:
        return work()
    except sqlite3.OperationalError as error:
        if time.monotonic() < ends:
            raise
        log.warning("a search was stopped at its deadline (%s)", error)  # "interrupted": the handler stopped it
        raise SearchTimeout("The search ran past its deadline and was stopped.") from error
    except SearchTimeout:
        log.warning("a search was stopped at its deadline")
        raise
    finally:
        db.set_progress_handler(None, 0)
        _guarded.reset(guarded)


def search(db: sqlite3.Connection, cache: VersionedCache, filters: Filters, sort: str, page: int,
           per_page: int) -> Result:
    """One page of results, within the deadline (SearchTimeout past it)."""
    return within_deadline(db, lambda: _search(db, cache, filters, sort, page, per_page))


def _search(db: sqlite3.Connection, cache: VersionedCache, filters: Filters, sort: str, page: int,
            per_page: int) -> Result:
    total = cache.get(("count", filters.key()), lambda: count(db, filters))
    offset = (page - 1) * per_page
    if offset >= total:
        return Result(total)
    rowids = cache.get(("page", filters.key(), sort, offset, per_page),
                    lambda: page_rowids(db, filters, sort, offset, per_page))
    return Result(total, result_rows(db, rowids, filters.query))


# -- facet counts --------------------------------------------------------------------------------

def facet_counts(db: sqlite3.Connection, cache: VersionedCache, filters: Filters) -> dict[str, list[tuple[str, int]]]:
    """For every facet, (value, count) over the filtered records, most frequent first; within the
    deadline (SearchTimeout past it)."""
    return within_deadline(db, lambda: cache.get(("facets", filters.key()), lambda: _facet_counts(db, cache, filters)))


def _facet_counts(db: sqlite3.Connection, cache: VersionedCache,
                  filters: Filters) -> dict[str, list[tuple[str, int]]]:
    if not filters.narrowed:
        return _ordered(_public_counts(db))
    public_total = cache.get(("count", Filters().key()), lambda: count(db, Filters()))
    total = count(db, filters)  # the search's kept matches, or found now
    if total * 2 > public_total:  # most of the catalog: subtract the few public records not hit
        missed = (f"SELECT rowid AS rid FROM public_records WHERE rowid NOT IN (SELECT rowid FROM {hits.HITS})", [])
        everywhere = cache.get(("public counts",), lambda: _public_counts(db))
        counts = dict(everywhere)
        for key, n in _counts_over(db, *missed).items():
            counts[key] -= n
    else:
        counts = _counts_over(db, f"SELECT rowid AS rid FROM {hits.HITS}", [])
    return _ordered({key: n for key, n in counts.items() if n > 0})


def _public_counts(db: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """Catalog-wide counts: all rows (an index-only scan) minus those of non-public records."""
    counts = {(f, v): n for f, v, n in db.execute("SELECT facet, value, COUNT(*) FROM facets GROUP BY facet, value")}
    hidden = db.execute("SELECT f.facet, f.value, COUNT(*) FROM withheld_records r CROSS JOIN facets f ON f.record_rowid = r.rowid "
                        "GROUP BY f.facet, f.value")
    for facet, value, n in hidden:
        counts[(facet, value)] -= n
    return {key: n for key, n in counts.items() if n > 0}


def _counts_over(db: sqlite3.Connection, sql: str, args: list) -> dict[tuple[str, str], int]:
    # CROSS JOIN: from the hits to their facet rows (SQLite would otherwise scan every facet row)
    query = (f"WITH hits(rid) AS MATERIALIZED ({sql}) SELECT f.facet, f.value, COUNT(*) FROM hits h "
             "CROSS JOIN facets f ON f.record_rowid = h.rid GROUP BY f.facet, f.value")
    return {(f, v): n for f, v, n in db.execute(query, args)}


def _ordered(counts: dict[tuple[str, str], int]) -> dict[str, list[tuple[str, int]]]:
    """Per facet, most frequent first (ties by value); years and decades in time order."""
    out: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
    for (facet, value), n in counts.items():
        if facet in out:
            out[facet].append((value, n))
    for facet, values in out.items():
        if facet in ("year", "decade"):
            values.sort()
        else:
            values.sort(key=lambda item: (-item[1], item[0]))
    return out
