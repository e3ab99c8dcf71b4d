"""`catalog import csv`: one record per row of a spreadsheet (CSV, or .xlsx through openpyxl).

The header row names each column's field by its dotted path (`provenance.repository.name`), list
entries by their index (`creators.0.name`); a list of texts takes `;`-separated values
(`description.subjects`). A mapping file names the field of any other header. The record model
says which fields are lists, whole numbers or true/false, so a cell is converted the way the field
needs; anything else is left as text for the validation report to name. Empty cells are no value.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from types import NoneType

from catalog.importing import paths
from catalog.importing.batch import Candidate
from catalog.importing.batch import now
from catalog.importing.fields import apply_settings
from catalog.importing.fields import typed


class SpreadsheetError(ValueError):
    """The file cannot be read as a table (not the rows' problems, which the report lists)."""


def read_rows(path: Path) -> list[list[str]]:
    """Every row as text cells, the header first."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:  # -sig: Excel's byte order mark
            return [row for row in csv.reader(handle)]
    except UnicodeDecodeError as error:
        raise SpreadsheetError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}): "
                               "save it as CSV UTF-8") from error
    except (OSError, csv.Error) as error:
        raise SpreadsheetError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from error


def _xlsx_rows(path: Path) -> list[list[str]]:
    """The first sheet of a workbook, cells as text (dates as YYYY-MM-DD, whole numbers without '.0')."""
    try:
        import openpyxl
    except ImportError as error:
        raise SpreadsheetError(f"{path}: reading .xlsx needs openpyxl (pip install openpyxl); "
                               "or save the sheet as CSV UTF-8") from error
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise SpreadsheetError(f"{path}: cannot be read as a workbook ({error})") from error
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_mapping(path: Path) -> dict[str, str]:
    """Header → field path, from JSON (`{"Box": "provenance.collection.box"}`) or a two-column CSV
    (`column,field`). A header mapped to "" (or null) is left out."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise SpreadsheetError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from error
    if path.suffix.lower() == ".json":
        try:
            mapping = json.loads(text)
        except ValueError as error:
            raise SpreadsheetError(f"{path}: not valid JSON ({error})") from error
        if not isinstance(mapping, dict) or not all(isinstance(v, str | NoneType) for v in mapping.values()):
            raise SpreadsheetError(f'{path}: must be a JSON object of column names and field paths: '
                                   '{"Box": "provenance.collection.box"}')
        return {str(k).strip(): (v or "").strip() for k, v in mapping.items()}
    rows = [row for row in csv.reader(text.splitlines()) if any(cell.strip() for cell in row)]
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["column", "field"]:
        rows = rows[1:]
    if any(len(row) < 2 for row in rows):
        raise SpreadsheetError(f"{path}: each line needs two cells: the column name and its field path")
    return {row[0].strip(): row[1].strip() for row in rows}


def candidates(path: Path, mapping: dict[str, str] | None = None,
               settings: dict[str, str] | None = None) -> list[Candidate]:
    """One candidate record per non-empty row, named `FILE:ROW` (the header is row 1)."""
    rows = read_rows(path)
    if not rows:
        raise SpreadsheetError(f"{path}: is empty; the first row must name the fields")
    mapping = mapping or {}
    columns = [mapping.get(header.strip(), header.strip()) for header in rows[0]]
    _check_columns(path, [c for c in columns if c])
    found = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {column: cell for column, cell in zip(columns, row, strict=False) if column and cell.strip()}
        found.append(row_candidate(f"{path.name}:{number}", cells, settings or {}, f"{path.name}, row {number}"))
    return found


def _check_columns(path: Path, columns: list[str]) -> None:
    """Two columns for one field, or one inside another's value, cannot both be filled: say which."""
    for index, column in enumerate(columns):
        if any(part.isdigit() and int(part) > 999 for part in column.split(".")):
            raise SpreadsheetError(f"{path}:1: column {column!r}: list indexes run from 0 to 999")
        for other in columns[index + 1:]:
            if other == column or other.startswith(column + ".") or column.startswith(other + "."):
                raise SpreadsheetError(f"{path}:1: columns {column!r} and {other!r} name the same field; "
                                       "map one of them elsewhere (--mapping)")


def row_candidate(source: str, cells: dict[str, str], settings: dict[str, str], origin: str) -> Candidate:
    """A row's record: its cells at their paths, then the settings where the row is silent, then the
    cataloging dates (now) and source. The fields the row fills are the ones it owns on --update."""
    record: dict = {}
    for field_path, text in cells.items():
        paths.put(record, field_path, typed(field_path, text))
    apply_settings(record, settings or {})
    stamp = now()
    cataloging = record.setdefault("cataloging", {})
    if isinstance(cataloging, dict):
        cataloging.setdefault("created", stamp)
        cataloging.setdefault("modified", stamp)
        cataloging.setdefault("sources", [origin])
    owned = tuple(dict.fromkeys(_owned(field_path) for field_path in cells if field_path != "id"))
    return Candidate(source, record, owned)


def _owned(field_path: str) -> str:
    """A list filled by index (`creators.0.name`) is replaced whole on update: up to its name."""
    parts = field_path.split(".")
    for index, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[:index])
    return field_path
