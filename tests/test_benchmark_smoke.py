"""The benchmark runs in CI, reduced (1,000 records, a second of load per endpoint): it must
complete, write its report and see no failed request. Its figures are not checked here."""

import json

import pytest

from bench.run import main


@pytest.mark.slow
def test_reduced_benchmark_completes_without_errors(tmp_path):
    out = tmp_path / "report"
    assert main(["--sizes", "1000", "--seconds", "1", "--repeat", "1", "--data", str(tmp_path / "data"),
                 "--out", str(out)]) == 0
    report = json.loads((out / "benchmark.json").read_text())
    [size] = report["sizes"]
    assert size["records"] == 1000
    assert size["harvest"]["records"] > 900
    assert all(values["errors"] == 0 and values["requests"] > 0 for values in size["load"].values())
    assert "| ceiling: constant response |" in (out / "benchmark.md").read_text()
