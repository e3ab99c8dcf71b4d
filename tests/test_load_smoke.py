"""The load script runs briefly in CI as a smoke test: 50 clients, a mixed workload, zero errors."""

import pytest

from bench.load import main
from tests.conftest import free_port


@pytest.mark.slow
def test_mixed_load_has_no_errors(tmp_path):
    report = tmp_path / "load.md"
    assert main(["--records", "200", "--clients", "50", "--seconds", "4", "--port", str(free_port()),
                 "--report", str(report)]) == 0
    table = report.read_text()
    for kind in ("browse", "search", "page", "json", "manifest", "image", "oai"):
        assert f"| {kind} |" in table
