"""The OAI-PMH ledger: per record id, its content hash, datestamp, visibility and deletion.

The one state the server owns (everything else is derived from `records/`): it lives in its own
file (`ledger.sqlite3`), is never dropped with the derived tables, and is backed up with
`catalog ledger export` (JSON Lines) and restored with `catalog ledger import`. A datestamp moves exactly when a record's canonical content, its
visibility or its existence changes; `now` comes from the index's clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

from catalog.index.oai import SET_FACETS
from catalog.index.schema import LEDGER_COLUMNS

log = logging.getLogger("catalog.index")

MASS_DELETION_SHARE = 0.5
"""A full scan that finds more than this share of the catalog gone at once records no deletion: an
emptied mount or a half-restored folder is a fault, not an archivist's decision."""

DATESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PENDING = "9999-12-31T23:59:59Z"
"""The datestamp of a change inside a refresh transaction, replaced by the real one before COMMIT."""


def datestamp(moment: dt.datetime) -> str:
    """An OAI-PMH datestamp (UTC, seconds)."""
    return moment.astimezone(dt.UTC).strftime(DATESTAMP_FORMAT)


def record_seen(db: sqlite3.Connection, record_id: str, digest: str, public: int, now: str) -> None:
    """A valid version of `record_id` is in the folder: move the datestamp only if something changed."""
    old = db.execute("SELECT content_hash, public, deleted_at FROM ledger WHERE id = ?", (record_id,)).fetchone()
    if old is None:
        db.execute("INSERT INTO ledger(id, content_hash, datestamp, public, ever_public, deleted_at) "
                   "VALUES (?,?,?,?,?,NULL)", (record_id, digest, now, public, public))
    elif old["content_hash"] != digest or old["public"] != public or old["deleted_at"] is not None:
        db.execute("UPDATE ledger SET content_hash = ?, datestamp = ?, public = ?, "
                   "ever_public = MAX(ever_public, ?), deleted_at = NULL WHERE id = ?",
                   (digest, now, public, public, record_id))


def record_new(db: sqlite3.Connection, record_id: str, digest: str, public: int, now: str) -> None:
    """A record the ledger has never seen (a cold build knows this without asking)."""
    db.execute("INSERT INTO ledger(id, content_hash, datestamp, public, ever_public, deleted_at) "
               "VALUES (?,?,?,?,?,NULL)", (record_id, digest, now, public, public))


def record_deleted(db: sqlite3.Connection, record_id: str, now: str) -> None:
    db.execute("UPDATE ledger SET deleted_at = ?, datestamp = ?, public = 0 WHERE id = ?", (now, now, record_id))


def record_released(db: sqlite3.Connection, record_id: str, now: str) -> None:
    db.execute("UPDATE ledger SET public = 1, ever_public = 1, datestamp = ? WHERE id = ?", (now, record_id))


def all_entries(db: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    return {row["id"]: row for row in db.execute("SELECT * FROM ledger")}


def export_entries(db: sqlite3.Connection):
    """Every ledger entry as a dict, in (datestamp, id) order: the backup `catalog ledger export` writes."""
    for row in db.execute("SELECT * FROM ledger ORDER BY datestamp, id"):
        yield {column: row[column] for column in LEDGER_COLUMNS}


def import_entries(db: sqlite3.Connection, entries) -> int:
    """Restore entries (as `export_entries` gave them) in one transaction; ValueError names a bad line."""
    rows = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or set(entry) != set(LEDGER_COLUMNS):
            raise ValueError(f"entry {number}: expected the keys {', '.join(LEDGER_COLUMNS)}")
        for key in ("id", "content_hash", "datestamp"):
            if not isinstance(entry[key], str) or not entry[key]:
                raise ValueError(f"entry {number}: '{key}' must be a non-empty string")
        if entry["public"] not in (0, 1) or entry["ever_public"] not in (0, 1):
            raise ValueError(f"entry {number}: 'public' and 'ever_public' are 0 or 1")
        for key in ("datestamp", "deleted_at"):
            if entry[key] is not None:
                try:
                    dt.datetime.strptime(entry[key], DATESTAMP_FORMAT)
                except (TypeError, ValueError):
                    raise ValueError(f"entry {number}: '{key}' must be a datestamp like 2024-01-31T12:00:00Z") from None
        rows.append(tuple(entry[column] for column in LEDGER_COLUMNS))
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(f"INSERT OR REPLACE INTO ledger({', '.join(LEDGER_COLUMNS)}) VALUES (?,?,?,?,?,?)", rows)
        db.execute("UPDATE generation SET value = value + 1 WHERE id = 1")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(rows)


# -- set departures -----------------------------------------------------------------------

def set_memberships(db, rowid: int) -> set[tuple[str, str]]:
    """(facet, value) of the OAI-PMH sets an indexed record is in."""
    return {(facet, value) for facet, value in db.execute(
        "SELECT facet, value FROM facets WHERE record_rowid = ?", (rowid,)) if facet in SET_FACETS}


def record_set_moves(db, record_id: str, before: set, after: set, now: str, rejoin_check: bool) -> None:
    """Remember the sets a public record left (harvests of them list it as deleted) and forget the
    departures from sets it is in again."""
    for facet, value in before - after:
        db.execute("INSERT OR REPLACE INTO set_departures(id, facet, value, left_at) VALUES (?,?,?,?)",
                   (record_id, facet, value, now))
    if rejoin_check:
        for facet, value in after:
            db.execute("DELETE FROM set_departures WHERE id = ? AND facet = ? AND value = ?", (record_id, facet, value))


# -- the ledger in step with the index --------------------------------------------------------

def out_of_step(db) -> bool:
    """Whether the ledger and the index disagree (a crash between their commits, a lost index)."""
    return db.execute(
        "SELECT 1 FROM records r LEFT JOIN ledger l ON l.id = r.id WHERE l.id IS NULL "
        "OR l.content_hash != r.content_hash OR l.public != r.public OR l.deleted_at IS NOT NULL "
        "UNION ALL SELECT 1 FROM ledger l WHERE l.deleted_at IS NULL AND l.public = 1 "
        "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = l.id) LIMIT 1").fetchone() is not None

def reconcile(db, on_disk: dict, now: str, may_delete: bool, accept_deletions: bool) -> int:
    """Bring the ledger in step with the index after a full scan; returns deletions recorded.

    Indexed records the ledger does not know as they are get their entry (datestamp moved only
    if the content differs). Live ledger entries without an indexed record are deleted only
    when no file of that name is on disk (a bad file keeps its entry) and the scan was sound.
    """
    for row in db.execute("SELECT r.id, r.content_hash, r.public FROM records r LEFT JOIN ledger l "
                          "ON l.id = r.id WHERE l.id IS NULL OR l.content_hash != r.content_hash "
                          "OR l.public != r.public OR l.deleted_at IS NOT NULL").fetchall():
        record_seen(db, row["id"], row["content_hash"], row["public"], now)
    if not may_delete:
        return 0
    gone = [row[0] for row in db.execute(
        "SELECT l.id FROM ledger l WHERE l.deleted_at IS NULL AND l.public = 1 "
        "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = l.id)").fetchall()
        if f"{row[0]}.json" not in on_disk]
    live = db.execute("SELECT COUNT(*) FROM ledger WHERE deleted_at IS NULL AND public = 1").fetchone()[0]
    if len(gone) > 1 and len(gone) > MASS_DELETION_SHARE * live and not accept_deletions:
        log.error("%d of %d records known to the ledger have no file; no deletion recorded (a fault, "
                  "not an edit: run `catalog reindex --accept-deletions` if it is meant)", len(gone), live)
        return 0
    for record_id in gone:
        record_deleted(db, record_id, now)
    return len(gone)
