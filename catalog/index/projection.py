"""What a record contributes to the index: columns, facet rows and full-text columns, from its facts.

Pure functions (and picklable results) so a process pool can prepare files for a cold build. The
people, places, types and decade come from `catalog.facts`, so facets find a record under exactly
the names its pages, citations, IIIF metadata and OAI formats show.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from catalog import facts
from catalog.model import Record
from catalog.validation import Problem
from catalog.validation import check_bytes
from catalog.validation import record_warnings

FACETS = ("collection", "repository", "type", "classification", "decade", "year", "creator", "recipient", "place")


@dataclass
class PreparedFile:
    """One file read and checked, with everything the index needs; picklable for a process pool."""

    name: str
    stamp: tuple[int, int]
    problems: list[str]
    record_id: str = ""
    digest: str = ""
    source: bytes = b""
    """The file's bytes, zlib-compressed: the index holds every record, so this halves what a build writes."""
    columns: dict | None = None
    facets: list | None = None
    texts: tuple | None = None
    warnings: list[str] | None = None
    """What `catalog validate` warns about the record (it is served all the same)."""
    manifest: bytes | None = None
    """The public record's manifest as a template (`manifests.templates`), when asked for."""


def content_hash(record: Record) -> str:
    """Hash of the canonical content: reformatting a file does not change it."""
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def compress_source(data: bytes) -> bytes:
    """The fastest zlib level: it halves the index (and what a build writes) at the least CPU."""
    return zlib.compress(data, 1)


def decompress_source(stored: bytes) -> bytes:
    """The record file exactly as it was last valid."""
    return zlib.decompress(stored)


@functools.lru_cache(maxsize=64)
def _stored_texts(source: bytes) -> tuple[str, str, str, str, str]:
    return search_texts(Record.model_validate_json(zlib.decompress(source)))


def record_text_column(source: bytes, column: int) -> str:
    """SQL function behind `record_text_source`: one full-text column of a stored record."""
    return _stored_texts(source)[column]


def prepare_file(folder: str, name: str, stamp: tuple[int, int], today: str,
                 with_manifest: bool = False) -> PreparedFile:
    shown = f"records/{name}"
    try:
        data = (Path(folder) / name).read_bytes()
    except OSError as exc:
        return PreparedFile(name, stamp, [str(Problem(shown, f"cannot be read ({exc.strerror})"))])
    return prepare_bytes(name, stamp, data, today, with_manifest)


def prepare_bytes(name: str, stamp: tuple[int, int], data: bytes, today: str,
                  with_manifest: bool = False) -> PreparedFile:
    """What the index needs of one record file's bytes (or the problems that keep it out).
    `with_manifest`: also the public record's manifest template, built here in the parsing
    workers of a cold build rather than by the first request for it."""
    shown = f"records/{name}"
    record, problems = check_bytes(data, shown)
    if problems:
        return PreparedFile(name, stamp, [str(p) for p in problems])
    columns = index_columns(record)
    columns["public"] = int(record.is_public(dt.date.fromisoformat(today)))
    warnings = [str(w) for w in record_warnings(record, shown)]
    columns["warnings"] = json.dumps(warnings, ensure_ascii=False) if warnings else None
    manifest = None
    if with_manifest and columns["public"]:
        from manifests.templates import template  # the IIIF surface's builder; imported only when asked

        manifest = template(record)
    return PreparedFile(name, stamp, [], record.id, content_hash(record), compress_source(data), columns,
                        facet_values(record), search_texts(record), manifest=manifest)


def index_columns(record: Record) -> dict[str, object]:
    date = record.date
    return {
        "title": record.title,
        "document_type": record.document_type,
        "date": date.date.isoformat(),
        "date_as_printed": date.as_printed,
        "year": date.date.year,
        "creators": json.dumps(facts.creator_names(record), ensure_ascii=False),
        "recipients": json.dumps(facts.recipient_names(record), ensure_ascii=False),
        "collection": record.provenance.collection.name,
        "collection_slug": facts.collection_slug(record),
        "repository": record.provenance.repository.name,
        "classification": record.provenance.classification.level,
        "file_number": record.provenance.file_number,
        "summary": record.description.summary,
        "page_count": len(record.all_pages()),
        "access": record.access.status,
        "release_date": record.access.release_date.isoformat() if record.access.release_date else None,
    }


def facet_values(record: Record) -> list[tuple[str, str]]:
    """(facet, value) pairs: what the record is counted under in browse and OAI-PMH sets."""
    pairs = [
        ("collection", record.provenance.collection.name),
        ("repository", record.provenance.repository.name),
        ("classification", record.provenance.classification.level),
        ("decade", facts.decade(record)),
        ("year", str(record.date.date.year)),
    ]
    pairs += [("type", kind) for kind in facts.document_types(record)]
    pairs += [(person.facet, person.name) for person in [*facts.creators(record), *facts.recipients(record)]]
    pairs += [("place", name) for name in facts.place_names(record)]
    return list(dict.fromkeys(pairs))


def search_texts(record: Record) -> tuple[str, str, str, str, str]:
    """The five full-text columns: title, people, provenance, body, notes.

    The index recomputes these from stored records to forget a changed one, so a change here
    must bump INDEX_VERSION (a rebuild), or old rows could not be removed from the index."""
    agents = [*record.creators, *record.recipients]  # every heading as printed, parts' included
    for part in record.parts or []:
        agents += [*part.creators, *part.recipients]
    people = [f"{a.name} {a.office or ''} {a.as_printed or ''}" for a in agents]
    people += [f"{p.name} {p.as_printed or ''}" for p in record.persons_mentioned]
    prov = record.provenance
    provenance = [prov.repository.name, prov.repository.division or "", prov.collection.name,
                  prov.collection.series or "", prov.collection.file or "", *facts.file_numbers(record),
                  *prov.classification.as_marked, *(m.text for m in prov.markings),
                  *(f"{a.routed_as or ''} {a.initials or ''}" for a in [*record.creators, *record.recipients]),
                  *(d.authority for d in facts.declassifications(record) if d.authority),
                  *(f"{e.title} {e.document_number or ''}" for e in prov.editions)]
    body = "\n\n".join(page.text for _part, page in record.all_pages())
    notes = [record.description.summary or "", *record.description.subjects,
             *(n.text for n in record.description.notes), *(f.text for f in record.footnotes),
             *(c.reading for c in record.corrections), *(a.text for a in record.annotations),
             *(r.as_printed or "" for r in record.relations), record.dateline or "", record.signature or ""]
    return (record.title, "\n".join(people), "\n".join(p for p in provenance if p), body,
            "\n".join(n for n in notes if n))
