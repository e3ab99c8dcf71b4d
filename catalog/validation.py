"""Checks for record files, with messages written for catalogers.

The store and `catalog validate` share these functions, so a problem reads the same in the
terminal and in `/api/health`. Good files take the fast path (pydantic only); a bad file is
re-examined with `json` and `jsonschema` to say exactly where and what is wrong.
"""

from __future__ import annotations

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
    expected = Path(path).stem
    if record.id != expected:
        return record, [Problem(path, f"id: {record.id!r} does not match the file name {Path(path).name!r}")]
    return record, []


def _explain(data: bytes, path: str, error: ValidationError) -> list[Problem]:
    try:
        document = json.loads(data)
    except UnicodeDecodeError as exc:
        return [Problem(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    except json.JSONDecodeError as exc:
        return [Problem(path, f":{exc.lineno}:{exc.colno}: {exc.msg}")]
    problems = [
        Problem(path, f"{_location(e.absolute_path)}: {_schema_message(e)}")
        for e in sorted(_schema_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        if not (e.validator == "oneOf" and not e.absolute_path)
    ]
    if not problems:  # rules the schema cannot state (cross-field checks in the model)
        problems = [
            Problem(path, f"{_location(err['loc'])}: {err['msg'].removeprefix('Value error, ')}")
            for err in error.errors()
        ]
    return problems


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
