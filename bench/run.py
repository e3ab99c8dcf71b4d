"""The benchmark: every figure beside a reference measured in the same run.

    python -m bench.run                      # 1,000, 10,000 and 100,000 records
    python -m bench.run --sizes 1000 --seconds 1 --repeat 1 --out /tmp/smoke   # the CI smoke run

Per catalog size: cold index build vs the read-and-parse floor; refresh; server start; in-process
manifests vs the floor and the peer library (iiif-prezi3); FIRST-TIME work on freshly started
servers (every id once: manifests, record JSON, record pages, page images; every OAI page of
full harvests, 1 and 4 harvesters at once; searches never asked before, of every selectivity;
autocomplete keystrokes) and WARM work (the same paths again); each beside the constant-bytes
gunicorn ceiling and a static file server (nginx) serving the very same bytes; memory per worker;
`catalog export-static` vs the cold build. Load comes from wrk (or Python threads), nothing talks
to anything but 127.0.0.1. Results: `<out>/benchmark.json` and `<out>/benchmark.md`
(`bench/report.py` writes the tables and judges the targets).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import requests

from bench import harvest as oai
from bench import inprocess
from bench import loadgen
from bench import queries
from bench.generate import synthetic_record
from bench.generate import write_records
from bench.load import start_server
from bench.report import markdown
from bench.static_server import StaticServer
from catalog.index import SQLiteIndex
from catalog.index.projection import compress_source
from catalog.index.projection import content_hash
from catalog.index.projection import facet_values
from catalog.index.projection import index_columns
from catalog.index.projection import search_texts
from catalog.model import Record
from manifests.templates import template

PROJECT = Path(__file__).resolve().parent.parent
WARM_IDS = 200
"""Ids cycled by the warm rows: they fit every per-worker cache, which is the point of a warm row."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def spread(items: list, count: int) -> list:
    """`count` items spread evenly over `items` (all of them if fewer)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


# -- build -------------------------------------------------------------------------------------

def read_and_parse(folder: Path) -> None:
    for path in folder.iterdir():
        json.loads(path.read_bytes())


def cold_build(folder: Path, instance: Path) -> dict:
    """Wall time of a cold build, and the CPU seconds its writer (this process) and its parsing
    workers spent: on 2 cores, their sum over 2 bounds how fast the build can be."""
    shutil.rmtree(instance, ignore_errors=True)
    cpu, workers = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(lambda: SQLiteIndex(folder, instance).refresh())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "writer_cpu_s": time.process_time() - cpu,
            "worker_cpu_s": after.ru_utime + after.ru_stime - workers.ru_utime - workers.ru_stime}


def build_stages(folder: Path, sample: int = 2000) -> dict[str, int]:
    """CPU microseconds per record of each step a build takes on one file, in one process."""
    paths = sorted(folder.iterdir())[:sample]
    cost: dict[str, int] = {}

    def measure(name, action):
        started = time.process_time()
        result = action()
        cost[name] = round((time.process_time() - started) / len(paths) * 1e6)
        return result

    data = measure("read the file", lambda: [path.read_bytes() for path in paths])
    measure("json.loads", lambda: [json.loads(item) for item in data])
    records = measure("validate against the model", lambda: [Record.model_validate_json(item) for item in data])
    measure("content hash", lambda: [content_hash(record) for record in records])
    measure("compress the source", lambda: [compress_source(item) for item in data])
    measure("index columns, facets, search texts",
            lambda: [(index_columns(r), facet_values(r), search_texts(r)) for r in records])
    measure("manifest template (pages laid out, compressed)", lambda: [template(r) for r in records])
    return cost


def refresh_after_edits(folder: Path, instance: Path, count: int, round_number: int, targeted: bool) -> float:
    """Edit `count` files, then time the refresh: of just those files (as the server's inotify
    watcher does) or a full scan of the folder (the fallback, and the periodic safety net)."""
    store = SQLiteIndex(folder, instance)
    store.refresh()
    edit_files(folder, count, round_number, "warm-up")
    store.refresh()  # a running server's connection is warm: so is this one before the timed refresh
    names = edit_files(folder, count, round_number, "t" if targeted else "f")
    return timed(lambda: store.refresh(only=names if targeted else None))


def edit_files(folder: Path, count: int, round_number: int, mark: str) -> set[str]:
    names = set()
    for n in range(count):
        record = synthetic_record(n * 7)
        record["title"] = f"Edited in round {round_number}{mark}: {record['title']}"
        (folder / f"{record['id']}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        names.add(f"{record['id']}.json")
    return names


def export_static(folder: Path, instance: Path, scratch: Path, timeout: float, image_server: str = "") -> dict:
    """`catalog export-static DIR` on the built index, timed; "not available" without the command.
    With `image_server`, page images are left to that live server (`--image-server`)."""
    target = scratch / "export"
    shutil.rmtree(target, ignore_errors=True)
    env = {**os.environ, "CATALOG_RECORDS_DIR": str(folder), "CATALOG_INSTANCE_DIR": str(instance)}
    command = [sys.executable, "-c", "import sys; from catalog.cli import main; sys.exit(main())", "export-static"]
    probe = subprocess.run([*command, "--help"], cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return {"available": False, "note": "not available (no `catalog export-static` command)"}
    started = time.perf_counter()
    extra = ["--image-server", image_server] if image_server else []
    process = subprocess.Popen([*command, str(target), "--base-url", "http://127.0.0.1/static", *extra], cwd=PROJECT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # its own group: a timeout ends its pool workers too
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(f"{target}.tmp", ignore_errors=True)
        return {"available": False, "note": f"did not finish in {timeout:g} s (--export-timeout)"}
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        return {"available": False, "note": f"failed ({process.returncode}): {(stderr or stdout)[-300:]}"}
    files = sum(1 for p in target.rglob("*") if p.is_file()) if target.exists() else 0
    shutil.rmtree(target, ignore_errors=True)
    return {"available": True, "seconds": round(seconds, 2), "files": files}


# -- servers -----------------------------------------------------------------------------------

class Catalog:
    """A freshly started gunicorn over the built index: its caches hold nothing yet."""

    def __init__(self, folder: Path, instance: Path, workers: int):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        started = time.perf_counter()
        self.process = start_server(folder, instance, self.port, workers)
        self.start_s = time.perf_counter() - started
        loadgen.once(self.base, ["/api/ping"] * 100, 4)  # every worker booted and connected: not a row's cost

    def worker_rss_mb(self, field: str = "VmRSS", source: str = "status") -> list[float]:
        """Each worker's resident set (`VmRSS`), its private part (`RssAnon`: without the index and
        mirror files mapped into it, which the kernel shares between workers and can drop), or its
        proportional share (`Pss` of `smaps_rollup`: each shared page divided among the processes
        that map it, so the workers' figures add up to what they hold together)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        sizes = []
        for child in children:
            for line in Path(f"/proc/{child}/{source}").read_text().splitlines():
                if line.startswith(field + ":"):
                    sizes.append(round(int(line.split()[1]) / 1024, 1))
        return sizes

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def fetch_to(base: str, paths: list[str], root: Path, name) -> None:
    """Save what the catalog answers for `paths` under `root`, as `name(path)`: the static server's bytes."""
    session = requests.Session()
    for path in paths:
        response = session.get(base + path, timeout=300)
        response.raise_for_status()
        target = root / name(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)


def steady_median(base: str, paths: list[str], args) -> dict:
    loadgen.once(base, paths * 2 * args.workers, args.connections)  # warm-up: every worker has seen each path
    runs = [loadgen.steady(base, paths, args.seconds, args.connections) for _ in range(args.repeat)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def autocomplete_template(base: str) -> str | None:
    """A catalog-wide autocomplete endpoint, if the API document lists one (per-record IIIF ones aside)."""
    try:
        paths = requests.get(base + "/api/openapi.json", timeout=30).json().get("paths", {})
    except (requests.RequestException, ValueError):
        return None
    for path in paths:
        if ("autocomplete" in path or "suggest" in path) and "{" not in path:
            return path + "?q={q}"
    return None


# -- one size ----------------------------------------------------------------------------------

def bench_size(size: int, data_root: Path, args) -> dict:
    folder = data_root / f"records-{size}"
    if not folder.exists() or len(list(folder.glob("*.json"))) != size:
        shutil.rmtree(folder, ignore_errors=True)
        write_records(folder, size)
    numbers = sorted(int(p.stem.split("-")[1]) for p in folder.glob("*.json"))
    ids = [f"syn-{n:06d}" for n in numbers if synthetic_record(n)["access"]["status"] == "open"]
    r: dict = {"records": size, "public": len(ids)}
    repeat = args.build_repeat if size >= 100_000 else args.repeat
    with tempfile.TemporaryDirectory(dir=data_root, ignore_cleanup_errors=True) as scratch_name:  # a server still closing may write
        scratch = Path(scratch_name)
        instance = scratch / "instance"
        began = time.perf_counter()
        log = lambda what: print(f"  {size:,} [{time.perf_counter() - began:6.1f} s]: {what}", file=sys.stderr, flush=True)

        log("build")
        read_and_parse(folder)  # the files into the page cache first: the build that follows reads them warm
        floor = statistics.median(timed(lambda: read_and_parse(folder)) for _ in range(args.repeat))
        builds = [cold_build(folder, instance) for _ in range(repeat)]
        build = statistics.median(b["wall_s"] for b in builds)
        r["build"] = {"read_and_parse_floor_s": round(floor, 3), "cold_build_s": round(build, 2),
                      "ratio": round(build / floor, 2),
                      **{key: round(statistics.median(b[key] for b in builds), 2)
                         for key in ("writer_cpu_s", "worker_cpu_s")},
                      "stages_us": build_stages(folder)}
        r["refresh"] = {
            "changed_10_s": round(statistics.median(
                refresh_after_edits(folder, instance, 10, n, True) for n in range(args.repeat)), 3),
            "changed_10_full_scan_s": round(statistics.median(
                refresh_after_edits(folder, instance, 10, n, False) for n in range(args.repeat)), 3)}
        log("export-static")
        skipped = {"available": False, "note": "not measured in this run (--skip-export)"}
        if args.skip_export:
            r["export_static"] = r["export_static_image_server"] = skipped
        else:
            r["export_static"] = (export_static(folder, instance, scratch, args.export_timeout)
                                  if size <= args.export_images_up_to else
                                  {"available": False, "note": f"with page images: not run above "
                                   f"{args.export_images_up_to:,} records (--export-images-up-to); see the smaller sizes"})
            r["export_static_image_server"] = export_static(folder, instance, scratch, args.export_timeout,
                                                            image_server="http://127.0.0.1:5000")
        log("in-process manifests")
        r["inprocess_manifest"] = inprocess.manifests(folder, instance, spread(ids, args.sample))

        static_root = scratch / "static"
        first = spread(ids[1:], args.first_time)  # ids[0] is left for priming, never in a first-time row
        warm = spread(ids, WARM_IDS)
        r["first_time"] = {}
        kinds = {"manifest": "/iiif/{}/manifest", "record JSON": "/api/records/{}", "record page": "/records/{}"}
        starts = []
        for kind, pattern in kinds.items():
            log(f"first-time {kind}s")
            with Catalog(folder, instance, args.workers) as server:
                starts.append(server.start_s)
                loadgen.sequential(server.base, [pattern.format(ids[0])] * 2 * args.workers)  # lazy imports, fonts
                r["first_time"][kind] = loadgen.once(server.base, [pattern.format(i) for i in first],
                                                     args.connections)
        log("first-time page images")
        with Catalog(folder, instance, args.workers) as server:
            starts.append(server.start_s)
            r["first_time_ceiling"] = loadgen.once(server.base, [f"/api/ping?{n}" for n in range(len(first))],
                                                   args.connections)
            loadgen.sequential(server.base, [f"/iiif/image/{ids[0]}/1/full/max/0/default.png"] * 2 * args.workers)
            images = [f"/iiif/image/{i}/1/full/max/0/default.png" for i in first[-args.images:]]
            r["first_time"]["page image"] = loadgen.once(server.base, images, args.connections)
            r["first_time"]["browse, new pages"] = loadgen.sequential(
                server.base, ["/", "/?page=2", "/?sort=title", "/?type=telegram", "/?classification=secret",
                              "/?place=Moscow&sort=title", "/collections", "/people"])
        r["server_start_s"] = round(statistics.median(starts), 2)

        log("OAI-PMH harvests")
        r["harvest"] = {}
        for count in (1, 4):
            with Catalog(folder, instance, args.workers) as server:
                r["harvest"][str(count)] = oai.harvests(server.base, count, keep=static_root / f"oai{count}")

        log("new searches")
        with Catalog(folder, instance, args.workers) as server:
            loadgen.sequential(server.base, ["/search?q=" + queries.WARM_QUERY, "/"] * 2 * args.workers)
            fresh = queries.Fresh()
            r["search_new"] = {kind: loadgen.sequential(server.base, paths) for kind, paths in
                               queries.search_classes(fresh, args.queries, numbers).items()}
            r["typing"] = {"search as you type (word*)":
                           loadgen.sequential(server.base, queries.typing(fresh, args.typing_words))}
            template = autocomplete_template(server.base)
            if template:
                r["typing"][f"autocomplete ({template.split('?')[0]})"] = loadgen.sequential(
                    server.base, queries.autocomplete_paths(template, args.typing_words))
            r["typing"]["IIIF content-search autocomplete (one record)"] = loadgen.sequential(
                server.base, queries.autocomplete_paths(f"/iiif/{first[0]}/autocomplete/2?q={{q}}",
                                                        args.typing_words))

            log("warm rows")
            fetch_to(server.base, [f"/iiif/{i}/manifest" for i in warm], static_root, lambda p: f"m/{p.split('/')[2]}.json")
            fetch_to(server.base, [f"/api/records/{i}" for i in warm], static_root, lambda p: f"r/{p.split('/')[3]}.json")
            collections = sorted({synthetic_record(int(i.split("-")[1]))["provenance"]["collection"]["name"]
                                  for i in warm})
            from catalog.model import slugify

            warm_paths = {
                "ceiling: constant response (gunicorn)": ["/api/ping"],
                "record JSON": [f"/api/records/{i}" for i in warm],
                "manifest": [f"/iiif/{i}/manifest" for i in warm],
                "record page": [f"/records/{i}" for i in warm],
                "collection": [f"/iiif/collection/{slugify(name)}" for name in collections],
                "browse with facets": ["/", "/?page=2", "/?sort=title"],
                "search, repeated query": ["/search?q=" + queries.WARM_QUERY],
                "OAI-PMH first page, repeated (memoized)": ["/oai?verb=ListRecords&metadataPrefix=oai_dc"],
                "page image": [f"/iiif/image/{i}/1/full/max/0/default.png" for i in warm[:20]],
            }
            r["warm"] = {name: steady_median(server.base, paths, args) for name, paths in warm_paths.items()}
            r["one_at_a_time_floor"] = {"gunicorn constant": loadgen.sequential(server.base, ["/api/ping"] * 200)}
            r["worker_rss_mb"] = server.worker_rss_mb()
            r["worker_private_mb"] = server.worker_rss_mb("RssAnon")
            r["worker_pss_mb"] = server.worker_rss_mb("Pss", "smaps_rollup")

        log("static file server")
        with StaticServer(static_root, scratch / "nginx", free_port(), args.workers) as static:
            r["static_server"] = static.name
            oai_pages = sorted(f"/oai1/{p.parent.name}/{p.name}" for p in (static_root / "oai1").rglob("*.xml"))
            r["static"] = {
                "manifest files": steady_median(static.base, [f"/m/{i}.json" for i in warm], args),
                "record JSON files": steady_median(static.base, [f"/r/{i}.json" for i in warm], args),
                "OAI-PMH page files": steady_median(static.base, oai_pages, args),
            }
            r["one_at_a_time_floor"]["static file"] = loadgen.sequential(static.base, [f"/m/{warm[0]}.json"] * 200)
            r["static_harvest"] = {}
            for count in (1, 4):
                pages = r["harvest"][str(count)]["pages_by_format"]
                r["static_harvest"][str(count)] = oai.static_harvests(static.base + f"/oai{count}", pages, count)
    return r


def machine() -> dict:
    memory_kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")).split()[1])
    return {"cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_generator": loadgen.generator(),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def failed_requests(report: dict) -> int:
    """Every failed request anywhere in the report (any row's `errors`)."""
    def walk(value) -> int:
        if isinstance(value, dict):
            return sum(int(v) if k == "errors" else walk(v) for k, v in value.items())
        if isinstance(value, list):
            return sum(walk(v) for v in value)
        return 0
    return walk(report["sizes"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (the median is reported)")
    parser.add_argument("--build-repeat", type=int, default=1, help="cold builds at 100,000 records")
    parser.add_argument("--seconds", type=float, default=10, help="load duration per warm row")
    parser.add_argument("--connections", type=int, default=4,
                        help="concurrent connections: 2 per sync worker keeps both busy without long queues")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--first-time", type=int, default=10_000,
                        help="distinct ids asked once each in the first-time rows (all public ids if fewer)")
    parser.add_argument("--images", type=int, default=30, help="page images rendered for the first time")
    parser.add_argument("--sample", type=int, default=200, help="records built in-process per manifest figure")
    parser.add_argument("--queries", type=int, default=20, help="new searches per query class")
    parser.add_argument("--typing-words", type=int, default=6, help="words typed, keystroke by keystroke")
    parser.add_argument("--skip-export", action="store_true", help="do not time `catalog export-static`")
    parser.add_argument("--export-timeout", type=float, default=3600, help="seconds `catalog export-static` may take")
    parser.add_argument("--export-images-up-to", type=int, default=1000,
                        help="largest size exported with its page images drawn (some 50 ms a sheet: 10,000 "
                             "records take an hour on 2 cores); every size is exported with --image-server")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "catalog-bench",
                        help="where generated records are kept between runs")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "benchmarks")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(),
              "settings": {"workers": args.workers, "connections": args.connections, "seconds": args.seconds,
                           "repeat": args.repeat, "first_time": args.first_time, "queries": args.queries},
              "sizes": []}
    for size in args.sizes:
        print(f"benchmarking {size:,} records ...", file=sys.stderr, flush=True)
        report["sizes"].append(bench_size(size, args.data, args))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "benchmark.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        (args.out / "benchmark.md").write_text(markdown(report), encoding="utf-8")
    with contextlib.suppress(BrokenPipeError):
        print(markdown(report))
    failures = failed_requests(report)
    if failures:
        print(f"{failures} failed requests", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
