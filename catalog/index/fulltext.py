"""The full-text mirror: a tantivy index of the records' search texts, beside the SQLite index.

Why a second index: FTS5 ranks and counts a search by walking every match in Python-visible SQL,
so a word found in most of a 100,000-record catalog costs hundreds of milliseconds; tantivy (the
Rust engine, an embedded library like SQLite) keeps top-k, counts and facet counts in one compiled
pass (docs/benchmarks/README.md has the figures). SQLite stays the source of truth: the mirror is
derived, and a search uses it only when it mirrors exactly the records the SQLite index holds.

How the two agree: the index's `text_version` row (an identity made with the derived tables, and a
counter that triggers move on every insert into or delete from `records`) is written into the
mirror's marker document with each mirror commit, after the SQLite commit. A reader compares the
two; when they differ (a refresh in flight, a crash between the commits, a mirror lost or corrupt),
searches run on FTS5 as before, and the next refresh rebuilds the mirror from the index. A stale
mirror is never read, so a fault costs speed, never results.

Documents are keyed by the records' rowid (a changed record gets a new row), hold the five text
columns, the facet values and the sort keys; what is public is not in the mirror but read from
SQLite at query time, so a release date passing needs no mirror write.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

try:
    import tantivy
except ImportError:  # pragma: no cover - tantivy is a core dependency; FTS5 serves without it
    tantivy = None

log = logging.getLogger("catalog.fulltext")

FOLDER = "fulltext-v1"
"""The mirror's folder in the instance folder; a new layout takes a new name (the old is removed)."""
TEXT_FIELDS = ("title", "people", "provenance", "body", "notes")
"""The full-text fields, named and ordered as the FTS5 table's columns."""
FACET_SEPARATOR = "\x1f"
"""Between a facet's name and its value in the `facet` field, and between the parts of a sort key."""
MARKER_ROWID = 0
"""The marker document's rowid (SQLite rowids start at 1)."""
WRITER_HEAP = 64_000_000
BULK_WRITER_HEAP = 256_000_000


def available() -> bool:
    return tantivy is not None


def analyzer():
    """Words as FTS5's `unicode61 remove_diacritics 2` sees them: split at non-alphanumerics,
    lower-cased, diacritics folded (tantivy folds a few more letters, e.g. ß to ss, in both the
    index and the query, so matching stays symmetric)."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build())


def schema():
    builder = tantivy.SchemaBuilder()
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=False, tokenizer_name="fold", index_option="position")
    builder.add_text_field("facet", stored=False, tokenizer_name="raw", fast=True)
    builder.add_text_field("date_key", stored=False, tokenizer_name="raw", fast=True)
    builder.add_text_field("title_key", stored=False, tokenizer_name="raw", fast=True)
    builder.add_unsigned_field("rowid", stored=False, indexed=True, fast=True)
    builder.add_unsigned_field("day", stored=False, indexed=True, fast=True)
    builder.add_text_field("marker", stored=True, tokenizer_name="raw")
    return builder.build()


def day_number(iso_date: str) -> int | None:
    """`1944-10-15` as 19441015 (the order of ISO dates), None for anything else."""
    if len(iso_date) == 10 and iso_date[4] == "-" and iso_date[7] == "-":
        digits = iso_date[:4] + iso_date[5:7] + iso_date[8:]
        if digits.isdigit():
            return int(digits)
    return None


@dataclass(frozen=True)
class Row:
    """What the mirror holds of one record row."""

    rowid: int
    record_id: str
    title: str
    date: str
    texts: tuple[str, ...]
    facets: list[tuple[str, str]]

    def document(self):
        doc = tantivy.Document(**dict(zip(TEXT_FIELDS, self.texts, strict=True)))
        for facet, value in self.facets:
            doc.add_text("facet", facet + FACET_SEPARATOR + value)
        doc.add_text("date_key", self.date + FACET_SEPARATOR + self.record_id)
        doc.add_text("title_key", self.title + FACET_SEPARATOR + self.record_id)
        doc.add_unsigned("rowid", self.rowid)
        day = day_number(self.date)
        if day is not None:
            doc.add_unsigned("day", day)
        return doc


class Mirror:
    """The mirror of one index: its searcher for readers, write sessions for the refresher."""

    def __init__(self, instance_dir: Path, enabled: bool = True):
        self.enabled = enabled and available()
        self.path = Path(instance_dir) / FOLDER
        self._lock = threading.Lock()
        self._index = None
        self._marker: str | None = None
        self.schema = schema() if self.enabled else None

    # -- opening -----------------------------------------------------------------------------
    def _open(self):
        if self._index is None:
            self.path.mkdir(parents=True, exist_ok=True)
            index = tantivy.Index(self.schema, path=str(self.path))
            index.register_tokenizer("fold", analyzer())
            index.config_reader(reload_policy="Manual")
            self._index = index
            self._marker = None
        return self._index

    def _read_marker(self) -> str | None:
        searcher = self._index.searcher()
        found = searcher.search(tantivy.Query.term_query(self.schema, "rowid", MARKER_ROWID), 1, count=False).hits
        if not found:
            return None
        values = searcher.doc(found[0][1]).get_all("marker")
        return values[0] if values else None

    def searcher(self, expected: str):
        """A searcher over the mirror when it mirrors exactly `expected` (the index's text version),
        else None (the caller searches with FTS5). Reloads when the index moved on."""
        if not self.enabled or not expected:
            return None
        with self._lock:
            try:
                index = self._open()
                if self._marker != expected:
                    index.reload()
                    self._marker = self._read_marker()
                return index.searcher() if self._marker == expected else None
            except (ValueError, OSError) as error:  # a mirror that cannot be read: FTS5 serves, the refresher rebuilds
                log.warning("the full-text mirror %s cannot be read (%s); searching with FTS5", self.path, error)
                self._index = None
                return None

    def marker(self) -> str | None:
        """What the mirror's last commit mirrors (None: nothing, or unreadable)."""
        if not self.enabled:
            return None
        with self._lock:
            try:
                self._open().reload()
                self._marker = self._read_marker()
            except (ValueError, OSError):
                self._index = None
                return None
            return self._marker

    # -- writing -----------------------------------------------------------------------------
    def writer(self, bulk: bool = False) -> Writer:
        return Writer(self, bulk)

    def discard(self) -> None:
        """Throw the mirror away (unreadable, or a new index): the next writer starts empty."""
        with self._lock:
            self._index = None
            self._marker = None
            shutil.rmtree(self.path, ignore_errors=True)


class Writer:
    """One refresh's changes to the mirror, committed after the SQLite commit (or rolled back).

    Opened lazily: a refresh that changes no record never takes tantivy's writer lock."""

    def __init__(self, mirror: Mirror, bulk: bool):
        self.mirror = mirror
        self.bulk = bulk
        self._writer = None

    def _open(self):
        if self._writer is None:
            index = self.mirror._open()
            self._writer = index.writer(heap_size=BULK_WRITER_HEAP if self.bulk else WRITER_HEAP,
                                        num_threads=2 if self.bulk else 1)
            if self.bulk:
                self._writer.delete_all_documents()
        return self._writer

    @property
    def touched(self) -> bool:
        return self._writer is not None

    def add(self, row: Row) -> None:
        self._open().add_document(row.document())

    def delete(self, rowid: int) -> None:
        # by query, not by term: the query takes the field's type from the schema (a bare int is an i64 term)
        self._open().delete_documents_by_query(tantivy.Query.term_query(self.mirror.schema, "rowid", rowid))

    def commit(self, marker: str) -> None:
        """Make the changes visible, stamped as mirroring `marker`."""
        writer = self._open()
        self.delete(MARKER_ROWID)
        doc = tantivy.Document(marker=marker)
        doc.add_unsigned("rowid", MARKER_ROWID)
        writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()  # small segments merged now, not left to pile up edit after edit
        self._writer = None

    def rollback(self) -> None:
        if self._writer is not None:
            try:
                self._writer.rollback()
            except ValueError:
                pass
            self._writer = None


# -- keeping the mirror in step with the SQLite index (called by the refresher, under its lock) ----

def text_marker(db) -> str:
    """What the SQLite index holds now, as the mirror's marker names it."""
    row = db.execute("SELECT identity || ':' || counter FROM text_version").fetchone()
    return row[0] if row else ""


def behind(mirror: Mirror, db) -> bool:
    """Whether the mirror does not mirror the index (then searches use FTS5 until it is rebuilt)."""
    return mirror.enabled and mirror.marker() != text_marker(db)


def follow(mirror: Mirror, db, writer: Writer | None) -> None:
    """After a refresh's SQLite commit: commit the mirror's share of it, or rebuild a mirror left
    behind. A mirror that cannot be written is logged and left behind; the index is never affected."""
    if not mirror.enabled:
        return
    marker = text_marker(db)
    if writer is not None:
        if not writer.touched and not writer.bulk and mirror.marker() == marker:
            return
        try:
            writer.commit(marker)
            return
        except (ValueError, OSError, RuntimeError) as error:
            writer.rollback()
            log.warning("the full-text mirror could not take this refresh (%s); rebuilding it", error)
    if mirror.marker() != marker:
        rebuild(mirror, db)


def rebuild(mirror: Mirror, db) -> None:
    """Fill the mirror anew from the index (after a crash between the two commits, or a lost or
    corrupt mirror). Record texts come from the stored sources, as FTS5's deletes read them."""
    from catalog.index.projection import decompress_source
    from catalog.index.projection import search_texts
    from catalog.model import Record

    log.warning("the full-text mirror does not mirror the index; rebuilding it (searches use FTS5 meanwhile)")
    for attempt in (1, 2):
        marker = text_marker(db)
        writer = mirror.writer(bulk=True)
        try:
            facets: dict[int, list[tuple[str, str]]] = {}
            for rowid, facet, value in db.execute("SELECT record_rowid, facet, value FROM facets"):
                facets.setdefault(rowid, []).append((facet, value))
            for rowid, record_id, title, date, source in db.execute(
                    "SELECT rowid, id, title, date, source FROM records"):
                texts = search_texts(Record.model_validate_json(decompress_source(source)))
                writer.add(Row(rowid, record_id, title, date, texts, facets.get(rowid, [])))
            writer.commit(marker)
            log.warning("the full-text mirror is rebuilt")
            return
        except (ValueError, OSError, RuntimeError) as error:
            writer.rollback()
            if attempt == 2:
                log.error("the full-text mirror cannot be rebuilt (%s); searches use FTS5", error)
                return
            log.warning("the full-text mirror cannot be written (%s); starting it afresh", error)
            mirror.discard()
