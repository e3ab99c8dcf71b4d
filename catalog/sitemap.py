"""sitemap.xml for search engines: public records only, absolute URLs, under the 50,000-URL limit.

A small catalog gets one `<urlset>`. A large one gets a sitemap index at /sitemap.xml whose child
sitemaps (/sitemaps/1.xml, ...) hold `RECORDS_PER_SITEMAP` records each; the first also holds the
home page and the collections. Records come in index order (date, id), read from a covering index.
"""

from __future__ import annotations

import sqlite3

from markupsafe import escape

from catalog import search

RECORDS_PER_SITEMAP = 25_000
"""Half the protocol's 50,000-URL limit: room for the collection pages in the first child."""

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _count(db: sqlite3.Connection) -> int:
    return db.execute("SELECT COUNT(*) FROM records WHERE public = 1").fetchone()[0]


def parts(db: sqlite3.Connection) -> int:
    return max(1, -(-_count(db) // RECORDS_PER_SITEMAP))


def root(db: sqlite3.Connection, base: str) -> str:
    """/sitemap.xml: the whole urlset when it fits in one part, else an index of the parts."""
    count = parts(db)
    if count == 1:
        return part(db, base, 1) or ""
    entries = "".join(f"<sitemap><loc>{escape(base)}/sitemaps/{n}.xml</loc></sitemap>\n" for n in range(1, count + 1))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">\n{entries}</sitemapindex>\n'


def part(db: sqlite3.Connection, base: str, number: int) -> str | None:
    """Child sitemap `number` (1-based), or None when there is no such part."""
    if number < 1 or number > parts(db):
        return None
    rows = db.execute(
        "SELECT r.id, l.datestamp FROM (SELECT id FROM records WHERE public = 1 ORDER BY date, id "
        "LIMIT ? OFFSET ?) r LEFT JOIN ledger l ON l.id = r.id",
        (RECORDS_PER_SITEMAP, (number - 1) * RECORDS_PER_SITEMAP)).fetchall()
    base = str(escape(base))
    urls = []
    if number == 1:
        urls += [f"<url><loc>{base}/</loc></url>", f"<url><loc>{base}/collections</loc></url>"]
        urls += [f"<url><loc>{base}/collections/{escape(c['slug'])}</loc></url>" for c in search.collections(db)[:RECORDS_PER_SITEMAP - 2]]
    for record_id, datestamp in rows:
        lastmod = f"<lastmod>{escape(datestamp)}</lastmod>" if datestamp else ""
        urls.append(f"<url><loc>{base}/records/{escape(record_id)}</loc>{lastmod}</url>")
    body = "\n".join(urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n{body}\n</urlset>\n'
