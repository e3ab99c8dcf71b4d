"""Suggestions as someone types: words of public records, and headings (people, places, collections,
types) that begin with what was typed.

Headings come from the catalog-wide facet counts, which count public records only and are cached
until the index changes, so they are exact on every backend. Words come from the full-text mirror's
term dictionary (tantivy lists a prefix's words in microseconds); that dictionary also holds words of
restricted, removed and replaced records, so each word is shown only once FTS5, which follows the
index exactly, finds it in a record that is public now (a first match, a fraction of a millisecond).
"""

from __future__ import annotations

import unicodedata

from catalog.query import tokens

HEADING_FACETS = ("creator", "recipient", "place", "collection", "repository", "type")
"""Facets whose values are suggested (years, decades and classifications are picked from lists)."""
CANDIDATES = 40
"""Words read from the term dictionary per field before the public check keeps `limit` of them."""


def fold(text: str) -> str:
    """Case and diacritics folded, as the search matches them."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def last_word(text: str) -> str:
    """The word being typed: the last word of the box, folded (empty when there is none)."""
    words = tokens(text)
    return fold(words[-1]) if words and text.rstrip() == text and not text.endswith('"') else ""


def heading_table(counts: dict[str, list[tuple[str, int]]]) -> list[tuple[tuple[str, ...], str, str, int]]:
    """(folded words, facet, value, public records) of every heading, most records first."""
    rows = [(tuple(fold(w) for w in tokens(value)), facet, value, n)
            for facet in HEADING_FACETS for value, n in counts.get(facet, [])]
    rows.sort(key=lambda row: (-row[3], row[2]))
    return rows


def headings(table, prefix: str, limit: int) -> list[tuple[str, str, int]]:
    """(facet, value, records) of headings with a word that begins with `prefix`."""
    if not prefix:
        return []
    found = []
    for words, facet, value, n in table:
        if any(word.startswith(prefix) for word in words):
            found.append((facet, value, n))
            if len(found) == limit:
                break
    return found


def candidate_words(searcher, fields, prefix: str) -> list[str]:
    """Words of the mirror's dictionary that begin with `prefix`, most frequent first (unchecked)."""
    counts: dict[str, int] = {}
    for field in fields:
        for word, n in searcher.terms_with_prefix(field, prefix, limit=CANDIDATES):
            counts[word] = max(counts.get(word, 0), n)
    return [word for word, _n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def public_words(db, candidates: list[str], withheld: frozenset[int], limit: int) -> list[str]:
    """The candidates FTS5 finds in a public record, in order, at most `limit`."""
    kept = []
    for word in candidates:
        cursor = db.execute("SELECT rowid FROM record_text WHERE record_text MATCH ?", ['"' + word + '"'])
        try:
            if any(rowid not in withheld for (rowid,) in cursor):
                kept.append(word)
        finally:
            cursor.close()
        if len(kept) == limit:
            break
    return kept
