"""Deterministic synthetic records for tests and the benchmark.

`synthetic_record(n)` is a pure function of `n` (and the seed): the same number always gives the
same record, so tests and benchmark runs are repeatable. Records vary in size (1 to 40 pages),
date (1940-1950), collection, file number, markings, footnotes and compound parts; about 3% are
restricted. Every generated record validates against the model.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from pathlib import Path

COLLECTIONS = [
    ("Department of State Central Decimal File", "National Archives and Records Administration", None),
    ("Moscow Embassy Files", "National Archives and Records Administration", "710 Sino-Soviet Relations"),
    ("Roosevelt Papers", "Franklin D. Roosevelt Presidential Library", None),
    ("Truman Papers", "Harry S. Truman Library", None),
    ("W. A. Harriman Papers", "Library of Congress", None),
] + [(f"Foreign Service Post Files, Legation {i}", "National Archives and Records Administration", f"{700 + i} Political Affairs") for i in range(25)]
PEOPLE = [
    ("Harriman, W. Averell", "Ambassador in the Soviet Union"), ("Hull, Cordell", "Secretary of State"),
    ("Truman, Harry S.", "President"), ("Roosevelt, Franklin D.", "President"),
    ("Byrnes, James F.", "Secretary of State"), ("Smith, Walter Bedell", "Ambassador in the Soviet Union"),
    ("Kennan, George F.", "Chargé in the Soviet Union"), ("Stettinius, Edward R.", "Secretary of State"),
    ("Acheson, Dean", "Under Secretary of State"), ("Bohlen, Charles E.", "Assistant to the Secretary"),
    ("Hurley, Patrick J.", "Ambassador in China"), ("Winant, John G.", "Ambassador in the United Kingdom"),
]
PLACES = ["Moscow", "Washington", "London", "Chungking", "Paris", "Cairo", "Tehran", "Berlin", "Tokyo", "Rome"]
TYPES = ["telegram", "cable", "memorandum", "memorandum of conversation", "letter", "dispatch", "report"]
LEVELS = ["top secret", "secret", "confidential", "restricted", "unclassified"]
WORDS = ["conference", "agreement", "government", "soviet", "united", "states", "president", "ambassador", "marshal", "reply", "message", "political", "military", "question", "relations", "security", "treaty", "council", "delegation", "proposal", "discussion", "position", "consultation", "understanding", "negotiation", "withdrawal", "troops", "oil", "concession", "charter", "nations", "peace", "cooperation", "leadership", "difficulty", "frontier"]
RARE = ["zanzibar", "quagmire", "xylograph", "juxtaposition", "obfuscate"]


def _text(rng: random.Random, words: int) -> str:
    out = [rng.choice(WORDS) for _ in range(words)]
    if rng.random() < 0.01:
        out[rng.randrange(len(out))] = rng.choice(RARE)
    sentences = [" ".join(out[i:i + 18]).capitalize() + "." for i in range(0, len(out), 18)]
    return " ".join(sentences)


def _agent(rng: random.Random, role: str) -> dict:
    name, office = rng.choice(PEOPLE)
    family = name.split(",")[0]
    return {"name": name, "role": role, "office": office, "as_printed": f"The {office} ({family})"}


def _pages(rng: random.Random, count: int, first: int) -> list[dict]:
    return [{"label": str(first + i), "text": _text(rng, rng.randint(60, 400))} for i in range(count)]


def synthetic_record(n: int, seed: int = 1943) -> dict:
    """Record number `n`: always the same dict for the same (n, seed)."""
    rng = random.Random(seed * 1_000_003 + n)
    record_id = f"syn-{n:06d}"
    date = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(11 * 365))
    collection, repository, file = rng.choice(COLLECTIONS)
    level = rng.choice(LEVELS)
    doc_type = rng.choice(TYPES)
    page_total = min(40, max(1, int(rng.expovariate(1 / 4))))
    first_page = rng.randint(1, 900)
    provenance: dict = {
        "repository": {"name": repository},
        "collection": {"name": collection, **({"file": file} if file else {})},
        "classification": {"level": level, "as_marked": [level.upper()]},
        "markings": [{"kind": "precedence", "text": rng.choice(["urgent", "priority", "PRIORITY"])}]
        if rng.random() < 0.4 else [],
    }
    if collection.startswith("Department of State"):
        provenance["file_number"] = f"{rng.choice(['740.0011', '761.93', '711.61', '861.001'])} " \
                                    f"{rng.choice(['Moscow', 'European War', 'EW'])}/{date.month}–{date.day:02d}{date.year % 100:02d}"
    if level != "unclassified":
        provenance["declassification"] = [{"authority": "E.O. 11652, Sec. 3(E) and 5(D) or (E)",
                                           "agency_letter": "Department of State letter, Aug. 9, 1973"}]
    record: dict = {
        "id": record_id,
        "title": f"The {rng.choice(PEOPLE)[1]} to the {rng.choice(PEOPLE)[1]} ({n})",
        "document_type": doc_type,
        "language": "en",
        "dates": [{"type": "sent", "date": date.isoformat(), "as_printed": date.strftime("%B %-d, %Y")}],
        "creators": [_agent(rng, "sender")],
        "recipients": [_agent(rng, "recipient")],
        "places": [{"name": rng.choice(PLACES), "role": "sent from"}],
        "provenance": provenance,
        "description": {"summary": _text(rng, 30), "subjects": [rng.choice(WORDS).capitalize()]},
        "rights": {"statement": "US government work in the public domain.",
                   "uri": "http://creativecommons.org/publicdomain/mark/1.0/"},
        "access": {"status": "open"},
        "cataloging": {"created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z"},
    }
    if rng.random() < 0.3:
        record["footnotes"] = [{"number": str(i + 1), "text": _text(rng, 20),
                                "referenced_at": {"page": str(first_page)}} for i in range(rng.randint(1, 4))]
    if rng.random() < 0.03:
        record["access"] = {"status": "restricted", "reason": "Screening for personal privacy information."}
    if rng.random() < 0.05 and page_total >= 2:
        split = max(1, page_total // 2)
        record["parts"] = [
            {"title": "Covering telegram", "document_type": "telegram", "pages": _pages(rng, split, first_page)},
            {"title": "Enclosure", "document_type": "memorandum",
             "pages": _pages(rng, page_total - split, first_page + split)},
        ]
    else:
        record["pages"] = _pages(rng, page_total, first_page)
    return record


def write_records(folder: Path, count: int, seed: int = 1943, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        record = synthetic_record(n, seed)
        path = folder / f"{record['id']}.json"
        path.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1943)
    args = parser.parse_args()
    write_records(args.folder, args.count, args.seed)


if __name__ == "__main__":
    main()
