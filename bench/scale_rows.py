"""The rows of the scale-out benchmark, each measured on servers started afresh for it.

Every row takes a `Backend` and returns a dict, so the same function gives the SQLite figure and the
PostgreSQL one beside it. Rows that could run for hours on a large catalog stop at a deadline and
say how far they got (`complete`: false) rather than guessing the rest.
"""

from __future__ import annotations

import html
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import requests

from bench import harvest as oai
from bench import loadgen
from bench import queries
from bench.generate import RARE
from bench.generate import WORDS
from bench.generate import synthetic_record
from bench.scale_servers import Backend
from bench.scale_servers import Servers
from bench.scale_servers import machine_busy_seconds
from bench.scale_servers import tree_cpu_seconds

SINGLE_EDITS = 5
"""Timed one-record edits (after one untimed edit that waits out the watcher's first full scan)."""
SAMPLE = 50
"""Edited records checked through the API after a 1% refresh (besides the last one written)."""


# -- refresh -----------------------------------------------------------------------------------

def _edited(records: Path, number: int, mark: str | None) -> tuple[Path, bytes, str]:
    """The file of record `number`, its bytes as generated (or with `mark` in its title), its id."""
    record = synthetic_record(number)
    if mark:
        record["title"] = f"{mark}: {record['title']}"
    data = json.dumps(record, ensure_ascii=False, indent=1).encode()
    return records / f"{record['id']}.json", data, record["id"]


def _write(records: Path, number: int, mark: str | None) -> str:
    """Record `number` written as generated, or with `mark` in its title; its id."""
    path, data, record_id = _edited(records, number, mark)
    path.write_bytes(data)
    return record_id


def _visible(session: requests.Session, base: str, record_id: str, mark: str, present: bool) -> bool:
    response = session.get(f"{base}/api/records/{record_id}", timeout=60)
    return response.ok and (mark in response.text) == present


def _wait_visible(session, base, record_ids, mark, present, deadline) -> bool:
    """Poll (every 10 ms) until each record shows (or no longer shows) `mark` through the API."""
    for record_id in record_ids:
        while not _visible(session, base, record_id, mark, present):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
    return True


def refresh(backend: Backend, numbers: list[int], workers: int, timeout: float) -> dict:
    """Edit record files while a server runs; time until the API shows the change: one record at a
    time (p50 of SINGLE_EDITS), then 1% of the records at once (until the last written and a sample
    of the others show it). Every edited file is written back as generated afterwards."""
    edited: set[int] = set()
    try:
        with Servers(backend, 1, workers) as server:
            return _edits(backend, server.base, numbers, edited, timeout)
    finally:
        for number in edited:  # a row cut short still leaves the folder as generated
            _write(backend.records, number, None)


def _restore(backend: Backend, numbers: list[int], edited: set[int]) -> None:
    for number in numbers:
        _write(backend.records, number, None)
        edited.discard(number)


def _edits(backend: Backend, base: str, numbers: list[int], edited: set[int], timeout: float) -> dict:
    session, out = requests.Session(), {}
    deadline = time.monotonic() + timeout
    single = []
    picks = numbers[1:2 + SINGLE_EDITS]
    for n, number in enumerate(picks):
        mark = f"Edited {uuid.uuid4().hex[:8]}"
        path, data, record_id = _edited(backend.records, number, mark)
        edited.add(number)
        started = time.perf_counter()
        path.write_bytes(data)
        if not _wait_visible(session, base, [record_id], mark, True, deadline):
            out["note"] = f"an edit was not visible within {timeout:g} s"
            break
        if n:  # the first waits out each worker's first full scan of the folder
            single.append(time.perf_counter() - started)
    _restore(backend, picks, edited)
    out["one_record"] = {**loadgen.summarize(single, 1), "edits": len(single),
                         "times_s": [round(t, 3) for t in single]}
    _wait_visible(session, base, [synthetic_record(picks[-1])["id"]], "Edited", False, deadline)

    count = max(1, len(numbers) // 100)
    chosen = [numbers[int(i * len(numbers) / count)] for i in range(count)]
    mark = f"Bulk {uuid.uuid4().hex[:8]}"
    edits = [_edited(backend.records, number, mark) for number in chosen]  # made before the clock starts
    edited.update(chosen)
    started = time.perf_counter()
    for path, data, _id in edits:
        path.write_bytes(data)
    writing = time.perf_counter() - started
    written = [record_id for _path, _data, record_id in edits]
    sample = written[:-1][:: max(1, len(written) // SAMPLE)][:SAMPLE]
    seen = _wait_visible(session, base, [written[-1], *sample], mark, True, deadline)
    out["one_percent"] = {"records": count, "writing_files_s": round(writing, 3),
                          "seconds": round(time.perf_counter() - started, 3) if seen else None,
                          "checked": len(sample) + 1}
    if not seen:
        out["one_percent"]["note"] = f"not all visible within {timeout:g} s"
    _restore(backend, chosen, edited)
    _wait_visible(session, base, [written[-1]], mark, False, time.monotonic() + timeout)
    return out


# -- new searches ------------------------------------------------------------------------------

def searches(backend: Backend, numbers: list[int], count: int, workers: int, timeout: float) -> dict:
    """New searches (never asked before) by class, one at a time, on a fresh server: p50/p95 and
    failures (a search past the server's deadline answers 503). The query list is the same for
    every backend: `queries.Fresh` deals them in a fixed order."""
    classes = queries.search_classes(queries.Fresh(), count, numbers)
    session = requests.Session()
    out: dict = {}
    with Servers(backend, 1, workers) as server:
        loadgen.sequential(server.base, ["/search?q=" + queries.WARM_QUERY, "/"] * 2 * workers, session)
        for kind, paths in classes.items():
            deadline = time.monotonic() + timeout / len(classes)  # each class its share of the row's time
            times, errors = [], 0
            for path in paths:
                if time.monotonic() > deadline:
                    break
                result = loadgen.sequential(server.base, [path], session)
                times.append(result["mean_ms"] / 1000)
                errors += result["errors"]
            out[kind] = {**loadgen.summarize(times, sum(times) or 1), "errors": errors, "planned": len(paths)}
    return out


# -- OAI-PMH -----------------------------------------------------------------------------------

def _harvest(base: str, prefix: str, deadline: float) -> dict:
    """`bench.harvest.harvest`, stopping at `deadline` (a page under way is finished)."""
    session = requests.Session()
    url = f"{base}/oai?verb=ListRecords&metadataPrefix={prefix}"
    times, records, errors = [], 0, 0
    started = time.perf_counter()
    while url and time.monotonic() < deadline:
        start = time.perf_counter()
        body = (response := session.get(url, timeout=600)).content
        times.append(time.perf_counter() - start)
        errors += not response.ok or b"<error " in body
        records += body.count(b"<record>") + body.count(b"<record ")
        token = oai.TOKEN.search(body)
        url = f"{base}/oai?verb=ListRecords&resumptionToken={quote(html.unescape(token.group(1).decode()))}" \
            if token else None
    return {"records": records, "pages": len(times), "seconds": time.perf_counter() - started,
            "errors": errors, "page_times": times, "complete": url is None}


def harvests(backend: Backend, count: int, workers: int, timeout: float) -> dict:
    """`count` full ListRecords harvests at once on a fresh server (formats as in `bench.harvest`:
    one harvester is oai_dc): wall time, pages, page p50/p95; stopped at `timeout` if not done."""
    prefixes = [oai.FORMATS[i % len(oai.FORMATS)] for i in range(count)]
    with Servers(backend, 1, workers) as server:
        deadline = time.monotonic() + timeout
        started = time.perf_counter()
        with ThreadPoolExecutor(count) as pool:
            runs = list(pool.map(lambda prefix: _harvest(server.base, prefix, deadline), prefixes))
        wall = time.perf_counter() - started
    pages = loadgen.summarize([t for run in runs for t in run["page_times"]], wall)
    return {"harvesters": count, "formats": prefixes, "records": sum(r["records"] for r in runs),
            "pages": pages["requests"], "seconds": round(wall, 2), "page_p50_ms": pages["p50_ms"],
            "page_p95_ms": pages["p95_ms"], "errors": sum(r["errors"] for r in runs),
            "complete": all(r["complete"] for r in runs)}


# -- throughput --------------------------------------------------------------------------------

MIXES = ("common", "selective")


def mix(ids: list[str], searches: str = "common") -> list[str]:
    """The request mix every server is asked, cycled: for 400 records, 400 record JSON, 400 searches,
    100 browse pages (20 distinct) and 50 OAI-PMH first pages (ListIdentifiers). The searches, 36
    distinct ones in turn: "common", the 36 prose words (each matches nearly every record); or
    "selective", the 5 rare words and 31 record numbers (a handful of matches each)."""
    terms = WORDS if searches == "common" else \
        RARE + [record_id.split("-")[1].lstrip("0") for record_id in ids[100:][:len(WORDS) - len(RARE)]]
    paths, browse_pages = [], max(1, min(20, len(ids) // 20))  # a page past the last one is a 404
    for n, record_id in enumerate(ids[:400]):
        paths.append(f"/api/records/{record_id}")
        paths.append(f"/search?q={terms[n % len(terms)]}")
        if n % 4 == 0:
            paths.append(f"/?page={1 + n % browse_pages}")
        if n % 8 == 0:
            paths.append("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
    return paths


def throughput(backend: Backend, servers: int, paths: list[str], seconds: float, connections: int,
               timeout: float) -> dict:
    """req/s summed over `servers` servers (one worker each), each driven by its own wrk at once,
    after every server has answered every distinct path of the mix once (its caches warm)."""
    distinct = list(dict.fromkeys(paths))
    with Servers(backend, servers, 1) as running:
        with ThreadPoolExecutor(servers) as pool:
            warm = list(pool.map(lambda base: loadgen.once(base, distinct, connections, timeout), running.bases))
        before = _cpu(running, backend)
        with ThreadPoolExecutor(servers) as pool:
            results = list(pool.map(lambda base: loadgen.steady(base, paths, seconds, connections), running.bases))
        used = {key: round(value, 2) for key, value in _cpu(running, backend, before).items()}
    return {"cores_used": used, "servers": servers, "per_second": round(sum(r["per_second"] for r in results), 1),
            "p50_ms": max(r["p50_ms"] for r in results), "p95_ms": max(r["p95_ms"] for r in results),
            "errors": sum(r.get("errors", 0) for r in results),
            "warm_up_s": round(max(w.get("seconds", 0) for w in warm), 1),
            "warm_up_errors": sum(w["errors"] for w in warm)}


def _cpu(running: Servers, backend: Backend, since: dict | None = None) -> dict:
    """CPU seconds so far (or, given `since`, cores used since then) of the app servers, PostgreSQL
    and the whole machine (the load generators and anyone else's work included)."""
    now = {"wall": time.monotonic(), "app servers": running.cpu_seconds(),
           "PostgreSQL": tree_cpu_seconds(backend.postgres_pid) if backend.url and backend.postgres_pid else 0.0,
           "machine": machine_busy_seconds()}
    if since is None:
        return now
    wall = now["wall"] - since["wall"]
    return {key: (now[key] - since[key]) / wall for key in now if key != "wall"}
