"""Full OAI-PMH harvests, one or several at once, timed page by page; and the same pages as files.

A harvester here is the least a client can do: GET a ListRecords page, find the resumption token,
GET the next. Each page is a first-time page (its token is new), so the figures are not those of a
memoized page. The pages are kept, so that a static file server can serve the very same bytes as
the baseline (`static_harvest`): what a harvest would cost if the pages were files.
"""

from __future__ import annotations

import html
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import requests

from bench.loadgen import summarize

TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
FORMATS = ("oai_dc", "oai_dcterms", "mods", "marc21")
"""Formats of concurrent harvesters: each harvests its own, so none is served another's cached work."""


def harvest(base: str, prefix: str, keep: Path | None = None) -> dict:
    """One full ListRecords harvest in `prefix`; pages written to `keep`/<n>.xml when given."""
    session = requests.Session()
    url = f"{base}/oai?verb=ListRecords&metadataPrefix={prefix}"
    times, records, errors, n = [], 0, 0, 0
    started = time.perf_counter()
    while url:
        start = time.perf_counter()
        response = session.get(url, timeout=600)
        times.append(time.perf_counter() - start)
        body = response.content
        errors += not response.ok or b"<error " in body
        records += body.count(b"<record>") + body.count(b"<record ")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / f"{n}.xml").write_bytes(body)
        n += 1
        token = TOKEN.search(body)
        url = f"{base}/oai?verb=ListRecords&resumptionToken={quote(html.unescape(token.group(1).decode()))}" \
            if token else None
    wall = time.perf_counter() - started
    return {"format": prefix, "records": records, "pages": n, "seconds": round(wall, 3),
            "errors": errors, "page_times": times}


def harvests(base: str, count: int, keep: Path | None = None) -> dict:
    """`count` full harvests at once (formats from FORMATS): total wall time and page percentiles."""
    prefixes = [FORMATS[i % len(FORMATS)] for i in range(count)]
    started = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        runs = list(pool.map(lambda p: harvest(base, p, keep / p if keep else None), prefixes))
    return _combined(runs, time.perf_counter() - started)


def static_harvests(base: str, pages: dict[str, int], count: int) -> dict:
    """The same pages fetched as files from a static server, `count` harvesters at once."""
    prefixes = [FORMATS[i % len(FORMATS)] for i in range(count)]

    def fetch(prefix: str) -> dict:
        session = requests.Session()
        times, errors = [], 0
        started = time.perf_counter()
        for n in range(pages[prefix]):
            start = time.perf_counter()
            response = session.get(f"{base}/{prefix}/{n}.xml", timeout=600)
            response.content  # noqa: B018 - the whole body, as a harvester reads it
            times.append(time.perf_counter() - start)
            errors += not response.ok
        return {"format": prefix, "records": 0, "pages": pages[prefix],
                "seconds": round(time.perf_counter() - started, 3), "errors": errors, "page_times": times}

    started = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        runs = list(pool.map(fetch, prefixes))
    return _combined(runs, time.perf_counter() - started)


def _combined(runs: list[dict], wall: float) -> dict:
    times = [t for run in runs for t in run["page_times"]]
    pages = summarize(times, wall)
    return {"harvesters": len(runs), "formats": [run["format"] for run in runs],
            "records": sum(run["records"] for run in runs), "pages": sum(run["pages"] for run in runs),
            "seconds": round(wall, 3), "page_p50_ms": pages["p50_ms"], "page_p95_ms": pages["p95_ms"],
            "page_p99_ms": pages["p99_ms"], "errors": sum(run["errors"] for run in runs),
            "pages_by_format": {run["format"]: run["pages"] for run in runs}}
