"""Checks for record files, with messages written for catalogers.

The store and `catalog validate` share these functions, so a problem reads the same in the
terminal and in `/api/health`. Good files take the fast path (pydantic, plus a byte scan for
characters XML cannot carry); a bad file is re-examined with `json` and `jsonschema` to say
exactly where and what is wrong: every problem at once, top to bottom, each at its field's full
path (`provenance.editions[0].url`) and in words (a pattern becomes what it asks for, a JSON slip
its usual cause). `record_warnings` adds what is probably wrong in a valid record (only
`catalog validate` shows warnings; the server serves the record).
"""

from __future__ import annotations

import calendar
import codecs
import datetime as dt
import difflib
import functools
import itertools
import json
import re
import typing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel
from pydantic import ValidationError

from catalog.model import EDTF_PATTERN
from catalog.model import RECORD_ID_PATTERN
from catalog.model import Agent
from catalog.model import DocumentDate
from catalog.model import Person
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
    """Why the model refused a file, field by field: every problem at once, in document order."""
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
        return [_syntax_problem(text, exc, path)]
    surrogates = _lone_surrogates(text, path)
    if surrogates:  # the model's parser refuses them with a misleading message ("end of hex escape")
        return surrogates
    found = _schema_findings(document)
    found += _model_findings(error, found, document)
    found += _xml_findings(document)
    found.sort(key=lambda finding: _position(document, finding[0]))
    return [Problem(path, f"{_location(where)}: {message}") for where, message in dict.fromkeys(found)]


def _position(document: object, where: tuple) -> tuple[int, ...]:
    """Where a field is in the file, to list problems top to bottom: its key's place in each object, its
    index in each list; a field the file lacks (a missing one) comes after its object's last."""
    position, node = [], document
    for part in where:
        if not _holds(node, part):
            position.append(len(node) if isinstance(node, dict) else 1 << 30)
            node = None
            continue
        position.append(list(node).index(part) if isinstance(node, dict) else part)
        node = node[part]
    return tuple(position)


def _location(parts) -> str:
    """A field path as a cataloger reads it: `pages[1].label`, `provenance.editions[0].url`."""
    shown = ""
    for part in parts:
        shown += f"[{part}]" if isinstance(part, int) else f".{part}"
    return shown.removeprefix(".") or "(record)"


# -- JSON syntax ------------------------------------------------------------------------------

_SYNTAX_HINTS = {
    "Expecting ':' delimiter": "a field name must be followed by a colon",
    "Expecting property name enclosed in double quotes": "field names need double quotes: \"title\", "
                                                         "not 'title' or title",
    "Unterminated string starting at": "a text is not closed: a quotation mark is missing",
    "Invalid control character at": "a line break or tab inside a text: write it as \\n or \\t",
    "Invalid \\escape": "a backslash starts an escape (\\n, \\t, \\\", \\\\): write a backslash as \\\\",
    "Extra data": "there is more after the record's closing }",
}
"""What usually causes each of the `json` module's messages, in a cataloger's words (the messages that
end in "at" are replaced, the others kept with the hint after them)."""


def _syntax_problem(text: str, exc: json.JSONDecodeError, path: str) -> Problem:
    """The parser's position and message, and what usually causes it: a trailing comma is named as one."""
    if not text.strip():
        return Problem(path, "the file is empty")
    comma = _trailing_comma(text, exc.pos)
    if comma is not None:
        line, column = _line_and_column(text, comma)
        return Problem(path, f":{line}:{column}: trailing comma before {text[exc.pos]!r}: JSON allows no comma "
                             "after the last item; remove it")
    if exc.msg == "Expecting ',' delimiter":
        hint = _missing_comma(text, exc.pos)
    else:
        hint = _SYNTAX_HINTS.get(exc.msg) or _value_hint(text[exc.pos:exc.pos + 5])
    if hint and exc.msg.endswith(" at"):
        return Problem(path, f":{exc.lineno}:{exc.colno}: {hint}")
    return Problem(path, f":{exc.lineno}:{exc.colno}: {exc.msg}" + (f": {hint}" if hint else ""))


def _missing_comma(text: str, pos: int) -> str:
    """Two values with no comma between: at the end of the line before, or a quotation mark in a text."""
    end = len(text[:pos].rstrip())
    line = text.count("\n", 0, end) + 1
    if line < text.count("\n", 0, pos) + 1:
        return f"a comma is missing at the end of line {line}"
    return "a comma is missing before this point, or a quotation mark inside a text is not escaped (write \\\")"


def _trailing_comma(text: str, pos: int) -> int | None:
    """Where the comma is, when the parser stopped at a } or ] that follows a comma (JSON forbids that)."""
    if pos >= len(text) or text[pos] not in "}]":
        return None
    before = len(text[:pos].rstrip())
    return before - 1 if before and text[before - 1] == "," else None


def _value_hint(start: str) -> str | None:
    """For "Expecting value": the usual slips from Python or JavaScript habits."""
    if start.startswith("'"):
        return "texts need double quotes, not single ones"
    for word, right in (("True", "true"), ("False", "false"), ("None", "null")):
        if start.startswith(word):
            return f"write {right}, in lower case"
    return None


def _line_and_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


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
    line, column = _line_and_column(text, match.start())
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
    return [Problem(path, f"{_location(where)}: {message}") for where, message in _xml_findings(document)]


def _xml_findings(document: object) -> list[tuple[tuple, str]]:
    """One finding per string holding characters XML cannot carry, naming its field and each character once."""
    found = []
    for where, value in _strings(document, ()):
        chars = list(dict.fromkeys(_NOT_XML.findall(value)))
        if chars:
            shown = _and([f"U+{ord(char):04X}" for char in chars])
            remove = "it" if len(chars) == 1 else "them"
            found.append((where, f"contains {shown}, which XML cannot carry; remove {remove}"))
    return found


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


def _and(items: list[str], word: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


# -- what the schema says, in words ---------------------------------------------------------------

def _schema_findings(document: object) -> list[tuple[tuple, str]]:
    """(field path, message) for everything the published schema refuses."""
    found = []
    for error in _schema_validator().iter_errors(document):
        try:
            found += _describe(error)
        except Exception:  # noqa: BLE001 - a wording slip must never hide the problem (or stop a refresh)
            found.append((tuple(error.absolute_path), _short(error.message, 200)))
    return _without_repeats(found)


def _without_repeats(found: list[tuple[tuple, str]]) -> list[tuple[tuple, str]]:
    """A value wrong for its field and for a conditional rule too is one problem: keep the plain one."""
    said = set(found)
    return [(where, message) for where, message in found
            if not ((match := re.fullmatch(r"(.*) \(when .*\)", message)) and (where, match[1]) in said)]


def _describe(error) -> list[tuple[tuple, str]]:
    """One schema error as findings: alternatives are opened up so each real problem keeps its own path."""
    where = tuple(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and isinstance(error.instance, dict) and _presence_rule(error):
        return [(where, _presence_words(error.validator, error.validator_value, error.instance))]
    if error.validator in ("anyOf", "oneOf") and error.context:
        return _describe_alternatives(error)
    condition = _condition(error)
    if error.validator == "required":
        needed = f"required when {condition}" if condition else "required"
        return [((*where, name), f"missing ({needed})") for name in error.validator_value if name not in error.instance]
    if error.validator == "additionalProperties":
        return _unknown_fields(error, where)
    words = _WORDS.get(error.validator)
    message = words(error) if words else _short(error.message, 200)
    return [(where, f"{message} (when {condition})" if condition else message)]


def _presence_rule(error) -> bool:
    """Alternatives that only ask for fields to be there (and not null): "pages or parts", "page or
    footnote", "target, uri or as_printed"."""
    return all(isinstance(branch, dict) and branch.get("required")
               and set(branch) <= {"required", "properties"}
               and all(sub == {"not": {"type": "null"}} for sub in branch.get("properties", {}).values())
               for branch in error.validator_value)


def _presence_words(kind: str, branches: list, instance: dict) -> str:
    """Which of the fields are there, and what the rule asks: one of them (oneOf), at least one (anyOf)."""
    names = [name for branch in branches for name in branch["required"]]
    present = [repr(name) for name in names if instance.get(name) is not None]
    if kind == "oneOf" and len(present) > 1:
        return f"has {'both ' if len(present) == 2 else ''}{_and(present)}; only one of them is allowed"
    quoted = [repr(name) for name in names]
    if len(names) == 2:
        return f"has neither {_and(quoted, 'nor')}; one of them is required"
    return f"has none of {_and(quoted, 'or')}; {'one' if kind == 'oneOf' else 'at least one'} of them is required"


def _condition(error) -> str:
    """For a rule inside a `then`, its `if` in words ("status is 'restricted'"); '' for any other rule."""
    node, said = _schema_validator().schema, ""
    try:
        for key in error.schema_path:
            if isinstance(node, dict) and key not in node and "$ref" in node:
                node = _resolve(node["$ref"])
            if key == "then":
                said = _if_words(node.get("if", {}))
            node = node[key]
    except (KeyError, IndexError, TypeError):
        pass
    return said


def _if_words(condition: dict) -> str:
    consts = [f"{name} is {sub['const']!r}" for name, sub in condition.get("properties", {}).items()
              if isinstance(sub, dict) and "const" in sub]
    return " and ".join(consts)


def _resolve(reference: str) -> dict:
    """A local `$ref` ("#/$defs/Access"): an error's schema path steps through references silently."""
    node = _schema_validator().schema
    for key in reference.removeprefix("#/").split("/"):
        node = node[key]
    return node


def _describe_alternatives(error) -> list[tuple[tuple, str]]:
    """`X | None` fields (and the like) are anyOf: report the problems of the alternative whose kind of
    value the file has, or say which kinds are allowed when it has none of them."""
    branches: dict[int, list] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [subs for subs in branches.values()
               if not any(sub.validator == "type" and not sub.relative_path for sub in subs)]
    if len(fitting) == 1:
        return [found for sub in fitting[0] for found in _describe(sub)]
    if fitting:
        from jsonschema.exceptions import best_match

        return _describe(best_match(sub for subs in fitting for sub in subs))
    kinds = [_kind(branch) for branch in error.validator_value]
    return [(tuple(error.absolute_path), _type_message([k for k in kinds if k != "null"] or kinds, error.instance))]


def _kind(schema: dict) -> str:
    """The JSON type an alternative asks for (a `$ref` is to one of the model's objects)."""
    kind = schema.get("type", "object" if "$ref" in schema else "value")
    return kind if isinstance(kind, str) else kind[0]


def _unknown_fields(error, where: tuple) -> list[tuple[tuple, str]]:
    """A field the schema does not know, at its own path, with the field it is probably a typo of."""
    known = list(error.schema.get("properties", {}))
    found = []
    for key in error.instance:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"the fields here are {', '.join(known)}"
        found.append(((*where, key), f"unknown field (a typo?); {hint}"))
    return found


_TYPES = {"string": "text (in double quotes)", "integer": "a whole number", "number": "a number",
          "boolean": "true or false", "array": "a list [...]", "object": "an object {...}", "null": "null"}


def _type_message(expected: list[str], instance: object) -> str:
    """'should be text (in double quotes), not the number 2: write "2"' — the kind wanted, the kind found."""
    message = f"should be {_and([_TYPES.get(kind, kind) for kind in expected], 'or')}, not {_what(instance)}"
    if "string" in expected and _json_kind(instance) in ("integer", "number"):
        return f'{message}: write "{instance}"'
    if isinstance(instance, str) and _json_kind(_unquoted(instance)) in expected:
        return f"{message}: write {instance.strip()} without quotes"
    return message


def _unquoted(text: str) -> object:
    """What `text` would be without its quotes ("3" → 3, "true" → True); the text itself otherwise."""
    try:
        return json.loads(text.strip())
    except ValueError:
        return text


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "")


def _what(value: object) -> str:
    """A value named by its kind, short enough for one line whatever its size."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_short(value)!r}" if value else 'an empty text ("")'
    return "a list" if isinstance(value, list) else "an object"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _shown(value: object) -> str:
    """A value quoted as in the file when it is short text, else named by its kind."""
    return repr(value) if isinstance(value, str) and len(value) <= 60 else _what(value)


def _type_words(error) -> str:
    expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    return _type_message(expected, error.instance)


def _enum_words(error) -> str:
    allowed = ", ".join(repr(v) for v in error.validator_value)
    message = f"{_shown(error.instance)} is not one of {allowed}"
    if isinstance(error.instance, str):
        by_lower = {str(v).lower(): v for v in error.validator_value}
        close = difflib.get_close_matches(error.instance.lower(), list(by_lower), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {by_lower[close[0]]!r}?"
    return message


def _format_words(error) -> str:
    value = error.instance
    if error.validator_value == "date":
        return _date_words(value)
    if error.validator_value == "date-time":
        return (f"{value!r} is not a valid date and time: expected YYYY-MM-DDTHH:MM:SSZ (or an offset "
                "such as +01:00 for Z), e.g. 2026-11-01T09:30:00Z")
    return f"{_shown(value)} is not a valid {error.validator_value}"


def _date_words(value: str) -> str:
    """Name the expected form, or, when the form is right, what is impossible about the date."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if not match:
        return f"{_shown(value)} is not a valid date: expected YYYY-MM-DD, e.g. 1943-10-30"
    year, month, _day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return f"{value!r} is not a valid date: there is no month {month:02d} (expected YYYY-MM-DD)"
    days = calendar.monthrange(year, month)[1]
    return f"{value!r} is not a valid date: {calendar.month_name[month]} {year} has {days} days"


_ID_WORDS = ("an id is lower-case letters, digits and hyphens, starting and ending with a letter or digit "
             "(at most 100 characters)")
_LANGUAGE_WORDS = "use a BCP 47 tag such as en or en-US"
_PATTERN_WORDS = {
    RECORD_ID_PATTERN: lambda v: f"{v} is not an id: {_ID_WORDS}",
    r"^https?://": lambda v: f"{v} must start with http:// or https://",
    r"^([01]\d|2[0-3]):[0-5]\d$": lambda v: f"{v} must be HH:MM, 24-hour (6 p.m. is 18:00)",
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$": lambda v: f"{v} is not a language tag: {_LANGUAGE_WORDS}",
    EDTF_PATTERN: lambda v: (f"{v} is not an EDTF date: write e.g. 1945-06-16, 1945-06?, 1945~, "
                             "or an interval such as 1945-06/1945-07 or ../1945-11-06"),
}
"""Every pattern of the published schema, in words (a test checks that none is left out)."""


def _pattern_words(error) -> str:
    words = _PATTERN_WORDS.get(error.validator_value)
    if words is None:
        return f"{_shown(error.instance)} does not have the expected form ({error.validator_value})"
    return words(_shown(error.instance))


def _min_length_words(error) -> str:
    if error.instance == "":
        return 'is empty ("")'
    return f"{_shown(error.instance)} is shorter than {error.validator_value} characters"


def _min_items_words(error) -> str:
    wanted = error.validator_value
    entries = f"{wanted} {'entry' if wanted == 1 else 'entries'}"
    if not error.instance:
        return f"is an empty list; it needs at least {entries}"
    return f"has {len(error.instance)}; it needs at least {entries}"


_WORDS = {
    "type": _type_words,
    "enum": _enum_words,
    "const": lambda e: f"{_shown(e.instance)} should be {e.validator_value!r}",
    "format": _format_words,
    "pattern": _pattern_words,
    "minLength": _min_length_words,
    "maxLength": lambda e: f"is longer than {e.validator_value} characters",
    "minItems": _min_items_words,
    "maxItems": lambda e: f"has {len(e.instance)} entries; at most {e.validator_value} are allowed",
    "minimum": lambda e: f"{_what(e.instance).removeprefix('the number ')} is less than {e.validator_value}, "
                         "the least allowed",
    "not": lambda e: "should not be null" if e.validator_value == {"type": "null"} else _short(e.message, 200),
    "maximum": lambda e: f"{_what(e.instance).removeprefix('the number ')} is more than {e.validator_value}, "
                         "the most allowed",
}
"""A message for each kind of schema rule; others keep jsonschema's own (shortened)."""


# -- rules only the model states -------------------------------------------------------------------

def _model_findings(error: ValidationError, schema_found: list[tuple[tuple, str]],
                    document: object) -> list[tuple[tuple, str]]:
    """What the model says beyond the schema: the rules only `catalog validate` checks (an end_date before
    its date, 2.0 for a whole number). A model error the schema already named, at the same field or at
    the object around it (access for access.reason), is the same problem said less well: left out."""
    found = []
    for err in error.errors():
        where = _path_in_file(document, tuple(err["loc"]), err["type"] == "missing")
        if not any(where == named[:len(where)] for named, _message in schema_found):
            found.append((where, _model_words(err)))
    return found


def _holds(node: object, part: object) -> bool:
    """Whether a parsed JSON object has the key, or a list the index."""
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _path_in_file(document: object, loc: tuple, missing: bool) -> tuple:
    """A pydantic location as a path in the file: without the names it gives a union's alternatives
    (editors[0].constrained-str, editors[1].Editor.name), which are no field of the file."""
    where, node = [], document
    for index, part in enumerate(loc):
        if _holds(node, part):
            where.append(part)
            node = node[part]
        elif missing and index == len(loc) - 1:
            where.append(part)
    return tuple(where)


def _model_words(err: dict) -> str:
    if err["type"] in ("int_type", "int_from_float") and isinstance(err.get("input"), float):
        whole = int(err["input"]) if err["input"].is_integer() else None
        fix = f": write {whole}" if whole is not None else ""
        return f"{err['input']!r} should be a whole number, written without a fraction or exponent{fix}"
    if err["type"] == "missing":
        return "missing (required)"
    return err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")


# -- warnings: probably wrong, still served ---------------------------------------------------------

def record_warnings(record: Record, path: str) -> list[Problem]:
    """Things that are probably wrong but do not stop a record from being served."""
    checks = (_date_code_matches, _file_number_dashes, _declassification_authority, _page_label_gaps,
              _received_after_sent, _names_inverted, _page_references, _quoted_text_occurs)
    return [Problem(path, f"{_location(where)}: {message}", "warning")
            for check in checks for where, message in check(record)]


_DATE_CODE = re.compile(r"/(\d{1,2})[–-](\d{2})(\d{2})$")


def _date_code_matches(record: Record):
    """A decimal file number's date code (M–DDYY) is a free check of the record's own date."""
    file_number = record.provenance.file_number
    match = _DATE_CODE.search(file_number or "")
    if match:
        month, day, year = (int(g) for g in match.groups())
        d = record.date.date
        if (month, day, year) != (d.month, d.day, d.year % 100):
            yield ("provenance", "file_number"), (
                f"date code in {file_number!r} means {month}/{day}/{year:02d}, "
                f"but the record's date is {d.isoformat()}")


_WRONG_DASH = re.compile(r"(?<=/)(\d{1,2})([-‐‑‒—―−])(\d{4})(?!\d)")
"""A date code after the slash (M–DDYY) written with some other dash than the en dash."""
_DASH_NAMES = {"-": "a hyphen", "‐": "a hyphen (U+2010)", "‑": "a non-breaking hyphen", "‒": "a figure dash",
               "—": "an em dash", "―": "a horizontal bar", "−": "a minus sign"}


def _file_number_dashes(record: Record):
    """The files print the date code with an en dash; a record keeps the number verbatim, so a hyphen
    is a transcription slip (search finds either, but citations and OAI-PMH show the record's)."""
    provenance = record.provenance
    numbered = [(("provenance", "file_number"), provenance.file_number)]
    numbered += [(("provenance", "other_file_numbers", i), n) for i, n in enumerate(provenance.other_file_numbers)]
    for where, number in numbered:
        dashes = [_DASH_NAMES[m.group(2)] for m in _WRONG_DASH.finditer(number or "")]
        if dashes:
            fixed = _WRONG_DASH.sub(r"\1–\3", number)
            yield where, (f"{number!r} has {_and(list(dict.fromkeys(dashes)))} in its date code where the "
                          f"file number has an en dash: write {fixed!r}")


def _declassification_authority(record: Record):
    """A document once classified was declassified under some authority, which the record should cite,
    or say why it cannot (`declassification_unrecorded`: "The edition prints no declassification action.")."""
    provenance = record.provenance
    level = provenance.classification.level
    if level in ("unclassified", "unmarked") or getattr(provenance, "declassification_unrecorded", None):
        return
    if not any(decl.authority for decl in _declassifications(record)):
        why = ("; cite it, or say why it is unknown in provenance.declassification_unrecorded"
               if "declassification_unrecorded" in type(provenance).model_fields else "")
        yield ("provenance", "declassification"), (
            f"originally {level!r} but no declassification authority is recorded{why}")


def _declassifications(record: Record):
    yield from record.provenance.declassification
    for part in record.parts or []:
        yield from part.declassification


def _page_label_gaps(record: Record):
    """Printed page numbers that skip one suggest a page left out of the transcription."""
    for where, pages in _page_runs(record):
        numbers = [_page_number(page.label) for page in pages if not page.label_supplied]
        numbers = [n for n in numbers if n is not None]
        gaps = [(a, b) for a, b in itertools.pairwise(numbers) if b != a + 1]
        if gaps:
            yield where, f"page labels skip ({', '.join(f'{a} → {b}' for a, b in gaps)})"


def _page_runs(record: Record):
    if record.parts is None:
        yield ("pages",), record.pages or []
    else:
        for index, part in enumerate(record.parts):
            yield ("parts", index, "pages"), part.pages


def _page_number(label: str) -> int | None:
    match = re.search(r"\d+", label)
    return int(match.group()) if match else None


def _received_after_sent(record: Record):
    """A message is received after it is sent: an earlier received date is usually a typo. Compared
    within `dates` and within each part's `dates`, against the earliest sent date; approximate or
    uncertain dates are left alone."""
    yield from _dates_in_order(("dates",), record.dates)
    for index, part in enumerate(record.parts or []):
        yield from _dates_in_order(("parts", index, "dates"), part.dates)


def _dates_in_order(where: tuple, dates: list[DocumentDate]):
    sent = [(i, d) for i, d in enumerate(dates) if d.type == "sent" and d.how_sure is None]
    if not sent:
        return
    first_index, first = min(sent, key=lambda pair: pair[1].date)
    for index, date in enumerate(dates):
        if (date.type == "received" and date.how_sure is None and date.date < first.date
                and not _across_the_date_line(first, date)):
            yield (*where, index, "date"), (
                f"received {date.date.isoformat()}, before it was sent ({first.date.isoformat()}, "
                f"{_location((*where, first_index, 'date'))}): is one of the dates mistyped?")


def _across_the_date_line(sent: DocumentDate, received: DocumentDate) -> bool:
    """Local dates can put the receipt on the day before the sending ("Chungking, June 16, 1945—9 a.m.
    [Received June 15—11:15 p.m.]"): one day earlier is accepted when both dates record their time."""
    return sent.date - received.date == dt.timedelta(days=1) and bool(sent.time and received.time)


# -- names: family name first ----------------------------------------------------------------------

_INITIALS = re.compile(r"(?:[A-Z]\.)+")
_SUFFIXES = {"Jr.", "Sr.", "II", "III", "IV"}
_PARTICLES = {"de", "da", "di", "du", "del", "della", "der", "den", "van", "von", "la", "le", "y", "bin", "ibn"}
_NOT_PERSONAL_WORDS = """
    the of and for in to at on department state states office embassy amembassy legation consulate ministry
    commissariat bureau committee commission council government army navy air force corps staff chiefs
    library archives administration division section service agency board headquarters mission delegation
    conference house senate congress cabinet court party union nations kingdom republic federation empire
    company corporation association society university institute foundation press news radio bank trust
    president ambassador secretary minister chargé consul marshal generalissimo general admiral colonel
    major captain commander premier chairman prime acting under assistant attaché mr mrs miss dr sir lord
    lady king queen prince emperor pope saint st united soviet great britain british american america china
    chinese japan japanese france french germany german russia russian ussr iran iranian turkey turkish
    poland polish italy italian new north south east west central national international imperial royal
    supreme joint combined allied military naval foreign war peace relief red white kremlin city
    """
_NOT_PERSONAL = frozenset(_NOT_PERSONAL_WORDS.split())
"""Words that make a name an office, an institution, a place or a title with a surname, not a person."""


def _names_inverted(record: Record):
    """Normalized personal names are family name first ("Harriman, W. Averell"), as in the name authority
    files; the warning is kept for names that can only be personal (see `_natural_order`)."""
    for where, found in _walk(record, ()):
        if isinstance(found, Agent | Person):
            inverted = _natural_order(found.name)
            if inverted:
                yield (*where, "name"), (f"{found.name!r} looks like a personal name in natural order; "
                                         f"write the family name first, with a comma: probably {inverted!r}")


def _natural_order(name: str) -> str | None:
    """The name family name first, when `name` is certainly a person's name written given name first.

    Conservative, so offices and institutions never warn: the name has no comma and two to five words;
    every word is an initial ("W.", "J.R."), a capitalized word with lower-case letters ("Averell",
    "Kai-shek"), a particle ("de", "von") or a suffix ("Jr."); the last word before any suffix is a
    capitalized word; and no word is an office, institution, place or title word (`_NOT_PERSONAL`). So a
    heading with a period after a whole word ("United States. Department of State"), a lower-case word
    ("Department of State"), an all-capitals name ("AMEMBASSY MOSCOW") or a title ("President Truman")
    never warns. A last word like "Kai-shek" is a Chinese given name: the family name is already first."""
    words = name.split()
    if "," in name or not 2 <= len(words) <= 5 or not all(map(_name_word, words)):
        return None
    if any(word.lower().rstrip(".") in _NOT_PERSONAL for word in words) or words[0] in _PARTICLES:
        return None
    suffixes = []
    while words and words[-1] in _SUFFIXES:
        suffixes.insert(0, words.pop())
    if len(words) < 2 or _name_word(words[-1]) != "word":
        return None
    if re.fullmatch(r"[A-Z][a-z]+-[a-z]+", words[-1]):  # Wade–Giles: Chiang Kai-shek, Mao Tse-tung
        return f"{words[0]}, {' '.join(words[1:])}"
    return ", ".join([words[-1], " ".join(words[:-1]), *suffixes])


def _name_word(word: str) -> str | None:
    """What a word of a personal name is: initial, suffix, particle or word; None when it is none of them."""
    if _INITIALS.fullmatch(word):
        return "initial"
    if word in _SUFFIXES:
        return "suffix"
    if word in _PARTICLES:
        return "particle"
    if re.fullmatch(r"[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*", word) and word[0].isupper() and any(
            c.islower() for c in word):
        return "word"
    return None


# -- page labels that other fields point to --------------------------------------------------------

def _page_references(record: Record):
    """Footnote marks, corrections, markings, stamps and annotations name a page by its printed label
    (every field called `page` does); a label no page has is a typo, or a page left out."""
    for where, found in _walk(record, ()):
        fields = type(found).model_fields
        label = found.page if "page" in fields else None
        if not isinstance(label, str):
            continue
        part = found.part if "part" in fields else None
        if record.parts and part is not None and part > len(record.parts):
            yield (*where, "part"), f"there is no part {part}: the record has {len(record.parts)} parts"
            continue
        labels = _labels(record, part)
        if label not in labels:
            yield (*where, "page"), _no_such_page(label, labels, part if record.parts else None)


def _quoted_text_occurs(record: Record):
    """A correction's `original` and a footnote mark's `after` quote the page verbatim: the quote must
    be found there (as often as `occurrence` says), or the reading or the mark cannot be placed."""
    quotes = [(("corrections", i), "original", c.original, c.page, c.part, c.occurrence)
              for i, c in enumerate(record.corrections) if c.page]
    quotes += [(("footnotes", i, "referenced_at"), "after", f.referenced_at.after, f.referenced_at.page,
                f.referenced_at.part, f.referenced_at.occurrence)
               for i, f in enumerate(record.footnotes) if f.referenced_at and f.referenced_at.after]
    for where, field, quote, label, part, occurrence in quotes:
        if (record.parts and part is not None and part > len(record.parts)) or label not in _labels(record, part):
            continue  # reported by _page_references
        text = "\n".join(page.text for index, (in_part, page) in enumerate(_pages_with_part(record))
                         if page.label == label and (part is None or in_part == part))
        found = text.count(quote)
        wanted = occurrence or 1
        if found < wanted:
            times = "" if wanted == 1 else f" {wanted} times"
            yield (*where, field), (f"{quote[:60]!r} does not occur{times} on page {label!r}"
                                    + (f" (found {found})" if found else "") + ": quote the page verbatim")


def _pages_with_part(record: Record) -> list[tuple[int | None, object]]:
    """(1-based part or None, page) in reading order."""
    if not record.parts:
        return [(None, page) for page in record.pages or []]
    return [(n, page) for n, part in enumerate(record.parts, 1) for page in part.pages]


def _labels(record: Record, part: int | None) -> list[str]:
    """The page labels a reference can mean: one part's, when it names a part of a compound item."""
    if record.parts and part is not None:
        return [page.label for page in record.parts[part - 1].pages]
    return list(dict.fromkeys(page.label for _part, page in record.all_pages()))


def _no_such_page(label: str, labels: list[str], part: int | None) -> str:
    where = f"part {part} has" if part else "the record has"
    close = difflib.get_close_matches(label, labels, n=1, cutoff=0.5)
    if close:
        return f"no page is labelled {label!r}: did you mean {close[0]!r}?"
    shown = ", ".join(repr(x) for x in labels[:8]) + (", ..." if len(labels) > 8 else "")
    return f"no page is labelled {label!r}; {where} {shown}"


def _walk(value: object, where: tuple):
    """(field path, model object) for the record and every object inside it."""
    if isinstance(value, BaseModel):
        yield where, value
        for name in _nested_fields(type(value)):
            yield from _walk(getattr(value, name), (*where, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, (*where, index))


@functools.cache
def _nested_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` that can hold models (texts and numbers are never walked into)."""
    def holds_models(annotation) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return True
        return any(holds_models(arg) for arg in typing.get_args(annotation))
    return tuple(name for name, field in model.model_fields.items() if holds_models(field.annotation))