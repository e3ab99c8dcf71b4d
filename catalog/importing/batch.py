"""The one way importers write records: checked, reported like `catalog validate`, all or nothing.

An importer hands over candidates (a record dict, where it came from, which fields it owns). Each is
checked with the same functions as `catalog validate`, so a problem reads `FILE:ROW: field: message`
with the same words. Nothing is written unless asked (`write`); then only when every candidate is
valid, or with `partial` the valid ones. An existing record is replaced only with `update`, and then
merged: the importer's own fields are replaced, every other field keeps the cataloger's edits. A batch
is written as temporary files first, then moved into place one by one; if anything fails, the
temporaries are removed and the files already moved are put back, so no half batch is left.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TextIO

from catalog.importing import paths
from catalog.model import RECORD_ID_PATTERN
from catalog.validation import Problem
from catalog.validation import check_bytes
from catalog.validation import record_warnings

TEMP_SUFFIX = ".import-tmp"
"""Temporary files are hidden and do not end in .json, so neither the server nor `validate` reads them."""


class BatchFailed(Exception):
    """Writing stopped part way; what was written has been undone."""


def now() -> str:
    """The cataloging timestamp of a record made or changed now (RFC 3339, seconds, UTC)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Candidate:
    """One record an importer proposes."""

    source: str
    """Where it came from, as the report names it: 'inventory.csv:4', 'frus1944Quebec.xml:d25'."""
    record: dict
    owned: tuple[str, ...] = ()
    """Dotted paths the importer owns: replaced on --update (dropped when the import has none). The
    record's other fields are the cataloger's and are kept."""
    keep: Callable[[dict, dict], None] | None = None
    """Called with (existing, merged) after an update's merge, to keep what a cataloger added inside an
    owned field (another edition beside the imported one)."""


@dataclass
class Planned:
    candidate: Candidate
    record: dict
    target: Path | None
    action: str = "new"  # new, update, unchanged
    changed: list[str] = field(default_factory=list)
    old: bytes | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return serialize(self.record)


def serialize(record: dict) -> bytes:
    """A record file as catalogers write them: UTF-8, two-space indents, a final newline."""
    return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def plan(candidates: list[Candidate], records_dir: Path, update: bool) -> list[Planned]:
    """What would happen to each candidate, with every problem it has, in input order."""
    planned: list[Planned] = []
    claimed: dict[str, str] = {}
    for candidate in candidates:
        record_id = candidate.record.get("id")
        named = isinstance(record_id, str) and re.fullmatch(RECORD_ID_PATTERN, record_id)
        target = records_dir / f"{record_id}.json" if named else None
        item = Planned(candidate, copy.deepcopy(candidate.record), target)
        if target is not None and target.exists():
            _against_existing(item, update)
        if not item.errors:
            _check(item)
        if named and not item.errors:
            if record_id in claimed:
                item.errors.append(Problem(candidate.source, f"id: {record_id!r} is also the id of "
                                                             f"{claimed[record_id]}"))
            else:
                claimed[record_id] = candidate.source
        planned.append(item)
    return planned


def _check(item: Planned) -> None:
    """The checks of `catalog validate`, reported at the candidate's source instead of a file."""
    name = str(item.target) if item.target else "record.json"
    record, problems = check_bytes(item.data, name)
    source = item.candidate.source
    item.errors += [Problem(source, p.message) for p in problems]
    if record is not None:
        item.warnings += [Problem(source, p.message, "warning") for p in record_warnings(record, name)]


def _against_existing(item: Planned, update: bool) -> None:
    """A record with this id exists: unchanged, refused (no --update), or merged into it."""
    source, target = item.candidate.source, item.target
    try:
        item.old = target.read_bytes()
        existing = json.loads(item.old)
    except (OSError, ValueError) as error:
        existing, reason = None, getattr(error, "strerror", None) or str(error)
    else:
        reason = None if isinstance(existing, dict) else "not a JSON object"
    if reason:
        item.errors.append(Problem(source, f"id: {target} exists and cannot be read as a record ({reason}); "
                                           "fix or remove it first"))
        return
    try:
        merged = merge(existing, item.record, item.candidate.owned)
        if item.candidate.keep:
            item.candidate.keep(existing, merged)
    except (TypeError, AttributeError, IndexError, KeyError):
        item.errors.append(Problem(source, f"id: {target} is not a record the import can update (a field "
                                           "has a value of another kind); run `catalog validate` on it"))
        return
    item.changed = changed_fields(existing, merged, item.candidate.owned)
    if not item.changed:
        item.action, item.record = "unchanged", existing
        return
    merged.setdefault("cataloging", {})["modified"] = now()
    item.action, item.record = "update", merged
    if not update:
        item.errors.append(Problem(source, f"id: {item.record['id']!r} is already a record ({target}) and the "
                                           f"import would change {', '.join(item.changed)}; run with --update "
                                           "to replace those fields (the other fields are kept)"))


def merge(existing: dict, imported: dict, owned: tuple[str, ...]) -> dict:
    """The existing record with the importer's fields replaced; cataloging keeps its `created` date
    and gains the import's sources."""
    merged = copy.deepcopy(existing)
    for path in owned:
        if paths.present(imported, path):
            paths.put(merged, path, copy.deepcopy(paths.get(imported, path)))
        else:
            paths.remove(merged, path)
    cataloging = merged.setdefault("cataloging", {})
    for key in ("created", "modified"):
        cataloging.setdefault(key, imported.get("cataloging", {}).get(key))
    sources = list(cataloging.get("sources", []))
    sources += [s for s in imported.get("cataloging", {}).get("sources", []) if s not in sources]
    if sources:
        cataloging["sources"] = sources
    return merged


def changed_fields(existing: dict, merged: dict, owned: tuple[str, ...]) -> list[str]:
    """The owned fields (and cataloging sources) an update would change."""
    found = [path for path in owned if paths.get(existing, path) != paths.get(merged, path)]
    if paths.get(existing, "cataloging.sources") != paths.get(merged, "cataloging.sources"):
        found.append("cataloging.sources")
    return found


def commit(items: list[Planned]) -> None:
    """Write every item or none: all temporaries first, then each moved into place; on a failure the
    temporaries are removed and the files already moved are restored (or removed, if new)."""
    temps: list[Path] = []
    moved: list[Planned] = []
    try:
        for item in items:
            temp = item.target.with_name(f".{item.target.name}{TEMP_SUFFIX}")
            with open(temp, "wb") as handle:
                temps.append(temp)
                handle.write(item.data)
                handle.flush()
                os.fsync(handle.fileno())
        for item, temp in zip(items, temps, strict=True):
            os.replace(temp, item.target)
            moved.append(item)
    except OSError as error:
        for item in reversed(moved):
            _restore(item)
        for temp in temps:
            _remove(temp)
        where = error.filename or "the records folder"
        raise BatchFailed(f"cannot write {where} ({error.strerror or error}); nothing was written") from error
    _sync_folder(items[0].target.parent if items else None)


def _restore(item: Planned) -> None:
    if item.old is None:
        _remove(item.target)
        return
    temp = item.target.with_name(f".{item.target.name}{TEMP_SUFFIX}")
    temp.write_bytes(item.old)
    os.replace(temp, item.target)


def _remove(path: Path) -> None:
    try:
        if path.is_file():
            path.unlink()
    except OSError:
        pass


def _sync_folder(folder: Path | None) -> None:
    """The moves themselves survive a power cut once the folder is synced (where the OS allows it)."""
    if folder is None:
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def run(candidates: list[Candidate], records_dir: Path, *, write: bool = False, partial: bool = False,
        update: bool = False, unit: str = "records", skipped: list[str] | None = None,
        out: TextIO | None = None) -> int:
    """Check, report and (when asked) write a batch (`skipped`: what the source has that is not a
    record, listed so nothing is silently dropped). Exit status: 0 when every candidate is valid and
    everything asked was done, 1 when any candidate has errors or writing failed."""
    out = out or sys.stdout
    planned = plan(candidates, records_dir, update)
    bad = [p for p in planned if p.errors]
    good = [p for p in planned if not p.errors]
    errors = [e for p in planned for e in p.errors]
    warnings = [w for p in planned for w in p.warnings]
    print(f"{len(planned)} {unit} checked: {len(good)} valid, {len(bad)} with errors, "
          f"{len(warnings)} warnings", file=out)
    for problem in errors + warnings:
        print(f"{problem.severity}: {problem}", file=out)
    to_write = [p for p in good if p.action != "unchanged"]
    for item in planned:
        if not item.errors:
            changed = f": {', '.join(item.changed)}" if item.changed else ""
            print(f"{item.action}: {item.target} ({item.candidate.source}){changed}", file=out)
    if skipped:
        print(f"skipped: {', '.join(skipped)}", file=out)
    write = write or partial
    if write and not records_dir.is_dir():
        print(f"nothing written: the records folder {records_dir} does not exist", file=out)
        return 2
    if not write:
        print(f"dry run: nothing written; {_counts(to_write)} would be written"
              + (" (run with --write)" if to_write and not bad else "")
              + (f"; {len(bad)} with errors would be left out (--partial)" if bad else ""), file=out)
        return 1 if bad else 0
    if bad and not partial:
        print(f"nothing written: {len(bad)} of {len(planned)} {unit} have errors; fix them, or write the "
              f"{len(good)} valid ones with --partial", file=out)
        return 1
    if not to_write:
        print(f"nothing to write: the {len(good)} valid {unit} already match their records"
              + (f"; left out {len(bad)}: {', '.join(p.candidate.source for p in bad)}" if bad else ""), file=out)
        return 1 if bad else 0
    try:
        commit(to_write)
    except BatchFailed as failure:
        print(f"nothing written: {failure}", file=out)
        return 1
    print(f"wrote {_counts(to_write)} to {records_dir}"
          + (f"; left out {len(bad)}: {', '.join(p.candidate.source for p in bad)}" if bad else ""), file=out)
    return 1 if bad else 0


def _counts(items: list[Planned]) -> str:
    new = sum(1 for p in items if p.action == "new")
    return f"{len(items)} record{'' if len(items) == 1 else 's'} ({new} new, {len(items) - new} updated)"
