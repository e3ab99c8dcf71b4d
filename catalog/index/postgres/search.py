"""Browse and search over PostgreSQL: filtered record sets, result pages, facet counts, snippets.

The filters become one WHERE clause over `public_records` (`textsearch.match_sql` for the words);
relevance is `ts_rank` with the embedded index's column weights. Snippets are `ts_headline` over
the same bounded texts the embedded index snippets (`catalog.index.search.snippet_texts`), from the
transcription, else the notes, else the best-weighted column that matches. A search runs under a
statement timeout at its deadline and raises `SearchTimeout` past it, as the embedded one does.
"""

from __future__ import annotations

import json
import time

import psycopg

from catalog.index import search as neutral
from catalog.index.postgres import textsearch
from catalog.index.postgres.schema import TEXT_COLUMNS
from catalog.index.postgres.schema import TEXT_CONFIG
from catalog.index.projection import _stored_texts
from catalog.index.search import ELLIPSIS
from catalog.index.search import MARK_END
from catalog.index.search import MARK_START
from catalog.index.search import SNIPPET_TOKENS
from catalog.index.search import Filters
from catalog.index.search import Result
from catalog.index.search import SearchTerms
from catalog.index.search import SearchTimeout
from catalog.index.search import clipped
from catalog.index.search import plain_start
from catalog.index.search import snippet_texts

ORDER_BY = {"date": "r.date, r.id", "date-desc": "r.date DESC, r.id DESC", "title": "r.title, r.id"}
RESULT_COLUMNS = ("r.rowid, r.id, r.title, r.date, r.date_as_printed, r.document_type, r.creators, r.recipients, "
                  "r.collection, r.collection_slug, r.repository, r.classification, r.file_number, r.summary, r.source")
SNIPPET_ORDER = (3, 4, 0, 1, 2)
"""Transcription, notes, then title, people, provenance (by weight): the first with a match gives the snippet."""
HEADLINE_OPTIONS = (f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords={SNIPPET_TOKENS}, MinWords=12, '
                    f'ShortWord=0, MaxFragments=1, FragmentDelimiter=" {ELLIPSIS} "')


def where(filters: Filters) -> tuple[str, list]:
    """A condition on `r` (a public record) for the filters, and its parameters."""
    conditions, args = ["TRUE"], []
    if filters.match:
        sql, more = textsearch.match_sql(filters.query, "r")
        conditions.append(sql)
        args += more
    for facet, value in filters.selected:
        conditions.append("EXISTS (SELECT 1 FROM facets f WHERE f.record_rowid = r.rowid AND f.facet = %s "
                          "AND f.value = %s)")
        args += [facet, value]
    if filters.date_from:
        conditions.append("r.date >= %s")
        args.append(filters.date_from)
    if filters.date_to:
        conditions.append("r.date <= %s")
        args.append(filters.date_to)
    return " AND ".join(conditions), args


def _guard(conn: psycopg.Connection) -> None:
    """The current deadline (or SEARCH_DEADLINE_SECONDS from now) as this transaction's statement timeout."""
    ends = neutral._deadline.get()
    seconds = neutral.SEARCH_DEADLINE_SECONDS if ends is None else ends - time.monotonic()
    if seconds <= 0:
        raise SearchTimeout("The search ran past its deadline and was stopped.")
    conn.execute("SELECT set_config('statement_timeout', %s, true)", (f"{max(1, int(seconds * 1000))}ms",))


def within_deadline(database, work):
    """`work(conn)` in one snapshot, stopped with SearchTimeout when the deadline passes."""
    def guarded(conn):
        _guard(conn)
        return work(conn)

    try:
        return database.read(guarded)
    except psycopg.errors.QueryCanceled as error:
        neutral.log.warning("a search was stopped at its deadline (%s)", error)
        raise SearchTimeout("The search ran past its deadline and was stopped.") from error


def search(database, cache, filters: Filters, sort: str, page: int, per_page: int) -> Result:
    """One page of results (with snippets when searching), within the deadline."""
    def work(conn) -> Result:
        total = cache.get(("count", filters.key()), lambda: count(conn, filters))
        offset = (page - 1) * per_page
        if offset >= total:
            return Result(total)
        rowids = cache.get(("page", filters.key(), sort, offset, per_page),
                           lambda: page_rowids(conn, filters, sort, offset, per_page))
        return Result(total, result_rows(conn, rowids, filters))
    return within_deadline(database, work)


def count(conn, filters: Filters) -> int:
    sql, args = where(filters)
    return conn.execute(f"SELECT COUNT(*) AS n FROM public_records r WHERE {sql}", args).fetchone()["n"]


def page_rowids(conn, filters: Filters, sort: str, offset: int, limit: int) -> list[int]:
    sql, args = where(filters)
    if sort == "relevance" and filters.match:
        ranked = textsearch.any_term_query(filters.query)
        order, order_args = f"{textsearch.rank_sql('r')} DESC, r.rowid", [ranked] * len(textsearch.WEIGHTS)
    else:
        order, order_args = ORDER_BY.get(sort, ORDER_BY["date"]), []
    rows = conn.execute(f"SELECT r.rowid FROM public_records r WHERE {sql} ORDER BY {order} LIMIT %s OFFSET %s",
                        [*args, *order_args, limit, offset])
    return [row["rowid"] for row in rows]


def result_rows(conn, rowids: list[int], filters: Filters) -> list[dict]:
    """Summary rows for the rowids (in that order), with a highlighted snippet when searching."""
    if not rowids:
        return []
    rows = {row["rowid"]: row for row in conn.execute(
        f"SELECT {RESULT_COLUMNS} FROM public_records r WHERE r.rowid = ANY(%s)", (rowids,))}
    found = snippets(conn, rows, filters) if filters.match else {}
    out = []
    for rowid in rowids:
        row = rows.get(rowid)
        if row is None:
            continue
        row = dict(row, creators=json.loads(row["creators"]), recipients=json.loads(row["recipients"]),
                   snippet=found.get(rowid))
        del row["rowid"], row["source"]
        out.append(row)
    return out


def snippets(conn, rows: dict[int, dict], filters: Filters) -> dict[int, str]:
    """ts_headline over each record's bounded texts; the first column (in SNIPPET_ORDER) with a match."""
    terms = SearchTerms(filters.query)
    shown = {}
    for rowid, row in rows.items():
        neutral.check_deadline()
        shown[rowid] = snippet_texts(list(_stored_texts(bytes(row["source"]))), terms)
    queries = [textsearch.any_term_query(filters.query, name) for name in TEXT_COLUMNS]
    flat = [(rowid, column, texts[column]) for rowid, texts in shown.items() for column in SNIPPET_ORDER]
    lit = conn.execute(
        f"SELECT n, ts_headline('{TEXT_CONFIG}', t, to_tsquery('{TEXT_CONFIG}', q), %s) AS h "
        "FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(t, q, n)",
        (HEADLINE_OPTIONS, [text for _, _, text in flat], [queries[column] for _, column, _ in flat])).fetchall()
    best: dict[int, str] = {}
    for row in lit:
        rowid, _column, text = flat[row["n"] - 1]
        if rowid not in best and MARK_START in (row["h"] or ""):
            best[rowid] = _with_ellipses(row["h"], text)
    return {rowid: clipped(best[rowid]) if rowid in best else plain_start(texts) for rowid, texts in shown.items()}


def _with_ellipses(headline: str, text: str) -> str:
    """An ellipsis where the headline cuts the text (ts_headline gives none)."""
    plain = headline.replace(MARK_START, "").replace(MARK_END, "").strip()
    head = plain.split(f" {ELLIPSIS} ")[0][:40]
    tail = plain.split(f" {ELLIPSIS} ")[-1][-40:]
    stripped = text.strip()
    return ((ELLIPSIS if head and not stripped.startswith(head) else "") + headline.strip()
            + (ELLIPSIS if tail and not stripped.endswith(tail) else ""))


def facet_counts(database, cache, filters: Filters) -> dict[str, list[tuple[str, int]]]:
    """For every facet, (value, count) over the filtered public records, most frequent first."""
    def work(conn):
        sql, args = where(filters)
        rows = conn.execute(f"SELECT f.facet, f.value, COUNT(*) AS n FROM public_records r "
                            f"JOIN facets f ON f.record_rowid = r.rowid WHERE {sql} GROUP BY f.facet, f.value", args)
        return neutral._ordered({(row["facet"], row["value"]): row["n"] for row in rows})
    return cache.get(("facets", filters.key()), lambda: within_deadline(database, work))
