"""The benchmark's report: tables from `bench.run`'s results, and the targets judged.

Every row carries its reference: a throughput beside the constant-bytes gunicorn ceiling and the
static file server serving the same bytes; a build beside the read-and-parse floor; a harvest
beside the same pages fetched as files; a one-at-a-time latency beside one-at-a-time requests for
a constant response and a static file. `targets(report)` judges issue 15's targets at the largest
size measured (issue 7's earlier ones follow in their own table).
"""

from __future__ import annotations

CEILING = "ceiling: constant response (gunicorn)"
STATIC_TWIN = {"manifest": "manifest files", "record JSON": "record JSON files"}


def _ratio(value: float, reference: float | None) -> str:
    if not reference:
        return "–"
    ratio = value / reference
    return f"{ratio:.2f} ×" if ratio >= 0.1 else f"{ratio:.3f} ×"


def _num(value) -> str:
    return f"{value:,}" if isinstance(value, int) else (f"{value:,.1f}" if isinstance(value, float) else str(value))


def targets(report: dict) -> list[tuple[str, str, str, str, bool | None]]:
    """(measure, target, result, reference, met) for issue 15's targets at the largest size."""
    r = report["sizes"][-1]
    ceiling = r["warm"][CEILING]["per_second"]
    static = r["static"]
    floor = r["one_at_a_time_floor"]
    one_ref = (f"one request at a time: static file p95 {floor['static file']['p95_ms']} ms, "
               f"gunicorn constant p95 {floor['gunicorn constant']['p95_ms']} ms")
    rows: list[tuple[str, str, str, str, bool | None]] = []
    for kind, v in r["search_new"].items():
        rows.append((f"new search p95, {kind} (facet counts included)", "≤ 50 ms",
                     f"{v['p95_ms']} ms (p50 {v['p50_ms']} ms, {v['requests']} queries)", one_ref, v["p95_ms"] <= 50))
    typing = r["typing"]
    judged = next((k for k in typing if k.startswith("autocomplete")), "search as you type (word*)")
    rows.append((f"typing-speed autocomplete p95: {judged}", "≤ 20 ms",
                 f"{typing[judged]['p95_ms']} ms ({typing[judged]['requests']} keystrokes)", one_ref,
                 typing[judged]["p95_ms"] <= 20))
    first, first_ceiling = r["first_time"]["manifest"]["per_second"], r["first_time_ceiling"]["per_second"]
    rows.append(("first-time manifest throughput", "≥ 0.5 × gunicorn ceiling",
                 f"{_ratio(first, first_ceiling)} ({_num(first)} req/s)",
                 (f"gunicorn constant, each path once {_num(first_ceiling)} req/s (cycling: {_num(ceiling)}); static "
                  f"files {_num(static['manifest files']['per_second'])} req/s "
                  f"({_ratio(first, static['manifest files']['per_second'])})"), first >= 0.5 * first_ceiling))
    for kind in ("manifest", "record JSON"):
        warm = r["warm"][kind]["per_second"]
        twin = static[STATIC_TWIN[kind]]["per_second"]
        rows.append((f"warm {kind} throughput", "≥ 0.8 × gunicorn ceiling", f"{_ratio(warm, ceiling)} ({_num(warm)} req/s)",
                     f"gunicorn constant {_num(ceiling)} req/s; static files {_num(twin)} req/s ({_ratio(warm, twin)})",
                     warm >= 0.8 * ceiling))
    four, four_static = r["harvest"]["4"], r["static_harvest"]["4"]
    rows.append(("OAI-PMH page p95, 4 harvesters at once", "≤ 150 ms", f"{four['page_p95_ms']} ms",
                 f"the same pages as static files, 4 at once: p95 {four_static['page_p95_ms']} ms",
                 four["page_p95_ms"] <= 150))
    one, one_static = r["harvest"]["1"], r["static_harvest"]["1"]
    rows.append(("full harvest (one harvester)", "≤ 3 × static-file baseline",
                 f"{_ratio(one['seconds'], one_static['seconds'])} ({one['seconds']} s, {_num(one['records'])} records)",
                 f"the same {one['pages']} pages as static files: {one_static['seconds']} s",
                 one["seconds"] <= 3 * one_static["seconds"]))
    b = r["build"]
    rows.append(("cold build", "≤ 4 × read-and-parse floor", f"{b['ratio']} × ({b['cold_build_s']} s)",
                 f"read + json.loads of every file: {b['read_and_parse_floor_s']} s", b["ratio"] <= 4))
    pss = max(r["worker_pss_mb"]) if r.get("worker_pss_mb") else None
    rss = max(r["worker_rss_mb"]) if r["worker_rss_mb"] else None
    private = max(r["worker_private_mb"]) if r.get("worker_private_mb") else None
    rows.append(("memory per worker (proportional set size)", "≤ 150 MB",
                 f"{pss} MB" if pss is not None else "not measured",
                 (f"after the warm rows: private {private} MB; resident set {rss} MB, counting in full the "
                  "index and mirror files both workers map"), pss is not None and pss <= 150))
    for key, label in (("export_static", "catalog export-static"),
                       ("export_static_image_server", "catalog export-static --image-server (page images left to the live server)")):
        export = r.get(key)
        if export is None:
            continue
        if export["available"]:
            rows.append((label, "< 3 × cold build", (f"{_ratio(export['seconds'], b['cold_build_s'])} "
                         f"({export['seconds']} s, {_num(export['files'])} files)"), f"cold build {b['cold_build_s']} s",
                         export["seconds"] < 3 * b["cold_build_s"]))
        else:
            rows.append((label, "< 3 × cold build", export["note"], f"cold build {b['cold_build_s']} s", None))
    return rows


def earlier_targets(report: dict) -> list[tuple[str, str, str, str, bool | None]]:
    """Issue 7's targets, still watched."""
    big, small = report["sizes"][-1], report["sizes"][0]
    refresh = [big["refresh"]["changed_10_s"], small["refresh"]["changed_10_s"]]
    browse = big["warm"]["browse with facets"]["p95_ms"]
    image = big["warm"]["page image"]["per_second"]
    ceiling = big["warm"][CEILING]["per_second"]
    return [
        ("refresh after 10 changed files", f"≤ 1 s, the same at {small['records']:,}",
         f"{refresh[0]} s ({refresh[1]} s at {small['records']:,})", ("full rescan: "
         f"{big['refresh']['changed_10_full_scan_s']} s"), max(refresh) <= 1),
        ("server start with an existing index", "≤ 2 s", f"{big['server_start_s']} s", "", big["server_start_s"] <= 2),
        ("browse with facets p95 (warm)", "≤ 100 ms", f"{browse} ms",
         f"new browse pages, one at a time: p95 {big['first_time']['browse, new pages']['p95_ms']} ms", browse <= 100),
        ("cached page image throughput", "≥ 0.5 × gunicorn ceiling", _ratio(image, ceiling),
         f"first render: p95 {big['first_time']['page image']['p95_ms']} ms", image >= 0.5 * ceiling),
    ]


def _targets_table(rows) -> list[str]:
    verdict = {True: "yes", False: "**no**", None: "–"}
    return ["| measure | target | result | reference (same run) | met |", "|---|---|---|---|---|",
            *(f"| {name} | {target} | {result} | {ref} | {verdict[met]} |" for name, target, result, ref, met in rows),
            ""]


def _size(r: dict) -> list[str]:
    b, m = r["build"], r["inprocess_manifest"]
    ceiling = r["warm"][CEILING]["per_second"]
    cpu = b["writer_cpu_s"] + b["worker_cpu_s"]
    out = [f"## {r['records']:,} records ({r['public']:,} public)\n",
           "### Build, refresh, start, export\n",
           "| measure | value | reference |", "|---|---|---|",
           f"| read-and-parse floor (read + json.loads, every file, one process) | {b['read_and_parse_floor_s']} s | 1 × |",
           f"| cold index build | {b['cold_build_s']} s | {b['ratio']} × floor |",
           (f"| cold build CPU: index writer + parsing workers | {b['writer_cpu_s']} s + {b['worker_cpu_s']} s | "
           f"{cpu / b['read_and_parse_floor_s']:.1f} × floor |"),
           "| CPU per record, one process (µs) | " + "; ".join(f"{k} {v}" for k, v in b["stages_us"].items()) + " | |",
           f"| refresh after 10 changed files (the watcher's path) | {r['refresh']['changed_10_s']} s | |",
           f"| refresh after 10 changed files (full scan) | {r['refresh']['changed_10_full_scan_s']} s | |",
           f"| server start with an existing index | {r['server_start_s']} s | |",
           *(_export_line(label, r[key], b) for key, label in (
               ("export_static", "catalog export-static"),
               ("export_static_image_server", "catalog export-static --image-server")) if key in r),
           (f"| memory per worker: proportional set (Pss) | {', '.join(map(str, r.get('worker_pss_mb') or ['not measured']))} MB | "
            f"resident set (VmRSS) {', '.join(map(str, r['worker_rss_mb']))} MB; "
            f"private (RssAnon) {', '.join(map(str, r.get('worker_private_mb') or ['not measured']))} MB |"), "",
           f"### Manifests in one process (µs per manifest, {m['sample']} records, each built once)\n",
           "| build | µs | reference |", "|---|---|---|",
           f"| floor: read + json.loads of the record file | {m['floor_us']} | 1 × |"]
    for key, label in (("ours_builder_us", "ours: read, validate, build, serialize"),
                       ("ours_request_us", "ours: whole first-time request through Flask (no HTTP)"),
                       ("prezi3_us", "iiif-prezi3: model objects of the same manifest, serialized")):
        value = m[key]
        ref = f"{value / m['floor_us']:.1f} × floor" if isinstance(value, float) and m["floor_us"] else ""
        if key == "prezi3_us" and isinstance(value, float) and isinstance(m["ours_builder_us"], float):
            ref += f"; ours builder {m['ours_builder_us'] / value:.2f} × prezi3"
        out.append(f"| {label} | {value} | {ref} |")
    out += ["", "### Throughput: first-time and warm, beside the ceilings\n",
            (f"Load: {r['static_server']} for the static rows. First-time rows ask each of "
            f"{r['first_time']['manifest']['requests']:,} ids once from a freshly started server.\n"),
            "| row | caches | req/s | × gunicorn ceiling (same mode) | × static, same bytes | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---|---|---|---|---|---|---|---|"]
    static = r["static"]

    def line(name, cache, v, twin=None, against=ceiling):
        twin_ratio = _ratio(v["per_second"], static[twin]["per_second"]) if twin else "–"
        return (f"| {name} | {cache} | {_num(v['per_second'])} | {_ratio(v['per_second'], against)} | {twin_ratio} | "
                f"{v['p50_ms']} | {v['p95_ms']} | {v['p99_ms']} | {int(v['errors'])} |")

    first_ceiling = r["first_time_ceiling"]["per_second"]
    out.append(line("ceiling: constant response (gunicorn), each path once", "ceiling", r["first_time_ceiling"],
                    against=first_ceiling))
    for name, v in r["first_time"].items():
        if name != "browse, new pages":
            out.append(line(name, "first time", v, STATIC_TWIN.get(name), against=first_ceiling))
    for name, v in r["warm"].items():
        out.append(line(name, "ceiling" if name == CEILING else "warm", v,
                        "OAI-PMH page files" if name.startswith("OAI") else STATIC_TWIN.get(name)))
    for name, v in static.items():
        out.append(line(f"static: {name}", "files", v))
    out += ["", "### OAI-PMH full harvests (every page a first-time page, fresh server)\n",
            ("| harvesters | formats | records | pages | total s | page p50 ms | page p95 ms | static total s | "
            "static page p95 ms | × static time | errors |"), "|---|---|---|---|---|---|---|---|---|---|---|"]
    for count, h in r["harvest"].items():
        s = r["static_harvest"][count]
        out.append(f"| {count} | {', '.join(h['formats'])} | {h['records']:,} | {h['pages']:,} | {h['seconds']} | "
                   f"{h['page_p50_ms']} | {h['page_p95_ms']} | {s['seconds']} | {s['page_p95_ms']} | "
                   f"{_ratio(h['seconds'], s['seconds'])} | {h['errors'] + s['errors']} |")
    floor = r["one_at_a_time_floor"]
    out += ["", "### New searches and keystrokes, one at a time (never asked before: no cache hit)\n",
            (f"Reference, one request at a time: a static file p50/p95 {floor['static file']['p50_ms']}/"
            f"{floor['static file']['p95_ms']} ms; gunicorn's constant response "
            f"{floor['gunicorn constant']['p50_ms']}/{floor['gunicorn constant']['p95_ms']} ms.\n"),
            "| query class | requests | p50 ms | p95 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    for name, v in [*r["search_new"].items(), *r["typing"].items(),
                    ("browse, new pages (facets)", r["first_time"]["browse, new pages"])]:
        out.append(f"| {name} | {v['requests']} | {v['p50_ms']} | {v['p95_ms']} | {v['p99_ms']} | {int(v['errors'])} |")
    out.append("")
    return out


def markdown(report: dict) -> str:
    m, s = report["machine"], report["settings"]
    big = report["sizes"][-1]["records"]
    out = [(f"# Benchmark\n\nMachine: {m['cores']} cores, {m['memory_gb']} GB, Python {m['python']}, {m['platform']}; "
           f"load generator {m['load_generator']}; static file server {report['sizes'][-1]['static_server']}; "
           f"{s['workers']} gunicorn workers, {s['connections']} connections, {s['seconds']} s per warm row, "
           f"median of {s['repeat']}; {m['date']}. Generated by `python -m bench.run`; "
           "[README.md](README.md) explains each row.\n"),
           f"## Targets at {big:,} records (issue 15)\n", *_targets_table(targets(report)),
           f"## Earlier targets at {big:,} records (issue 7)\n", *_targets_table(earlier_targets(report))]
    for r in report["sizes"]:
        out += _size(r)
    return "\n".join(out)


def _export_line(label: str, export: dict, b: dict) -> str:
    if not export["available"]:
        return f"| {label} | {export['note']} | |"
    return (f"| {label} | {export['seconds']} s ({export['files']:,} files) | "
            f"{export['seconds'] / b['cold_build_s']:.2f} × cold build |")
