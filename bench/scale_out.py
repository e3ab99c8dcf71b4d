"""Scaling out: the embedded SQLite index and PostgreSQL side by side, and 1, 2 and 4 app servers.

    python -m bench.scale_out --records 100000                       # writes docs/benchmarks/scale-out.*
    python -m bench.scale_out --records 1000000 --data /tmp/scale1m --timeout 1800
    python -m bench.scale_out --records 200 --seconds 1 --out /tmp/x   # the quick smoke run

For each size the same synthetic catalog (`bench/generate.py`, generated once into `--data` and
kept) is built into SQLite and into a throwaway PostgreSQL cluster (Debian's binaries, started as
the tests start it), then every row is measured on both, one right after the other, on servers
started afresh for the row (`bench/scale_rows.py`): cold build and index size; refresh (one edited
file, and 1% of them, until the HTTP API shows the change); new searches by class, one at a time
(`bench/queries.py`); full OAI-PMH harvests, one and four at once; throughput with 1, 2 and 4 app
servers on the one index. A row that would run past `--timeout` stops there and says how far it got.
Every server shares this machine's cores with the others, PostgreSQL and the load generators: the
report says so, with the load average before each row. Results: `<out>/scale-out.md` and
`<out>/scale-out.json`; sizes measured in an earlier run and not measured again are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import loadgen
from bench import scale_rows
from bench.generate import synthetic_record
from bench.generate import write_records
from bench.scale_build import cold_build
from bench.scale_report import markdown
from bench.scale_servers import Backend
from bench.scale_servers import load

PROJECT = Path(__file__).resolve().parent.parent
ROWS = ("build", "refresh", "search", "harvest", "throughput")


def records_folder(data: Path, size: int) -> Path:
    """`size` generated records under `data`, made once and kept for later runs."""
    folder = data / f"records-{size}"
    if not folder.exists() or sum(1 for _ in os.scandir(folder)) != size:
        print(f"generating {size:,} records into {folder} ...", file=sys.stderr, flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        write_records(folder, size)
    return folder


def machine(postgres_url: str) -> dict:
    import psycopg

    memory_kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")).split()[1])
    with psycopg.connect(postgres_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return {"cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "postgres": f"PostgreSQL {version.split()[0]}",
            "generator": loadgen.generator()}


def postmaster(cluster) -> int | None:
    try:
        return int((cluster.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Size:
    """One catalog size: its rows, measured backend by backend and saved after each."""

    def __init__(self, size: int, args, save):
        self.args, self.save = args, save
        self.result = {"records": size, "command": args.command, "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                       "settings": {k: getattr(args, k) for k in ("seconds", "queries", "connections", "mix", "workers",
                                                                  "timeout", "build_timeout")},
                       "rows": {}, "notes": []}
        self.began = time.perf_counter()

    def measure(self, row: str, backend: Backend, action) -> None:
        print(f"  {self.result['records']:,} [{time.perf_counter() - self.began:7.1f} s] {row}: {backend.name} "
              f"(load {load()})", file=sys.stderr, flush=True)
        before, started = load(), time.perf_counter()
        try:
            value = action()
        except Exception as error:  # noqa: BLE001 - one failed row must not lose the others of a long run
            traceback.print_exc()
            value = {"error": f"{type(error).__name__}: {error}"}
        self.result["rows"].setdefault(row, {})[backend.key] = {**value, "load": before,
                                                                "row_s": round(time.perf_counter() - started, 1)}
        self.save()


def run_size(size: int, args, cluster, save, sizes: list) -> None:
    folder = records_folder(args.data, size)
    numbers = sorted(int(entry.name[4:10]) for entry in os.scandir(folder))
    public = [n for n in numbers if synthetic_record(n)["access"]["status"] == "open"]
    ids = [f"syn-{n:06d}" for n in public]
    current = Size(size, args, save)
    current.result["public"] = len(public)
    sizes[:] = [s for s in sizes if s["records"] != size] + [current.result]
    sizes.sort(key=lambda s: s["records"])
    url = cluster.new_database()
    with tempfile.TemporaryDirectory(dir=args.data, ignore_cleanup_errors=True) as scratch:
        backends = [Backend("SQLite", folder, Path(scratch) / "sqlite", settle=size >= 10_000),
                    Backend("PostgreSQL", folder, Path(scratch) / "postgres", url,
                            postgres_pid=postmaster(cluster), settle=size >= 10_000)]
        for backend in backends:
            backend.instance.mkdir(parents=True)
        for backend in backends:  # without a build no other row can run: it is always done
            def build(backend=backend):
                result = cold_build(folder, backend.instance, backend.url, args.build_timeout)
                backend.mark_built()
                return {**result, "index_mb": round(backend.index_bytes() / 1e6, 1),
                        "index_parts": sorted(backend.built) if not backend.url else ["tables of schema public"]}
            current.measure("build", backend, build)
        if any(current.result["rows"]["build"][b.key].get("seconds") is None for b in backends):
            current.result["notes"].append("a build did not finish: the other rows were not run")
            save()
            return
        rows = {
            "refresh": lambda b: scale_rows.refresh(b, public, args.workers, args.timeout),
            "search": lambda b: scale_rows.searches(b, numbers, args.queries, args.workers, args.timeout),
            "harvest 1": lambda b: scale_rows.harvests(b, 1, args.workers, args.timeout),
            "harvest 4": lambda b: scale_rows.harvests(b, 4, args.workers, args.timeout),
        } | {f"throughput {n}": (lambda b, n=n: scale_rows.throughput(
            b, n, scale_rows.mix(ids, args.mix), args.seconds, args.connections, args.timeout)) for n in (1, 2, 4)}
        for row, action in rows.items():
            if row.split()[0] in args.rows:
                for backend in backends:
                    current.measure(row, backend, lambda action=action, backend=backend: action(backend))
    cluster.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")  # its disk back


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, nargs="+", default=[10_000], help="catalog sizes, each measured")
    parser.add_argument("--seconds", type=float, default=10, help="load duration of each throughput row")
    parser.add_argument("--queries", type=int, default=20, help="new searches per query class")
    parser.add_argument("--connections", type=int, default=2, help="connections per server in the throughput rows")
    parser.add_argument("--mix", choices=scale_rows.MIXES, default="common",
                        help="the throughput mix's searches: prose words (nearly every record) or selective ones")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the one-server rows")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds a refresh, search, harvest or throughput row may run before it stops")
    parser.add_argument("--build-timeout", type=float, default=4 * 3600, help="seconds a cold build may take")
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS), help="rows to measure (build always)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "catalog-scale",
                        help="where generated records are kept between runs (never the repository)")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "benchmarks")
    args = parser.parse_args(argv)
    from tests.postgres_backend import Cluster
    from tests.postgres_backend import why_no_postgres

    reason = why_no_postgres()
    if reason:
        print(f"scale-out benchmark not run: {reason}", file=sys.stderr)
        return 2
    args.data.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    previous = args.out / "scale-out.json"
    try:
        sizes = json.loads(previous.read_text()).get("sizes", []) if previous.exists() else []
    except ValueError:
        sizes = []
    cluster = Cluster()
    args.command = "python -m bench.scale_out " + shlex.join(argv if argv is not None else sys.argv[1:])
    report = {"machine": machine(cluster.url), "sizes": sizes}

    def save() -> None:
        (args.out / "scale-out.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (args.out / "scale-out.md").write_text(markdown(report), encoding="utf-8")

    try:
        for size in args.records:
            print(f"scale-out: {size:,} records ...", file=sys.stderr, flush=True)
            run_size(size, args, cluster, save, sizes)
            save()
    finally:
        cluster.stop()
    print(markdown(report))
    failed = sum(1 for s in sizes for row in s["rows"].values() for r in row.values() if "error" in r)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
