"""`catalog draft FILE.txt`: a draft record from a raw transcription, every proposed value marked
`needs review` with the text it came from.

The printed draft is the record plus a top-level `_review` list (outside the schema): one entry per
proposed value, `{"field", "value", "status": "needs review", "from", "line"}`, and `"placeholder":
true` where nothing could be drawn from the text and a required field holds a marked stand-in. With
`--write` the record is written without `_review`: each entry becomes a `description.notes` entry of
kind `cataloger` beginning "Needs review:", so the review travels with the record and validates, and
the record is written `restricted` ("Draft ... not yet reviewed") so a live server never publishes an
unreviewed draft. It is written only if it validates and never over an existing file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from catalog.importing.draft_assemble import draft_record
from catalog.importing.draft_assemble import ordered
from catalog.validation import Problem
from catalog.validation import check_bytes
from catalog.validation import record_warnings

# -- the command ------------------------------------------------------------------------------

def as_written(draft: dict) -> dict:
    """The record `--write` writes: `_review` folded into cataloger notes beginning "Needs review:"."""
    record = {key: value for key, value in draft.items() if key != "_review"}
    notes = [{"kind": "cataloger", "text": review_note(entry)} for entry in draft.get("_review", [])]
    description = dict(record.get("description", {}))
    description["notes"] = [*description.get("notes", []), *notes]
    record["description"] = description
    return ordered(record)


def review_note(entry: dict) -> str:
    value = json.dumps(entry["value"], ensure_ascii=False)
    if len(value) > 300:
        value = value[:300] + "…"
    text = f"Needs review: {entry['field']} = {value}"
    if entry.get("placeholder"):
        text += " (PLACEHOLDER: nothing in the text gives it)"
    if entry.get("from"):
        where = f"line {entry['line']}" if "line" in entry else "the text"
        text += f"; from {where}: “{entry['from'][:200]}”"
    if entry.get("why"):
        text += f" ({entry['why']})"
    return text


def check(record: dict, path: Path) -> list[Problem]:
    """Errors and warnings `catalog validate` would report for the record at path."""
    data = json.dumps(record, ensure_ascii=False, indent=2).encode()
    parsed, problems = check_bytes(data, str(path))
    return problems + (record_warnings(parsed, str(path)) if parsed else [])


def report(problems: list[Problem], out) -> None:
    """The validation report in `catalog validate`'s format: counts first, errors before warnings."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"1 files checked: {0 if errors else 1} valid, {1 if errors else 0} with errors, {warnings} warnings",
          file=out)
    for problem in sorted(problems, key=lambda p: p.severity != "error"):
        print(f"{problem.severity}: {problem}", file=out)


def run(path: Path, write: bool, records_dir: Path) -> int:
    """Print the draft as JSON (exit 0), or with `write` add it to records_dir: only if it validates
    (else 1, with the report) and never over an existing file (1). 2 when the file cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"catalog draft: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    draft = draft_record(text, source=Path(path).name)
    record = as_written(draft)
    target = Path(records_dir) / f"{record['id']}.json"
    problems = check(record, target)
    if not write:
        print(json.dumps(draft, ensure_ascii=False, indent=2))
        report(problems, sys.stderr)
        print(f"dry run: nothing written; {len(draft['_review'])} values need review; "
              f"`catalog draft {path} --write` writes {target}", file=sys.stderr)
        return 0
    if target.exists():
        print(f"not written: {target} exists (catalog draft never overwrites a record)")
        return 1
    report(problems, sys.stdout)
    if any(p.severity == "error" for p in problems):
        print(f"not written: the draft does not validate; {target} left alone")
        return 1
    try:
        _write_new(target, record)
    except FileExistsError:
        print(f"not written: {target} exists (catalog draft never overwrites a record)")
        return 1
    print(f"wrote {target}: restricted until reviewed; {len(draft['_review'])} values need review "
          f"(description.notes beginning “Needs review:”)")
    return 0


def _write_new(target: Path, record: dict) -> None:
    """Write the file whole or not at all, and never over an existing one (a link fails if it exists)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.draft-{os.getpid()}"
    temporary.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    try:
        os.link(temporary, target)
    finally:
        temporary.unlink()
