"""The benchmark runs in CI, reduced (1,000 records, a second per warm row, a few ids, queries and
images): it must complete, write its report, see no failed request, and give every first-time
row its reference. Its figures are not judged here; the query generator's promise (no search is
ever asked twice, so none is a cache hit) is."""

import json

import pytest

from bench import queries
from bench.run import failed_requests
from bench.run import main

SMOKE = ["--sizes", "1000", "--seconds", "1", "--repeat", "1", "--first-time", "200", "--images", "5",
         "--sample", "20", "--queries", "5", "--typing-words", "2",
         "--export-images-up-to", "0"]  # exported without drawing page images: seconds, not minutes


def test_new_searches_are_never_repeated_and_cover_every_class():
    fresh = queries.Fresh()
    classes = queries.search_classes(fresh, 20, list(range(1000)))
    typed = queries.typing(fresh, 3)
    everything = [path for paths in classes.values() for path in paths] + typed
    assert set(classes) == {"rare word", "common word", "phrase", "two words", "facet-filtered"}
    assert all(len(paths) == 20 for paths in classes.values())
    assert len(everything) == len(set(everything))
    assert "/search?q=" + queries.WARM_QUERY not in everything
    assert all("&" in path for path in classes["facet-filtered"])
    assert all(path.startswith("/search?q=%22") for path in classes["phrase"])
    first_word = [path for path in typed if path.startswith(typed[0][:len("/search?q=") + 2])]
    assert [len(path) for path in first_word] == sorted(len(path) for path in first_word)  # one keystroke more each


@pytest.mark.slow
def test_reduced_benchmark_completes_with_first_time_rows_beside_their_references(tmp_path):
    out = tmp_path / "report"
    assert main([*SMOKE, "--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    report = json.loads((out / "benchmark.json").read_text())
    assert failed_requests(report) == 0
    [size] = report["sizes"]
    assert size["records"] == 1000
    for kind in ("manifest", "record JSON", "record page", "page image"):
        assert size["first_time"][kind]["requests"] > 0, kind
    assert size["first_time"]["manifest"]["requests"] == 200  # each id once, no more
    assert size["first_time_ceiling"]["per_second"] > 0
    assert all(row["per_second"] > 0 for row in size["static"].values())
    assert size["harvest"]["1"]["records"] > 900
    assert size["harvest"]["4"]["harvesters"] == 4 and size["harvest"]["4"]["records"] > 3600
    assert all(v["requests"] == 5 for v in size["search_new"].values())
    table = (out / "benchmark.md").read_text()
    for kind in ("manifest", "record JSON"):  # a first-time row with the ceiling and the static twin beside it
        row = next(line for line in table.splitlines() if line.startswith(f"| {kind} | first time |"))
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        assert cells[3].endswith("×") and cells[4].endswith("×"), row
    assert "| ceiling: constant response (gunicorn), each path once |" in table
    assert "| first-time manifest throughput |" in table and "| cold build |" in table
    assert "with page images: not run above 0 records" in table
    assert size["export_static_image_server"]["available"] and size["export_static_image_server"]["files"] > 5000
    assert "| catalog export-static --image-server" in table
    assert all(mb > 0 for mb in size["worker_pss_mb"]) and "| memory per worker (proportional set size) |" in table


def test_the_engine_comparison_sends_every_new_search_to_both_engines_and_they_agree(tmp_path):
    from bench import search_engines

    result = search_engines.main(["--records", "300", "--queries", "3", "--data", str(tmp_path / "data"),
                                  "--out", str(tmp_path / "out")])
    assert set(result["classes"]) >= {"rare word", "common word", "phrase", "two words", "facet-filtered"}
    for name, row in result["classes"].items():
        assert row["queries"] > 0 and row["same totals"], name
        assert row["fts5"]["p95_ms"] > 0 and row["tantivy"]["p95_ms"] > 0
    assert "| common word |" in (tmp_path / "out" / "search-engines.md").read_text()


@pytest.mark.slow
def test_the_scale_out_comparison_runs_both_backends_and_writes_its_report(tmp_path):
    from bench import scale_out
    from tests.postgres_backend import why_no_postgres

    reason = why_no_postgres()
    if reason:
        pytest.skip(reason)
    assert scale_out.main(["--records", "200", "--seconds", "1", "--data", str(tmp_path / "data"),
                           "--out", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "scale-out.md").read_text()
    assert "## 200 records" in report and "| cold build (s) |" in report
    rows = json.loads((tmp_path / "out" / "scale-out.json").read_text())["sizes"][0]["rows"]
    for backend in ("sqlite", "postgres"):
        assert rows["harvest 1"][backend]["complete"] and rows["harvest 1"][backend]["errors"] == 0
        for servers in (1, 2, 4):
            row = rows[f"throughput {servers}"][backend]
            assert row["servers"] == servers and row["per_second"] > 0 and row["errors"] == 0
