"""Scaling out: 1, 2 and 4 app servers sharing one PostgreSQL index, beside one server on SQLite.

    python -m bench.scale_out --records 10000 --seconds 10 --out docs/benchmarks

Builds the same synthetic catalog into SQLite and into a throwaway PostgreSQL cluster (Debian's
binaries, as the tests start it), then loads 1, 2 and 4 gunicorn servers (one worker each, each on
its own port, all on the one database) with the same mix of record JSON, searches, browse pages and
OAI-PMH pages, every server driven at once by its own wrk. On one 2-core machine the servers share
the two cores, so throughput can grow up to two servers and then only hold; on separate machines
each server brings its own. Results: `<out>/scale-out.md` and `<out>/scale-out.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.generate import WORDS
from bench.generate import synthetic_record
from bench.generate import write_records
from bench.loadgen import generator
from bench.loadgen import steady
from catalog.index import open_index
from tests.conftest import free_port
from tests.postgres_backend import Cluster
from tests.postgres_backend import why_no_postgres

PROJECT = Path(__file__).resolve().parent.parent


def paths(ids: list[str]) -> list[str]:
    """The mix every server is asked: records, searches, browse and harvest pages."""
    mix = []
    for n, record_id in enumerate(ids[:400]):
        mix.append(f"/api/records/{record_id}")
        mix.append(f"/search?q={WORDS[n % len(WORDS)]}")
        if n % 4 == 0:
            mix.append(f"/?page={1 + n % 20}")
        if n % 8 == 0:
            mix.append("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
    return mix


def built(records: Path, instance: Path, database_url: str = "") -> float:
    """Seconds for a cold build of `records` into the backend."""
    began = time.perf_counter()
    index = open_index(records, instance, database_url=database_url)
    index.refresh(force=True)
    seconds = time.perf_counter() - began
    if hasattr(index, "close"):
        index.close()
    return round(seconds, 2)


def start(records: Path, instance: Path, database_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CATALOG_RECORDS_DIR": str(records), "CATALOG_INSTANCE_DIR": str(instance),
           "CATALOG_DATABASE_URL": database_url}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                               "wsgi:app"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/api/health", timeout=5).status_code == 200:
                return server, base
        except requests.ConnectionError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def throughput(records: Path, root: Path, servers: int, database_url: str, mix: list[str], seconds: float) -> dict:
    """Sum of req/s over `servers` servers, each driven by its own load generator at the same time."""
    started = [start(records, root / f"instance-{servers}-{n}", database_url) for n in range(servers)]
    try:
        for _server, base in started:  # warm: every server has seen the mix once
            steady(base, mix, 1, 2)
        with ThreadPoolExecutor(servers) as pool:
            results = list(pool.map(lambda pair: steady(pair[1], mix, seconds, 2), started))
    finally:
        for server, _base in started:
            server.terminate()
            server.wait(30)
    return {"servers": servers, "per_second": round(sum(r["per_second"] for r in results), 1),
            "p95_ms": max(r["p95_ms"] for r in results), "errors": sum(r.get("errors", 0) for r in results)}


def markdown(report: dict) -> str:
    lines = ["# Scaling out: app servers on one PostgreSQL index", "",
             (f"{report['records']:,} synthetic records; {report['cpus']} cores; load generator "
             f"{report['generator']}, 2 connections per server, {report['seconds']} s per row; "
             f"{report['when']}."), "",
             "| backend | cold build (s) |", "|---|---|",
             f"| SQLite (embedded) | {report['build']['sqlite']} |",
             f"| PostgreSQL | {report['build']['postgres']} |", "",
             "| servers (1 worker each) | index | req/s, all servers | × one server | p95 ms (worst) | errors |",
             "|---|---|---|---|---|---|"]
    base = report["rows"][1]["per_second"] or 1
    for row in report["rows"]:
        lines.append(f"| {row['servers']} | {row['index']} | {row['per_second']} | "
                     f"{round(row['per_second'] / base, 2)} | {row['p95_ms']} | {row['errors']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "benchmarks")
    args = parser.parse_args(argv)
    reason = why_no_postgres()
    if reason:
        print(f"scale-out benchmark not run: {reason}", file=sys.stderr)
        return 2
    cluster = Cluster()
    try:
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as scratch:
            root = Path(scratch)
            records = root / "records"
            write_records(records, args.records)
            ids = [record["id"] for record in map(synthetic_record, range(args.records))
                   if record["access"]["status"] == "open"]  # a restricted record is a 404, not load
            mix = paths(ids)
            url = cluster.new_database()
            report = {"records": args.records, "cpus": os.cpu_count(), "generator": generator(),
                      "seconds": args.seconds, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "build": {"sqlite": built(records, root / "instance-sqlite"),
                                "postgres": built(records, root / "instance-pg", url)}}
            rows = [{**throughput(records, root, 1, "", mix, args.seconds), "index": "SQLite"}]
            for servers in (1, 2, 4):
                rows.append({**throughput(records, root, servers, url, mix, args.seconds), "index": "PostgreSQL"})
            report["rows"] = rows
    finally:
        cluster.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale-out.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "scale-out.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
