"""What people type in the search box, turned into a safe FTS5 MATCH expression.

User syntax never reaches MATCH: the query is parsed into terms (words, "phrases", `field:` terms,
`-excluded` terms, `OR`), each term is reduced to its word tokens and quoted, and the expression is
built from those pieces. Separators are dropped the way the index's unicode61 tokenizer drops them,
so `740.0011 Moscow/10-3043` and `740.0011 Moscow/10–3043` give the same phrase. Input that cannot
be read unambiguously (an unbalanced quotation mark) is a QueryError whose message says how to fix it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field

MAX_QUERY_LENGTH = 500
MAX_TERMS = 32
PERSON_NEAR = 2
"""How many other words may come between the words of a name typed after `person:`."""

FIELDS = {
    "title": "title",
    "person": "people",
    "people": "people",
    "file": "provenance",
    "provenance": "provenance",
    "text": "body",
    "body": "body",
    "notes": "notes",
    "summary": "notes",
}
"""Field prefixes people may type, and the full-text column each one searches."""

WORD = re.compile(r"[^\W_]+")
FIELD_PREFIX = re.compile(r"([A-Za-z]+):")


class QueryError(ValueError):
    """The query cannot be searched; the message says why, for a 400 page."""


@dataclass(frozen=True)
class Term:
    tokens: tuple[str, ...]
    column: str | None = None
    prefix: bool = False
    negated: bool = False

    def match(self) -> str:
        if self.column == "people" and len(self.tokens) > 1 and not self.prefix:
            # Names are indexed "Family, Given": `person:"Cordell Hull"` must find "Hull, Cordell".
            words = " ".join(f'"{token}"' for token in self.tokens)
            return f"{{people}} : NEAR({words}, {PERSON_NEAR})"
        phrase = '"' + " ".join(self.tokens) + '"' + (" *" if self.prefix else "")
        return f"{{{self.column}}} : {phrase}" if self.column else phrase


@dataclass
class ParsedQuery:
    text: str
    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    @property
    def match(self) -> str | None:
        """The MATCH expression, or None when there is nothing to search for."""
        if not self.groups:
            return None
        parts = []
        for group in self.groups:
            alternatives = [term.match() for term in group]
            parts.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
        expression = " AND ".join(parts)
        if self.excluded:
            expression = "(" + expression + ")" + "".join(f" NOT {term.match()}" for term in self.excluded)
        return expression


def tokens(text: str) -> tuple[str, ...]:
    """The words of `text` as the index sees them (separators dropped, case folded)."""
    return tuple(word.casefold() for word in WORD.findall(unicodedata.normalize("NFC", text)))


def parse(text: str) -> ParsedQuery:
    """Parse a search box entry; raises QueryError for input that cannot be searched."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(f"The search is too long ({len(text)} characters; at most {MAX_QUERY_LENGTH}).")
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text).strip()
    query = ParsedQuery(text)
    position, pending_or, negate_next = 0, False, False
    while position < len(text):
        if text[position].isspace() or text[position] in "()":
            position += 1
            continue
        start = position
        negated = negate_next
        negate_next = False
        if text[position] == "-" and position + 1 < len(text) and not text[position + 1].isspace():
            negated, position = True, position + 1
        column = None
        prefix_match = FIELD_PREFIX.match(text, position)
        if prefix_match and prefix_match.group(1).lower() in FIELDS:
            column = FIELDS[prefix_match.group(1).lower()]
            position = prefix_match.end()
            while position < len(text) and text[position].isspace():
                position += 1
        if position < len(text) and text[position] == '"':
            end = text.find('"', position + 1)
            if end < 0:
                raise QueryError("A quotation mark is not closed: put a \" at the end of the phrase, or remove "
                                 "the quotation mark.")
            raw, position, prefix = text[position + 1:end], end + 1, False
        else:
            end = position
            while end < len(text) and not text[end].isspace() and text[end] not in '"()':
                end += 1
            raw, position = text[position:end], end
            prefix = raw.endswith("*") and len(raw) > 1
            if column is None and not negated and raw in ("OR", "AND", "NOT"):
                pending_or = raw == "OR" and bool(query.groups)
                negate_next = raw == "NOT"
                continue
        words = tokens(raw)
        if not words:
            if start == position:
                position += 1
            continue
        term = Term(words, column, prefix, negated)
        if negated:
            query.excluded.append(term)
        elif pending_or:
            query.groups[-1].append(term)
        else:
            query.groups.append([term])
        pending_or = False
        if sum(map(len, query.groups)) + len(query.excluded) > MAX_TERMS:
            raise QueryError(f"The search has too many terms (at most {MAX_TERMS}).")
    if query.excluded and not query.groups:
        raise QueryError("A search needs at least one word to look for, not only words to leave out.")
    return query
