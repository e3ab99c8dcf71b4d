"""Language codes as library formats want them: ISO 639-2/B (`eng`, `ger`) from a record's BCP 47 tag.

Records carry BCP 47 (`en`, `en-US`, `ru`); MARC 008/041, MODS `languageTerm authority="iso639-2b"`
and `dc:language` for WorldCat take the three-letter bibliographic code. The ISO 639 tables come
from `pycountry` (kept in step with the ISO 639-3 registration authority), not from a list of ours.
"""

from __future__ import annotations

from functools import cache

import pycountry

UNDETERMINED = "und"
"""ISO 639-2 for a language that cannot be identified: what an unknown tag becomes."""


@cache
def _language(subtag: str):
    if len(subtag) == 2:
        return pycountry.languages.get(alpha_2=subtag)
    if len(subtag) == 3:
        try:
            return pycountry.languages.lookup(subtag)  # ISO 639-3 / 639-2/T, or a 639-2/B code
        except LookupError:
            return None
    return None


def iso639_2b(tag: str | None) -> str:
    """'en' → 'eng', 'de-CH' → 'ger', 'zh-Hant' → 'chi'; 'und' for a tag whose language is not in ISO 639-2."""
    primary = (tag or "").split("-", 1)[0].lower()
    found = _language(primary) if primary.isascii() and primary.isalpha() else None
    if found is None:
        return UNDETERMINED
    return getattr(found, "bibliographic", None) or found.alpha_3


def language_name(tag: str | None) -> str:
    """The language's English name ('English'), or the tag itself when it is unknown."""
    primary = (tag or "").split("-", 1)[0].lower()
    found = _language(primary) if primary.isascii() and primary.isalpha() else None
    return found.name if found is not None else (tag or "")
