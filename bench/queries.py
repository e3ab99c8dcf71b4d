"""Search requests nobody asked before, of every selectivity, and typing-speed autocomplete.

Every generator draws from one `Fresh` pool, so no query string is used twice in a run: each
search is first-time work (the browse cache keys on the full URL), never a cache hit. The search
page is the HTML page with its facet counts, as a reader gets it. Classes, on the synthetic
catalog (`bench/generate.py`: 36 words make all the prose, 5 rare words in ~1% of pages):
- rare: a rare word, then a record's own number from its title (a handful of matches);
- common: one of the 36 prose words (matches nearly every record);
- phrase: two prose words in quotation marks;
- two words: two prose words, both required;
- facet-filtered: a prose word with a facet value chosen (type, classification, place or year).
"""

from __future__ import annotations

import itertools
import random
from urllib.parse import urlencode

from bench.generate import LEVELS
from bench.generate import PLACES
from bench.generate import RARE
from bench.generate import TYPES
from bench.generate import WORDS

WARM_QUERY = "conference"
"""The one query the warm (repeated) search row asks; no first-time class uses it."""
PROSE = [word for word in WORDS if word != WARM_QUERY]


class Fresh:
    """Hands out search paths never handed out before in this run."""

    def __init__(self):
        self.used: set[str] = {self.path({"q": WARM_QUERY})}

    @staticmethod
    def path(params: dict) -> str:
        return "/search?" + urlencode(params)

    def take(self, candidates, count: int) -> list[str]:
        out = []
        for params in candidates:
            path = self.path(params)
            if path not in self.used:
                self.used.add(path)
                out.append(path)
                if len(out) == count:
                    break
        return out


def search_classes(fresh: Fresh, count: int, record_numbers: list[int]) -> dict[str, list[str]]:
    """`count` new search paths per class (fewer only where the synthetic vocabulary runs out)."""
    pairs = list(itertools.permutations(PROSE, 2))
    random.Random(15).shuffle(pairs)  # spread over the vocabulary, the same in every run
    facets = [("type", v) for v in TYPES] + [("classification", v) for v in LEVELS] + \
             [("place", v) for v in PLACES] + [("year", str(y)) for y in range(1940, 1951)]
    return {
        "rare word": fresh.take([{"q": w} for w in RARE] + [{"q": str(n)} for n in record_numbers if n >= 100], count),
        "common word": fresh.take(({"q": w} for w in PROSE), count),
        "phrase": fresh.take(({"q": f'"{a} {b}"'} for a, b in pairs), count),
        "two words": fresh.take(({"q": f"{a} {b}"} for a, b in pairs[len(pairs) // 2:]), count),
        "facet-filtered": fresh.take(({"q": w, f: v} for w, (f, v) in zip(itertools.cycle(PROSE), facets * 3,
                                                                        strict=False)), count),
    }


def typing(fresh: Fresh, words: int, shortest: int = 2) -> list[str]:
    """Prefix searches as someone types (`ne*`, `neg*`, `nego*`, ...) for `words` words."""
    chosen = sorted((w for w in PROSE if len(w) >= 7), key=len, reverse=True)[:words]
    keystrokes = [{"q": word[:n] + "*"} for word in chosen for n in range(shortest, len(word) + 1)]
    return fresh.take(keystrokes, len(keystrokes))


def autocomplete_paths(template: str, words: int, shortest: int = 2) -> list[str]:
    """The same keystrokes against an autocomplete endpoint (`template` has `{q}`)."""
    chosen = sorted((w for w in PROSE if len(w) >= 7), key=len)[:words]
    return [template.format(q=word[:n]) for word in chosen for n in range(shortest, len(word) + 1)]
