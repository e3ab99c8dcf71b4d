"""A parsed search (`catalog.query`) as PostgreSQL text search: tsvectors in, a WHERE clause out.

Text is indexed as the search box's words (`catalog.query.tokens`: the same split, case folding)
joined by spaces, through the `catalog_text` configuration (`unaccent`, then `simple`), so a record
and a query are cut into words the same way and "Molotóv" is found as "molotov". Each term is a
tsquery: a phrase with `<->`, a prefix with `:*`, a name after `person:` as its words near each other
in either order (as FTS5's NEAR). A term without a field matches in any of the five columns,
exactly as an FTS5 phrase does.
"""

from __future__ import annotations

import itertools

from catalog.index.postgres.schema import TEXT_COLUMNS
from catalog.index.postgres.schema import TEXT_CONFIG
from catalog.query import PERSON_NEAR
from catalog.query import ParsedQuery
from catalog.query import Term
from catalog.query import tokens

MAX_POSITION = 16383
"""PostgreSQL keeps word positions up to this; later words are still found, as words, not in phrases."""


def indexed_text(text: str) -> str:
    """What a column's text is indexed as: its words, folded as the search box folds them."""
    return " ".join(tokens(text))


MAX_POSITIONS = 255
"""PostgreSQL keeps at most this many positions of one lexeme in a tsvector (the first ones)."""
MAX_WORD_BYTES = 2047
"""PostgreSQL's parser skips a longer word (without counting a position for it)."""


def tsvector_literal(words: tuple[str, ...]) -> str | None:
    """The tsvector `to_tsvector('catalog_text', ' '.join(words))` gives, as tsvector input text; made
    here so a bulk build does not have the server parse every text again. Only for words of ASCII
    letters and digits, whose lexeme is the word itself (unaccent leaves them alone, `simple` only
    lowercases, and the search box's words are case folded already); None for any other text, which
    the server parses. Positions as the server keeps them: counted from 1, at most MAX_POSITION (later
    words share it), the first MAX_POSITIONS of each lexeme."""
    positions: dict[str, list[int]] = {}
    get = positions.get
    for n, word in enumerate(words, 1):
        seen = get(word)
        if seen is None:
            positions[word] = [n]
        else:
            seen.append(n)
    parts = []
    for word, seen in positions.items():
        if not word.isascii() or len(word) >= MAX_WORD_BYTES:
            return None
        if seen[-1] > MAX_POSITION:
            seen = [n for n in seen if n < MAX_POSITION] + [MAX_POSITION]
        parts.append(f"'{word}':{','.join(map(str, seen[:MAX_POSITIONS]))}")
    return " ".join(parts)


def _quoted(token: str) -> str:
    return "'" + token.replace("'", "''") + "'"


def term_query(term: Term) -> str:
    """The tsquery text of one term (parsed by to_tsquery with the catalog's configuration)."""
    words = [_quoted(token) for token in term.tokens]
    if term.column == "people" and len(words) > 1 and not term.prefix:
        pairs = []
        for first, second in itertools.pairwise(words):
            near = [f"{a} <{distance}> {b}" for distance in range(1, PERSON_NEAR + 2)
                    for a, b in ((first, second), (second, first))]
            pairs.append("(" + " | ".join(near) + ")")
        return " & ".join(pairs)
    return " <-> ".join(words) + (":*" if term.prefix else "")


def _term_sql(term: Term, alias: str) -> tuple[str, list]:
    columns = [term.column] if term.column else list(TEXT_COLUMNS)
    query = f"to_tsquery('{TEXT_CONFIG}', %s)"
    return "(" + " OR ".join(f"{alias}.{column}_tsv @@ {query}" for column in columns) + ")", \
        [term_query(term)] * len(columns)


def match_sql(parsed: ParsedQuery, alias: str = "r") -> tuple[str, list]:
    """A condition on `alias` (a records row) true for the records the search finds."""
    parts, args = [], []
    for group in parsed.groups:
        pieces = [_term_sql(term, alias) for term in group]
        parts.append("(" + " OR ".join(sql for sql, _ in pieces) + ")")
        args += [arg for _, more in pieces for arg in more]
    for term in parsed.excluded:
        sql, more = _term_sql(term, alias)
        parts.append(f"NOT {sql}")
        args += more
    return " AND ".join(parts), args


def any_term_query(parsed: ParsedQuery, column: str | None = None) -> str | None:
    """A tsquery matching any of the search's terms (those that search `column`, when given): what
    ranking and snippets look for (None: no term searches that column)."""
    return " | ".join(f"({term_query(term)})" for group in parsed.groups for term in group
                      if column is None or term.column in (None, column)) or None


WEIGHTS = (10.0, 5.0, 4.0, 1.0, 2.0)
"""Title, people, provenance, body, notes: the embedded index's BM25 column weights."""


def rank_sql(alias: str = "r") -> str:
    """A relevance score (higher first) for the tsquery parameter given once per column."""
    return " + ".join(f"{weight} * ts_rank({alias}.{column}_tsv, to_tsquery('{TEXT_CONFIG}', %s))"
                      for weight, column in zip(WEIGHTS, TEXT_COLUMNS))
