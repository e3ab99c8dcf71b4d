"""The OAI-PMH ledger in PostgreSQL: the embedded ledger's rules (`catalog.index.ledger`), in its SQL.

A datestamp moves exactly when a record's canonical content, its visibility or its existence
changes; set departures are remembered so a set's harvester learns a record left it. Every
function runs inside the caller's refresh transaction.
"""

from __future__ import annotations

import logging

from catalog.index.ledger import MASS_DELETION_SHARE
from catalog.index.oai import SET_FACETS

log = logging.getLogger("catalog.index")


def record_seen(conn, record_id: str, digest: str, public: int, now: str) -> None:
    """A valid version of `record_id` is in the folder: move the datestamp only if something changed."""
    conn.execute(
        "INSERT INTO ledger(id, content_hash, datestamp, public, ever_public, deleted_at) "
        "VALUES (%s, %s, %s, %s, %s, NULL) ON CONFLICT (id) DO UPDATE SET content_hash = EXCLUDED.content_hash, "
        "datestamp = EXCLUDED.datestamp, public = EXCLUDED.public, "
        "ever_public = GREATEST(ledger.ever_public, EXCLUDED.ever_public), deleted_at = NULL "
        "WHERE ledger.content_hash <> EXCLUDED.content_hash OR ledger.public <> EXCLUDED.public "
        "OR ledger.deleted_at IS NOT NULL", (record_id, digest, now, public, public))


def record_deleted(conn, record_id: str, now: str) -> None:
    conn.execute("UPDATE ledger SET deleted_at = %s, datestamp = %s, public = 0 WHERE id = %s", (now, now, record_id))


def record_released(conn, record_id: str, now: str) -> None:
    conn.execute("UPDATE ledger SET public = 1, ever_public = 1, datestamp = %s WHERE id = %s", (now, record_id))


def set_memberships(conn, rowid: int) -> set[tuple[str, str]]:
    """(facet, value) of the OAI-PMH sets an indexed record is in."""
    return {(row["facet"], row["value"]) for row in conn.execute(
        "SELECT facet, value FROM facets WHERE record_rowid = %s", (rowid,)) if row["facet"] in SET_FACETS}


def record_set_moves(conn, record_id: str, before: set, after: set, now: str) -> None:
    """Remember the sets a public record left and forget the departures from sets it is in again."""
    for facet, value in before - after:
        conn.execute("INSERT INTO set_departures(id, facet, value, left_at) VALUES (%s, %s, %s, %s) "
                     "ON CONFLICT (id, facet, value) DO UPDATE SET left_at = EXCLUDED.left_at",
                     (record_id, facet, value, now))
    for facet, value in after:
        conn.execute("DELETE FROM set_departures WHERE id = %s AND facet = %s AND value = %s",
                     (record_id, facet, value))


OUT_OF_STEP = ("SELECT r.id, r.content_hash, r.public FROM records r LEFT JOIN ledger l ON l.id = r.id "
               "WHERE l.id IS NULL OR l.content_hash <> r.content_hash OR l.public <> r.public "
               "OR l.deleted_at IS NOT NULL")
ORPHANED = ("SELECT l.id FROM ledger l WHERE l.deleted_at IS NULL AND l.public = 1 "
            "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = l.id)")


def out_of_step(conn) -> bool:
    """Whether the ledger and the index disagree (a lost index, an index made anew)."""
    return conn.execute(f"SELECT EXISTS ({OUT_OF_STEP}) OR EXISTS ({ORPHANED}) AS differ").fetchone()["differ"]


def reconcile(conn, on_disk: dict, now: str, may_delete: bool, accept_deletions: bool) -> int:
    """Bring the ledger in step with the index after a full scan; returns deletions recorded (see
    `catalog.index.ledger.reconcile`: a bad file keeps its entry, a mass deletion is a fault)."""
    for row in conn.execute(OUT_OF_STEP).fetchall():
        record_seen(conn, row["id"], row["content_hash"], row["public"], now)
    if not may_delete:
        return 0
    gone = [row["id"] for row in conn.execute(ORPHANED).fetchall() if f"{row['id']}.json" not in on_disk]
    live = conn.execute("SELECT COUNT(*) AS n FROM ledger WHERE deleted_at IS NULL AND public = 1").fetchone()["n"]
    if len(gone) > 1 and len(gone) > MASS_DELETION_SHARE * live and not accept_deletions:
        log.error("%d of %d records known to the ledger have no file; no deletion recorded (a fault, "
                  "not an edit: run `catalog reindex --accept-deletions` if it is meant)", len(gone), live)
        return 0
    for record_id in gone:
        record_deleted(conn, record_id, now)
    return len(gone)
