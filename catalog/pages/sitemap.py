"""sitemap.xml for search engines: public records only, absolute URLs, under the 50,000-URL limit.

A small catalog gets one `<urlset>`. A large one gets a sitemap index at /sitemap.xml whose child
sitemaps (/sitemaps/1.xml, ...) hold `RECORDS_PER_SITEMAP` records each; the first also holds the
home page, the collections and the people. Records come in index order (date, id).
"""

from __future__ import annotations

from markupsafe import escape

from catalog.index.api import CatalogIndex
from catalog.pages.people import people_index
from catalog.urls import Urls

RECORDS_PER_SITEMAP = 25_000
"""Half the protocol's 50,000-URL limit: room for the collection pages in the first child."""

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def parts(index: CatalogIndex) -> int:
    return max(1, -(-index.count() // RECORDS_PER_SITEMAP))


def root(index: CatalogIndex, urls: Urls) -> str:
    """/sitemap.xml: the whole urlset when it fits in one part, else an index of the parts."""
    count = parts(index)
    if count == 1:
        return part(index, urls, 1) or ""
    entries = "".join(f"<sitemap><loc>{escape(urls.sitemap(n))}</loc></sitemap>\n" for n in range(1, count + 1))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">\n{entries}</sitemapindex>\n'


def part(index: CatalogIndex, urls: Urls, number: int) -> str | None:
    """Child sitemap `number` (1-based), or None when there is no such part."""
    if number < 1 or number > parts(index):
        return None
    entries = index.sitemap_entries((number - 1) * RECORDS_PER_SITEMAP, RECORDS_PER_SITEMAP)
    locations = []
    if number == 1:  # the pages that gather records: within the other half of the limit
        locations += [(urls.home(), None), (urls.collections(), None), (urls.people(), None)]
        locations += [(urls.collection(c["slug"]), None) for c in index.collections()]
        locations += [(person["url"], None) for person in people_index(index, urls)]
        del locations[RECORDS_PER_SITEMAP:]
    locations += [(urls.record(record_id), datestamp) for record_id, datestamp in entries]
    body = "\n".join(f"<url><loc>{escape(loc)}</loc>" + (f"<lastmod>{escape(stamp)}</lastmod>" if stamp else "")
                     + "</url>" for loc, stamp in locations)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n{body}\n</urlset>\n'
