"""Checks for record files, with messages written for catalogers.

The store and `catalog validate` share these functions, so a problem reads the same in the
terminal and in `/api/health`. Good files take the fast path (pydantic, plus a byte scan for
characters XML cannot carry); a bad file is re-examined with `json` and `jsonschema` to say
exactly where and what is wrong.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from catalog.model import Record
from catalog.model import record_json_schema


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"{self.path}{self.message if self.message.startswith(':') else ': ' + self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "severity": self.severity, "message": str(self)}


@lru_cache(maxsize=1)
def _schema_validator():
    """Only a bad file needs jsonschema: imported here, it stays off the server's start-up path."""
    import jsonschema

    schema = record_json_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check_bytes(data: bytes, path: str) -> tuple[Record | None, list[Problem]]:
    """Parse one record file's bytes: the record, or every problem found in it."""
    try:
        record = Record.model_validate_json(data)
    except ValidationError as error:
        return None, _explain(data, path, error)
    problems = _xml_problems(json.loads(data), path) if _MAYBE_NOT_XML.search(data) else []
    expected = Path(path).stem
    if record.id != expected:
        problems.insert(0, Problem(path, f"id: {record.id!r} does not match the file name {Path(path).name!r}"))
    return record, problems


def _explain(data: bytes, path: str, error: ValidationError) -> list[Problem]:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return [_byte_order_mark_problem(encoding, path)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [Problem(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [Problem(path, f":{exc.lineno}:{exc.colno}: {exc.msg}")]
    surrogates = _lone_surrogates(text, path)
    if surrogates:  # the model's parser refuses them with a misleading message ("end of hex escape")
        return surrogates
    problems = [
        Problem(path, f"{_location(e.absolute_path)}: {_schema_message(e)}")
        for e in sorted(_schema_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        if not (e.validator == "oneOf" and not e.absolute_path)
    ] + _xml_problems(document, path)
    if not problems:  # rules the schema cannot state (cross-field checks in the model)
        problems = [
            Problem(path, f"{_location(err['loc'])}: {err['msg'].removeprefix('Value error, ')}")
            for err in error.errors()
        ]
    return problems


# -- encodings, surrogates and characters XML cannot carry --------------------------------------

_BYTE_ORDER_MARKS = ((codecs.BOM_UTF8, "UTF-8"), (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                     (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))
"""Longest first: the UTF-32 little-endian mark begins with the UTF-16 one."""


def _byte_order_mark_problem(encoding: str, path: str) -> Problem:
    """Editors on Windows add these invisibly; JSON allows none, and the parser's own message is opaque."""
    if encoding == "UTF-8":
        return Problem(path, "starts with a byte order mark (BOM), which JSON does not allow: "
                             "save it as UTF-8 without BOM")
    return Problem(path, f"is {encoding} text (it starts with a {encoding} byte order mark): "
                         "save it as UTF-8 without BOM")


_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
"""Every escape in a JSON text: `\\\\` is consumed whole, so `\\\\ud800` is text, not an escape."""


def _lone_surrogates(text: str, path: str) -> list[Problem]:
    """Escapes of half a UTF-16 pair (a high one not followed by a low one, or a low one alone), by position."""
    problems = []
    pending = None  # a high surrogate's escape, waiting for its low half right after it
    for match in _ESCAPE.finditer(text):
        code = int(match.group(1), 16) if match.group(1) else -1
        if pending is not None:
            if 0xDC00 <= code <= 0xDFFF and match.start() == pending.end():
                pending = None
                continue
            problems.append(_lone_surrogate(text, pending, path))
            pending = None
        if 0xD800 <= code <= 0xDBFF:
            pending = match
        elif 0xDC00 <= code <= 0xDFFF:
            problems.append(_lone_surrogate(text, match, path))
    if pending is not None:
        problems.append(_lone_surrogate(text, pending, path))
    return problems


def _lone_surrogate(text: str, match: re.Match, path: str) -> Problem:
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - text.rfind("\n", 0, match.start())
    return Problem(path, f":{line}:{column}: {match.group()} is a lone surrogate (half of a UTF-16 pair, not a "
                         "character): write the character itself, or both halves of its pair")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What XML 1.0 cannot carry (catalog.oai.xml drops it from OAI-PMH output, so it must not get there)."""
_MAYBE_NOT_XML = re.compile(
    rb"\\(?:[bf]|u(?:00[01][0-9a-fA-F]|[dD][89a-fA-F][0-9a-fA-F]{2}|[fF]{3}[eEfF]))|\xef\xbf[\xbe\xbf]")
"""How such a character can be written in JSON (an escape such as \\u000b or \\b, or U+FFFE/U+FFFF raw):
a cheap filter that lets good files skip walking the document; it also lets by some that are fine
(an escaped tab, a surrogate pair, an escaped backslash before a b)."""


def _xml_problems(document: object, path: str) -> list[Problem]:
    """One problem per string holding characters XML cannot carry, naming its field and each character once."""
    problems = []
    for where, value in _strings(document, ()):
        found = list(dict.fromkeys(_NOT_XML.findall(value)))
        if found:
            shown = [f"U+{ord(char):04X}" for char in found]
            listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
            problems.append(Problem(path, f"{_location(where)}: contains {listed}, which XML cannot carry; "
                                          f"remove {'it' if len(shown) == 1 else 'them'}"))
    return problems


def _strings(value: object, where: tuple):
    """(field path, string) for every string in a parsed document, keys included (reported at their object)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield where, key
            yield from _strings(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*where, index))


def _location(parts) -> str:
    return ".".join(str(p) for p in parts) or "(record)"


def _schema_message(error) -> str:
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"{error.instance!r} is not one of {allowed}"
    if error.validator == "const":
        return f"{error.instance!r} should be {error.validator_value!r}"
    if error.validator == "format":
        return f"{error.instance!r} is not a valid {error.validator_value}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        real = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
        if real:
            from jsonschema.exceptions import best_match

            return _schema_message(best_match(real))
    return error.message


_DATE_CODE = re.compile(r"/(\d{1,2})[–-](\d{2})(\d{2})$")


def record_warnings(record: Record, path: str) -> list[Problem]:
    """Things that are probably wrong but do not stop a record from being served."""
    warnings: list[Problem] = []
    file_number = record.provenance.file_number
    match = _DATE_CODE.search(file_number or "")
    if match:
        month, day, year = (int(g) for g in match.groups())
        d = record.date.date
        if (month, day, year) != (d.month, d.day, d.year % 100):
            warnings.append(Problem(path, (
                f"provenance.file_number: date code in {file_number!r} means "
                f"{month}/{day}/{year:02d}, but the record's date is {d.isoformat()}"), "warning"))
    if record.provenance.classification.level not in ("unclassified", "unmarked") and not any(
        decl.authority for decl in _declassifications(record)
    ):
        warnings.append(Problem(path, (
            f"provenance.declassification: originally {record.provenance.classification.level!r} "
            "but no declassification authority is recorded"), "warning"))
    for where, pages in _page_runs(record):
        numbers = [_page_number(page.label) for page in pages if not page.label_supplied]
        numbers = [n for n in numbers if n is not None]
        gaps = [(a, b) for a, b in itertools.pairwise(numbers) if b != a + 1]
        if gaps:
            shown = ", ".join(f"{a} → {b}" for a, b in gaps)
            warnings.append(Problem(path, f"{where}: page labels skip ({shown})", "warning"))
    return warnings


def _declassifications(record: Record):
    yield from record.provenance.declassification
    for part in record.parts or []:
        yield from part.declassification


def _page_runs(record: Record):
    if record.parts is None:
        yield "pages", record.pages or []
    else:
        for index, part in enumerate(record.parts):
            yield f"parts.{index}.pages", part.pages


def _page_number(label: str) -> int | None:
    match = re.search(r"\d+", label)
    return int(match.group()) if match else None
