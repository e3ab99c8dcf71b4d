"""The benchmark: index build, refresh, start-up, memory, per-endpoint load and a full harvest.

    python -m bench.run                      # 1,000, 10,000 and 100,000 records
    python -m bench.run --sizes 1000 --seconds 2 --repeat 1 --out /tmp/smoke   # the CI smoke run

For each catalog size it measures, next to the floors and ceilings taken in the same run:
cold index build vs reading and json.loads of the same files; refresh after 10 changed files;
server start with an existing index; resident memory per gunicorn worker; throughput and
p50/p95/p99 latency under wrk (or a Python client when wrk is absent) for each endpoint vs the
same server returning a constant byte string; a full Sickle harvest. Numbers are medians of
`--repeat` runs. Results go to `<out>/benchmark.json` and `<out>/benchmark.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

from bench.generate import RARE
from bench.generate import WORDS
from bench.generate import synthetic_record
from bench.generate import write_records
from bench.load import start_server
from catalog.index import SQLiteIndex
from catalog.index.projection import compress_source
from catalog.index.projection import content_hash
from catalog.index.projection import facet_values
from catalog.index.projection import index_columns
from catalog.index.projection import search_texts
from catalog.model import Record

PROJECT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("latency.lua")
PORT = 8790


def median_of(repeat: int, measure) -> float:
    return statistics.median(measure() for _ in range(repeat))


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def read_and_parse(folder: Path) -> None:
    for path in folder.iterdir():
        json.loads(path.read_bytes())


def cold_build(folder: Path, scratch: Path) -> dict:
    """Wall time of a cold build, and the CPU seconds its writer (this process) and its parsing
    workers spent: on 2 cores, their sum over 2 bounds how fast the build can be."""
    instance = scratch / "cold"
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


def server_start(folder: Path, instance: Path, workers: int) -> tuple[float, subprocess.Popen]:
    start = time.perf_counter()
    process = start_server(folder, instance, PORT, workers)
    return time.perf_counter() - start, process


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


def load(paths: list[str], seconds: float, connections: int) -> dict:
    """Throughput and latency for requests cycling through `paths`."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(paths) + "\n")
    try:
        if shutil.which("wrk"):
            output = subprocess.run(
                ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(LUA), f"http://127.0.0.1:{PORT}",
                 "--", handle.name], capture_output=True, text=True, check=True).stdout
            return json.loads(output.strip().splitlines()[-1])
        from concurrent.futures import ThreadPoolExecutor

        from bench.load import summarize

        times, errors = [], 0
        deadline = time.monotonic() + seconds
        session = requests.Session()

        def one(i):
            start = time.perf_counter()
            ok = session.get(f"http://127.0.0.1:{PORT}{paths[i % len(paths)]}", timeout=30).ok
            return time.perf_counter() - start, ok
        i, start = 0, time.monotonic()
        with ThreadPoolExecutor(connections) as pool:
            while time.monotonic() < deadline:
                for elapsed, ok in pool.map(one, range(i, i + connections)):
                    times.append(elapsed)
                    errors += not ok
                i += connections
        summary = summarize(times, time.monotonic() - start)
        return {**summary, "errors": errors}
    finally:
        os.unlink(handle.name)


def harvest(page_size_note: str) -> dict:
    from sickle import Sickle

    start = time.perf_counter()
    count = 0
    tokens = []
    sickle = Sickle(f"http://127.0.0.1:{PORT}/oai", max_retries=0, timeout=120)
    records = sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False)
    for _record in records:
        count += 1
        token = records.resumption_token
        if token is not None and token.token and (not tokens or tokens[-1] != token.token):
            tokens.append(token.token)
    elapsed = time.perf_counter() - start
    return {"records": count, "seconds": round(elapsed, 2), "per_second": round(count / elapsed, 1),
            "tokens": tokens, "note": page_size_note}


def endpoint_paths(folder: Path, ids: list[str], deep_token: str | None) -> dict[str, list[str]]:
    sample = ids[:: max(1, len(ids) // 200)][:200]
    slugs = sorted({synthetic_record(int(i.split("-")[1]))["provenance"]["collection"]["name"] for i in sample})
    from catalog.model import slugify

    paths = {
        "ceiling: constant response": ["/api/ping"],
        "record JSON": [f"/api/records/{i}" for i in sample],
        "record page": [f"/records/{i}" for i in sample],
        "manifest": [f"/iiif/{i}/manifest" for i in sample],
        "collection": [f"/iiif/collection/{slugify(s)}" for s in slugs],
        "browse with facets": ["/", "/?page=2", "/?sort=title"],
        "search: common word": ["/search?q=conference"],
        "search: rare word": ["/search?q=zanzibar"],
        "search: phrase": ["/search?q=" + quote('"peace cooperation"')],
        "OAI ListRecords first page": ["/oai?verb=ListRecords&metadataPrefix=oai_dc"],
        "page image (cached)": [f"/iiif/image/{i}/1/full/max/0/default.png" for i in sample[:20]],
    }
    if deep_token:
        paths["OAI ListRecords deep page"] = [f"/oai?verb=ListRecords&resumptionToken={quote(deep_token)}"]
    return paths


def sequential(paths: list[str]) -> dict:
    """One request after another, each timed: p50 and p95 of first-time (uncached) requests."""
    times = []
    for path in paths:
        start = time.perf_counter()
        requests.get(f"http://127.0.0.1:{PORT}{path}", timeout=120).raise_for_status()
        times.append(time.perf_counter() - start)
    times.sort()
    return {"requests": len(times), "p50_ms": round(1000 * times[len(times) // 2], 1),
            "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 1)}


def cold_images(ids: list[str], count: int) -> dict:
    return sequential([f"/iiif/image/{record_id}/1/full/max/0/default.png" for record_id in ids[-count:]])


def uncached_searches() -> dict[str, dict]:
    """Searches no worker has answered before (the load above repeats one query, which the
    result cache then serves): what a new query costs."""
    common = [word for word in WORDS if word != "conference"][:20]
    return {
        "common word": sequential([f"/search?q={word}" for word in common]),
        "rare word": sequential([f"/search?q={word}" for word in RARE if word != "zanzibar"]),
        "phrase": sequential(["/search?q=" + quote(f'"{a} {b}"') for a, b in itertools.pairwise(common)]),
    }


def bench_size(size: int, data_root: Path, args) -> dict:
    folder = data_root / f"records-{size}"
    if not folder.exists() or len(list(folder.glob("*.json"))) != size:
        shutil.rmtree(folder, ignore_errors=True)
        write_records(folder, size)
    ids = sorted(p.stem for p in folder.glob("*.json")
                 if synthetic_record(int(p.stem.split("-")[1]))["access"]["status"] == "open")
    result: dict = {"records": size}
    with tempfile.TemporaryDirectory(dir=data_root) as scratch_name:
        scratch = Path(scratch_name)
        floor = median_of(args.repeat, lambda: timed(lambda: read_and_parse(folder)))
        builds = [cold_build(folder, scratch) for _ in range(args.build_repeat if size >= 100_000 else args.repeat)]
        build = statistics.median(b["wall_s"] for b in builds)
        result["read_and_parse_floor_s"] = round(floor, 2)
        result["cold_build_s"] = round(build, 2)
        result["cold_build_ratio"] = round(build / floor, 2)
        result["cold_build_cpu_s"] = {key: round(statistics.median(b[key] for b in builds), 2)
                                      for key in ("writer_cpu_s", "worker_cpu_s")}
        result["build_stages_us"] = build_stages(folder)
        instance = scratch / "cold"
        result["refresh_10_changed_s"] = round(statistics.median(
            refresh_after_edits(folder, instance, 10, r, True) for r in range(args.repeat)), 3)
        result["refresh_10_changed_full_scan_s"] = round(statistics.median(
            refresh_after_edits(folder, instance, 10, r, False) for r in range(args.repeat)), 3)
        starts = []
        for _ in range(args.repeat):
            seconds, process = server_start(folder, instance, args.workers)
            starts.append(seconds)
            process.terminate()
            process.wait(30)
        result["server_start_s"] = round(statistics.median(starts), 2)
        _seconds, server = server_start(folder, instance, args.workers)
        try:
            result["harvest"] = harvest("page size 100")
            tokens = result["harvest"].pop("tokens")
            deep = tokens[int(len(tokens) * 0.9)] if tokens else None
            result["page_image_cold"] = cold_images(ids, min(30, len(ids)))
            result["load"] = {}
            for name, paths in endpoint_paths(folder, ids, deep).items():
                load(paths, 1, args.connections)  # warm-up: caches filled, images rendered
                runs = [load(paths, args.seconds, args.connections) for _ in range(args.repeat)]
                median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
                result["load"][name] = median
            ceiling = result["load"]["ceiling: constant response"]["per_second"]
            for values in result["load"].values():
                values["ratio_to_ceiling"] = round(values["per_second"] / ceiling, 2) if ceiling else None
            result["search_uncached"] = uncached_searches()
            result["worker_rss_mb"] = worker_rss_mb(server)
        finally:
            server.terminate()
            server.wait(30)
    return result


def machine() -> dict:
    memory_kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")).split()[1])
    return {"cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_generator": "wrk" if shutil.which("wrk") else "python threads",
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def targets(report: dict) -> list[tuple[str, str, str, bool]]:
    """(measure, target, result, met) for issue 7's targets, judged at the largest size measured."""
    big, small = report["sizes"][-1], report["sizes"][0]
    load = big["load"]

    def p95(name):
        return load[name]["p95_ms"]

    search = max(p95(name) for name in load if name.startswith("search"))
    fresh = max((v["p95_ms"] for v in big.get("search_uncached", {}).values()), default=None)
    first, deep = p95("OAI ListRecords first page"), p95("OAI ListRecords deep page")
    refresh = [big["refresh_10_changed_s"], small["refresh_10_changed_s"]]
    return [
        ("cold index build", "≤ 4 × floor", f"{big['cold_build_ratio']} ×", big["cold_build_ratio"] <= 4),
        ("refresh after 10 changed files", f"≤ 1 s, the same at {small['records']:,}",
         f"{refresh[0]} s ({refresh[1]} s at {small['records']:,})", max(refresh) <= 1),
        ("server start with an existing index", "≤ 2 s", f"{big['server_start_s']} s", big["server_start_s"] <= 2),
        ("memory per worker", "≤ 150 MB", f"{max(big['worker_rss_mb'])} MB", max(big["worker_rss_mb"]) <= 150),
        ("record JSON throughput", "≥ 0.5 × ceiling", f"{load['record JSON']['ratio_to_ceiling']} ×",
         load["record JSON"]["ratio_to_ceiling"] >= 0.5),
        ("manifest throughput", "≥ 0.5 × ceiling", f"{load['manifest']['ratio_to_ceiling']} ×",
         load["manifest"]["ratio_to_ceiling"] >= 0.5),
        ("browse with facets p95", "≤ 100 ms", f"{p95('browse with facets')} ms", p95("browse with facets") <= 100),
        ("search p95 (worst of three)", "≤ 50 ms",
         f"{search} ms; new queries, one at a time: p95 {fresh} ms" if fresh else f"{search} ms", search <= 50),
        ("OAI-PMH page p95", "≤ 150 ms", f"{first} ms", first <= 150),
        ("OAI-PMH deep page p95", "≤ 1.5 × first page", f"{round(deep / first, 2)} ×", deep <= 1.5 * first),
        ("full harvest", "≤ 300 s", f"{big['harvest']['seconds']} s", big["harvest"]["seconds"] <= 300),
        ("cached page image throughput", "≥ 0.5 × ceiling", f"{load['page image (cached)']['ratio_to_ceiling']} ×",
         load["page image (cached)"]["ratio_to_ceiling"] >= 0.5),
    ]


def markdown(report: dict) -> str:
    m = report["machine"]
    out = [(f"# Benchmark\n\nMachine: {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}, "
           f"{m['platform']}; load generator {m['load_generator']}; {report['settings']}; {m['date']}.\n"),
           f"## Targets at {report['sizes'][-1]['records']:,} records\n",
           "| measure | target | result | met |", "|---|---|---|---|",
           *(f"| {name} | {target} | {result} | {'yes' if met else '**no**'} |"
             for name, target, result, met in targets(report)), ""]
    for r in report["sizes"]:
        out += [f"## {r['records']:,} records\n",
                "| measure | value | ratio |", "|---|---|---|",
                f"| read-and-parse floor | {r['read_and_parse_floor_s']} s | 1 |",
                f"| cold index build | {r['cold_build_s']} s | {r['cold_build_ratio']} × floor |",
                (f"| cold build CPU: index writer + parsing workers | {r['cold_build_cpu_s']['writer_cpu_s']} s + "
                 f"{r['cold_build_cpu_s']['worker_cpu_s']} s | "
                 f"{round(sum(r['cold_build_cpu_s'].values()) / r['read_and_parse_floor_s'], 1)} × floor |"),
                ("| CPU per record, one process (µs) | "
                 + "; ".join(f"{name} {us}" for name, us in r["build_stages_us"].items()) + " | |"),
                f"| refresh after 10 changed files (inotify: just those files) | {r['refresh_10_changed_s']} s | |",
                f"| refresh after 10 changed files (full scan fallback) | {r['refresh_10_changed_full_scan_s']} s | |",
                f"| server start with existing index | {r['server_start_s']} s | |",
                f"| resident memory per worker | {', '.join(map(str, r['worker_rss_mb']))} MB | |",
                (f"| full Sickle harvest | {r['harvest']['records']} records in {r['harvest']['seconds']} s "
                f"({r['harvest']['per_second']}/s) | |"),
                (f"| page image, cold render | p50 {r['page_image_cold']['p50_ms']} ms, "
                f"p95 {r['page_image_cold']['p95_ms']} ms | |"),
                *(f"| search, {kind}, new query (uncached, one at a time) | p50 {v['p50_ms']} ms, "
                  f"p95 {v['p95_ms']} ms ({v['requests']} queries) | |"
                  for kind, v in r.get("search_uncached", {}).items()), "",
                "| endpoint | req/s | ratio to ceiling | p50 ms | p95 ms | p99 ms | errors |",
                "|---|---|---|---|---|---|---|"]
        for name, v in r["load"].items():
            out.append(f"| {name} | {v['per_second']} | {v['ratio_to_ceiling']} | {v['p50_ms']} | "
                       f"{v['p95_ms']} | {v['p99_ms']} | {int(v['errors'])} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (the median is reported)")
    parser.add_argument("--build-repeat", type=int, default=1, help="cold builds at 100,000 records")
    parser.add_argument("--seconds", type=float, default=10, help="load duration per endpoint")
    parser.add_argument("--connections", type=int, default=4,
                        help="concurrent connections: 2 per sync worker keeps both busy without long queues")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "catalog-bench",
                        help="where generated records are kept between runs")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "benchmarks")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(),
              "settings": f"{args.workers} gunicorn workers, {args.connections} connections, "
                          f"{args.seconds} s per endpoint, median of {args.repeat}",
              "sizes": []}
    for size in args.sizes:
        print(f"benchmarking {size} records ...", file=sys.stderr)
        report["sizes"].append(bench_size(size, args.data, args))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "benchmark.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        (args.out / "benchmark.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    errors = sum(int(v["errors"]) for r in report["sizes"] for v in r["load"].values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
