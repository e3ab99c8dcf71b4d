"""How well `catalog draft` reads the seed transcriptions: precision and recall per field against the
finished records.

    python -m bench.draft_accuracy                       # ../shared/seeds against records/
    python -m bench.draft_accuracy --records tests/fixtures/records --per-seed

Each field is compared as a multiset of items (a date is its type and ISO date, a footnote anchor its
number, page, text and occurrence...), over the item and its parts. Precision = matched / drafted,
recall = matched / in the records; a dash where there is nothing to divide. The record of a seed is
the one whose `cataloging.sources` names the seed file.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path

from catalog.importing.draft import draft_record

PROJECT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CATALOG_SHARED", PROJECT.parent / "shared"))


def _units(record: dict) -> list[tuple[int, dict]]:
    """(part number, part) for each part, and (0, record) for the item itself."""
    return [(0, record), *enumerate(record.get("parts") or [], 1)]


def _provenance(record: dict) -> dict:
    return record.get("provenance", {})


def _each(record: dict, key: str):
    for number, unit in _units(record):
        for item in unit.get(key) or []:
            yield number, item


def _declassifications(record: dict):
    yield from ((0, d) for d in _provenance(record).get("declassification", []))
    yield from ((n, d) for n, d in _each(record, "declassification") if n)


def _classifications(record: dict):
    found = [(0, _provenance(record).get("classification"))]
    found += [(n, part.get("classification")) for n, part in _units(record) if n]
    return [(n, c) for n, c in found if c]


def _markings(record: dict):
    yield from ((0, m) for m in _provenance(record).get("markings", []))
    yield from ((n, m) for n, m in _each(record, "markings") if n)


def _pages(record: dict):
    for number, unit in _units(record):
        for page in unit.get("pages") or []:
            yield number, page


FIELDS = {
    "id": lambda r: [r["id"]],
    "title": lambda r: [r["title"]],
    "document type": lambda r: [(n, u["document_type"]) for n, u in _units(r)],
    "file number": lambda r: [n for n in [_provenance(r).get("file_number"),
                                         *_provenance(r).get("other_file_numbers", [])] if n],
    "repository": lambda r: [_provenance(r).get("repository", {}).get("name")],
    "collection": lambda r: [(c.get("name"), c.get("series"), c.get("file"))
                             for c in [_provenance(r).get("collection", {})]],
    "dates (type, date)": lambda r: [(n, d["type"], d["date"]) for n, d in _each(r, "dates")],
    "dates as printed": lambda r: [(n, d["as_printed"]) for n, d in _each(r, "dates") if d.get("as_printed")],
    "places (not 'mentioned')": lambda r: [(n, p["name"], p["role"]) for n, p in _each(r, "places")
                                           if p["role"] != "mentioned"],
    "sender/recipient headings (as printed)": lambda r: [
        (n, side, a.get("as_printed")) for side in ("creators", "recipients") for n, a in _each(r, side)],
    "agents' offices": lambda r: [(n, side, a["office"]) for side in ("creators", "recipients")
                                  for n, a in _each(r, side) if a.get("office")],
    "agents' names": lambda r: [(n, side, a["name"]) for side in ("creators", "recipients")
                                for n, a in _each(r, side)],
    "classification level": lambda r: [(n, c["level"]) for n, c in _classifications(r)],
    "classification as marked": lambda r: [(n, m) for n, c in _classifications(r) for m in c.get("as_marked", [])],
    "markings (kind, text)": lambda r: [(n, m["kind"], m["text"]) for n, m in _markings(r)],
    "declassification stamps (as printed)": lambda r: [(n, d.get("as_printed")) for n, d in _declassifications(r)],
    "declassification authority": lambda r: [(n, d["authority"]) for n, d in _declassifications(r)
                                             if d.get("authority")],
    "declassification agency letter": lambda r: [(n, d["agency_letter"]) for n, d in _declassifications(r)
                                                 if d.get("agency_letter")],
    "declassification by": lambda r: [(n, d["by"]) for n, d in _declassifications(r) if d.get("by")],
    "declassification date (as printed)": lambda r: [(n, d["date_as_printed"]) for n, d in _declassifications(r)
                                                     if d.get("date_as_printed")],
    "page labels": lambda r: [(n, p["label"]) for n, p in _pages(r)],
    "page texts (exact)": lambda r: [(n, p["label"], p["text"]) for n, p in _pages(r)],
    "footnote numbers": lambda r: [f["number"] for f in r.get("footnotes", [])],
    "footnote anchors (page, after, occurrence)": lambda r: [
        (f["number"], f.get("referenced_at", {}).get("page"), f.get("referenced_at", {}).get("after"),
         f.get("referenced_at", {}).get("occurrence")) for f in r.get("footnotes", [])],
    "signature": lambda r: [(n, u["signature"]) for n, u in _units(r) if u.get("signature")],
}


def _hashable(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def compare(drafted: dict, truth: dict) -> dict[str, tuple[int, int, int]]:
    """Per field: (drafted, in the record, matched)."""
    out = {}
    for name, items in FIELDS.items():
        mine, theirs = Counter(map(_hashable, items(drafted))), Counter(map(_hashable, items(truth)))
        out[name] = (sum(mine.values()), sum(theirs.values()), sum((mine & theirs).values()))
    return out


def records_by_seed(records: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(records.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for source in record.get("cataloging", {}).get("sources", []):
            found[Path(source).name] = record
    return found


def measure(seeds: Path, records: Path) -> tuple[dict, dict[str, dict]]:
    """Totals per field over every seed that has a record, and each seed's own figures."""
    truth = records_by_seed(records)
    totals: dict[str, list[int]] = {name: [0, 0, 0] for name in FIELDS}
    per_seed = {}
    for seed in sorted(seeds.glob("*.txt")):
        if seed.name not in truth:
            continue
        figures = compare(draft_record(seed.read_text(encoding="utf-8"), seed.name), truth[seed.name])
        per_seed[seed.name] = figures
        for name, counts in figures.items():
            totals[name] = [a + b for a, b in zip(totals[name], counts, strict=True)]
    return {name: tuple(counts) for name, counts in totals.items()}, per_seed


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "–"


def table(totals: dict) -> str:
    lines = ["| field | drafted | in records | matched | precision | recall |", "|---|---:|---:|---:|---:|---:|"]
    for name, (drafted, truth, matched) in totals.items():
        lines.append(f"| {name} | {drafted} | {truth} | {matched} | {_ratio(matched, drafted)} | "
                     f"{_ratio(matched, truth)} |")
    drafted, truth, matched = (sum(c[i] for c in totals.values()) for i in range(3))
    lines.append(f"| **all fields** | {drafted} | {truth} | {matched} | {_ratio(matched, drafted)} | "
                 f"{_ratio(matched, truth)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, default=SHARED / "seeds")
    parser.add_argument("--records", type=Path, default=PROJECT / "records")
    parser.add_argument("--per-seed", action="store_true", help="also print each seed's table")
    args = parser.parse_args(argv)
    if not args.seeds.is_dir():
        parser.error(f"{args.seeds} is absent (set CATALOG_SHARED or pass --seeds)")
    totals, per_seed = measure(args.seeds, args.records)
    print(f"catalog draft on {len(per_seed)} seeds in {args.seeds}, against {args.records}\n")
    print(table(totals))
    if args.per_seed:
        for name, figures in per_seed.items():
            print(f"\n### {name}\n\n{table(figures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
