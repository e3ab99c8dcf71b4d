"""One load generator for every row, so a figure and its reference differ only in the server.

`steady(base, paths, seconds)` cycles through `paths` for a time (warm caches: the same paths come
round again); `once(base, paths)` requests every path exactly once (first-time work: no path is
asked twice, so no cache can answer it). Both use wrk when installed (C, light on the 2 cores the
server shares) and Python threads otherwise; both return req/s, p50/p95/p99 ms and errors.
`sequential(base, paths)` times one request after another (a user waiting for each answer).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

HERE = Path(__file__).parent
LATENCY_LUA = HERE / "latency.lua"
ONCE_LUA = HERE / "once.lua"
THREADS = 2
TIMEOUT = "--timeout=120s"
"""wrk's default (2 s) would count a slow first-time request as an error and drop its latency."""


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python threads"


def summarize(values: list[float], wall: float) -> dict:
    """Requests, req/s and latency percentiles (ms) of `values` (seconds) over `wall` seconds."""
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2) if ordered else 0.0

    return {"requests": len(values), "per_second": round(len(values) / wall, 1) if wall else 0.0,
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(1000 * statistics.fmean(values), 3) if values else 0.0}


def steady(base: str, paths: list[str], seconds: float, connections: int) -> dict:
    """Throughput and latency for requests cycling through `paths` for `seconds`."""
    with _path_file(paths) as listing:
        if shutil.which("wrk"):
            output = subprocess.run(
                ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{max(1, round(seconds))}s", TIMEOUT, "-s", str(LATENCY_LUA),
                 base, "--", listing], capture_output=True, text=True, check=True).stdout
            return json.loads(output.strip().splitlines()[-1])
        deadline = time.monotonic() + seconds
        return _threads(base, paths, connections, lambda i: time.monotonic() < deadline, cycle=True)


def once(base: str, paths: list[str], connections: int, timeout: float = 3600) -> dict:
    """Every path requested exactly once, `connections` at a time: first-time throughput and latency."""
    if not paths:
        return {**summarize([], 0), "errors": 0}
    if not shutil.which("wrk"):
        return _threads(base, paths, connections, lambda i: i < len(paths), cycle=False)
    threads = min(connections, len(paths))  # one connection per thread: the script times each request
    with _path_file(paths) as listing, tempfile.TemporaryDirectory() as folder:
        prefix = os.path.join(folder, "thread-")
        started = time.perf_counter()
        process = subprocess.Popen(
            ["wrk", f"-t{threads}", f"-c{threads}", f"-d{int(timeout)}s", TIMEOUT, "-s", str(ONCE_LUA),
             base, "--", listing, str(threads), prefix], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done = []
        while len(done) < threads and process.poll() is None:
            time.sleep(0.002)
            done = [name for name in os.listdir(folder) if not name.endswith(".tmp")]
        wall = time.perf_counter() - started
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.wait(60)
        times, errors = [], 0
        for name in done:
            lines = Path(folder, name).read_text().split()
            errors += int(lines[0])
            times += [float(value) / 1000 for value in lines[1:]]
    errors += len(paths) - len(times)  # a request that never got its answer
    return {**summarize(times, wall), "errors": errors, "seconds": round(wall, 3)}


def sequential(base: str, paths: list[str], session: requests.Session | None = None) -> dict:
    """One request after another, each timed: p50/p95 of what one user waits for each answer."""
    session = session or requests.Session()
    times, errors = [], 0
    started = time.perf_counter()
    for path in paths:
        start = time.perf_counter()
        response = session.get(base + path, timeout=300)
        times.append(time.perf_counter() - start)
        errors += not response.ok
    return {**summarize(times, time.perf_counter() - started), "errors": errors}


def _threads(base: str, paths: list[str], connections: int, more, cycle: bool) -> dict:
    times, errors = [], 0
    session = requests.Session()

    def one(i: int) -> tuple[float, bool]:
        start = time.perf_counter()
        ok = session.get(base + paths[i % len(paths)], timeout=300).ok
        return time.perf_counter() - start, ok

    i, start = 0, time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        while more(i):
            batch = range(i, i + connections if cycle else min(i + connections, len(paths)))
            for elapsed, ok in pool.map(one, batch):
                times.append(elapsed)
                errors += not ok
            i += len(batch)
    return {**summarize(times, time.monotonic() - start), "errors": errors}


class _path_file:
    """The paths, one a line, in a temporary file (wrk's Lua scripts read them from there)."""

    def __init__(self, paths: list[str]):
        self.paths = paths

    def __enter__(self) -> str:
        handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
        with handle:
            handle.write("\n".join(self.paths) + "\n")
        self.name = handle.name
        return handle.name

    def __exit__(self, *exc) -> None:
        os.unlink(self.name)
