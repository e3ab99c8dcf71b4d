"""Mixed-workload load test: gunicorn on 127.0.0.1, many concurrent clients, a bounded time.

    python -m bench.load --records 1000 --clients 50 --seconds 30 --report docs/load.md

Starts gunicorn (default worker count, from gunicorn.conf.py) over a synthetic catalog (or the
folder given with --records-dir), then drives browse, search, record pages, record JSON,
manifests, page images and OAI-PMH pages from `--clients` threads. Prints throughput, latency
percentiles and errors per kind of request; exits 1 if any request failed (5xx, refused, or an
unexpected status), so CI can run it briefly as a smoke test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

from bench.generate import synthetic_record
from bench.generate import write_records

PROJECT = Path(__file__).resolve().parent.parent
WORDS = ["conference", "soviet", "treaty", "oil", "delegation", "withdrawal", "zanzibar", "\"peace cooperation\""]


def start_server(records: Path, instance: Path, port: int, workers: int | None = None) -> subprocess.Popen:
    env = {**os.environ, "CATALOG_RECORDS_DIR": str(records), "CATALOG_INSTANCE_DIR": str(instance)}
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    if workers:
        command[3:3] = ["--workers", str(workers)]
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def workload(ids: list[str], rng: random.Random) -> tuple[str, str]:
    """One request of the mix: (kind, path)."""
    record_id = rng.choice(ids)
    kind = rng.choices(["browse", "search", "page", "json", "manifest", "image", "oai"],
                       weights=[15, 20, 20, 15, 15, 10, 5])[0]
    path = {
        "browse": lambda: f"/?page={rng.randint(1, 5)}",
        "search": lambda: f"/search?q={rng.choice(WORDS)}",
        "page": lambda: f"/records/{record_id}",
        "json": lambda: f"/api/records/{record_id}",
        "manifest": lambda: f"/iiif/{record_id}/manifest",
        "image": lambda: f"/iiif/image/{record_id}/1/full/max/0/default.png",
        "oai": lambda: "/oai?verb=ListRecords&metadataPrefix=oai_dc",
    }[kind]()
    return kind, path


def run_load(base: str, ids: list[str], clients: int, seconds: float) -> dict:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        session = requests.Session()
        while time.monotonic() < deadline:
            kind, path = workload(ids, rng)
            start = time.perf_counter()
            try:
                response = session.get(base + path, timeout=30)
                status = response.status_code
            except requests.RequestException as exc:
                status = f"{type(exc).__name__}"
            elapsed = time.perf_counter() - start
            with lock:
                latencies[kind].append(elapsed)
                if status != 200:
                    errors.append(f"{status} {path}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    return {"seconds": round(wall, 2), "clients": clients, "errors": len(errors), "error_samples": errors[:10],
            "kinds": {kind: summarize(values, wall) for kind, values in sorted(latencies.items())},
            "total": summarize([v for values in latencies.values() for v in values], wall)}


def summarize(values: list[float], wall: float) -> dict:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1) if ordered else 0.0

    return {"requests": len(values), "per_second": round(len(values) / wall, 1),
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(1000 * statistics.fmean(values), 1) if values else 0.0}


def markdown(result: dict, records: int) -> str:
    lines = [(f"Mixed load: {result['clients']} clients for {result['seconds']} s over {records} records; "
             f"errors: {result['errors']}."), "",
             "| request | requests | req/s | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for kind, s in [*result["kinds"].items(), ("all", result["total"])]:
        lines.append(f"| {kind} | {s['requests']} | {s['per_second']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000, help="synthetic records to generate")
    parser.add_argument("--records-dir", type=Path, help="serve this folder instead of synthetic records")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--report", type=Path, help="also write the table (Markdown) and JSON beside it")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.records_dir or Path(scratch) / "records"
        if args.records_dir is None:
            write_records(folder, args.records)
        ids = sorted(p.stem for p in folder.glob("*.json"))
        if args.records_dir is None:
            ids = [i for i in ids if synthetic_record(int(i.split("-")[1]))["access"]["status"] == "open"]
        server = start_server(folder, Path(scratch) / "instance", args.port)
        try:
            result = run_load(f"http://127.0.0.1:{args.port}", ids, args.clients, args.seconds)
        finally:
            server.terminate()
            server.wait(30)
    table = markdown(result, len(ids))
    print(table)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(table, encoding="utf-8")
        args.report.with_suffix(".json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    if result["errors"]:
        print("errors:", *result["error_samples"], sep="\n  ", file=sys.stderr)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
