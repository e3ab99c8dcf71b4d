"""The OAI-PMH ledger: per record id, its content hash, datestamp, visibility and deletion.

The one state the server owns (everything else is derived from `records/`), so it is kept when the
derived tables are rebuilt. A datestamp moves exactly when a record's canonical content, its
visibility or its existence changes; `now` comes from the index's clock.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

DATESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


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
