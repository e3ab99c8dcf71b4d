"""Shared fixtures: apps over the tests' own fixture corpus, a real gunicorn server, ../shared.

The suite reads records only from `tests/fixtures/records/` (copies of the seeds plus a few
purpose-made records), never from the production `records/` folder, so a cataloger adding or
editing a record there breaks no test (tests/test_records_folder.py checks that folder on its own).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import requests

from bench.generate import synthetic_record
from catalog import create_app

pytest_plugins = ["tests.postgres_backend"]  # the `backend`, `database_url` and `postgres_cluster` fixtures

PROJECT = Path(__file__).resolve().parent.parent
FIXTURE_RECORDS = Path(__file__).parent / "fixtures" / "records"
SHARED = Path(os.environ.get("CATALOG_SHARED", PROJECT.parent / "shared"))

RESTRICTED_ID = "sealed-telegram-1944-01-01"
"""The fixture corpus's restricted record (with a reason and a release date far in the future)."""
ADDRESSEE_ID = "addressed-telegram-1946-03-05"
"""The fixture corpus's record with an addressee and a copy recipient."""
PUBLIC_IDS = sorted(path.stem for path in FIXTURE_RECORDS.glob("*.json")
                    if json.loads(path.read_text(encoding="utf-8"))["access"]["status"] == "open")
"""The ids every public surface lists: the corpus without its restricted record."""


# -- slow tests: deselected unless CI or --slow -----------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False,
                     help="run the tests marked slow too (as CI does: CI=true runs everything)")


def run_slow(config: pytest.Config) -> bool:
    """CI (CI=true, as CI services set it) and --slow run everything; so does `-m slow`."""
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return in_ci or config.getoption("--slow") or "slow" in (config.getoption("markexpr", "") or "")


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    if not run_slow(config):
        lines.append("slow tests deselected (browsers, gunicorn harvests and edits, load and benchmark): "
                     "run everything with `python -m pytest --slow` or `CI=true python -m pytest`")
    if not SHARED.is_dir():
        lines.append(f"{SHARED} is absent: behaviour is tested, conformance to the official IIIF and OAI-PMH "
                     "schemas is not (set CATALOG_SHARED to the folder holding iiif/ and oai/)")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if run_slow(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


# -- the standards' artifacts in ../shared -------------------------------------------------------

class ConformanceNotChecked(UserWarning):
    """A test ran its behaviour assertions but not its schema check: the artifact in ../shared is absent."""


def shared_artifact(*parts: str) -> Path | None:
    """A file from the standards' artifacts in ../shared, or None when it is absent."""
    path = SHARED.joinpath(*parts)
    return path if path.exists() else None


def conformance_not_checked(*parts: str) -> None:
    """Record (as a warning in the test's report) that a conformance check was left out."""
    warnings.warn(ConformanceNotChecked(
        f"{SHARED.joinpath(*parts)} is absent: conformance not checked (set CATALOG_SHARED)"), stacklevel=3)


def shared_path(*parts: str) -> Path:
    """An artifact for a test whose whole purpose is the artifact itself; skips the test when absent.
    Tests of behaviour use `shared_artifact` and leave out only their conformance check."""
    path = shared_artifact(*parts)
    if path is None:
        pytest.skip(f"{SHARED.joinpath(*parts)} is absent: set CATALOG_SHARED to the folder with iiif/ and oai/")
    return path


# -- records and apps -------------------------------------------------------------------------

def write_record(folder: Path, record: dict) -> Path:
    path = folder / f"{record['id']}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def synthetic_folder(folder: Path, count: int) -> Path:
    """A new folder holding synthetic records 0 to count - 1 (`bench.generate.synthetic_record`)."""
    folder.mkdir()
    for n in range(count):
        write_record(folder, synthetic_record(n))
    return folder


def app_config(records: Path, instance: Path, **settings) -> dict:
    config = {"TESTING": True, "CATALOG_RECORDS_DIR": str(records), "CATALOG_INSTANCE_DIR": str(instance),
              "CATALOG_REFRESH_INTERVAL": 0}
    config.update(settings)
    return config


@pytest.fixture
def records_dir(tmp_path: Path) -> Path:
    """A copy of the fixture corpus that a test may change."""
    folder = tmp_path / "records"
    shutil.copytree(FIXTURE_RECORDS, folder)
    return folder


class Clock:
    """The index's clock, moved by the test: datestamps differ without sleeping."""

    def __init__(self):
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float = 1) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_app(tmp_path: Path, backend):
    """Build an app over a records folder, with its own instance folder, on the test's index backend."""
    def build(folder: Path, **settings):
        return create_app(app_config(folder, tmp_path / f"instance-{folder.name}", **{**backend.settings, **settings}))
    return build


@pytest.fixture
def app(make_app, records_dir):
    """An app of the test's own, for tests that change records, the index or the configuration."""
    return make_app(records_dir)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def read_records(tmp_path_factory) -> Path:
    """A copy of the fixture corpus shared by the whole session: no test may change it."""
    folder = tmp_path_factory.mktemp("read-only") / "records"
    shutil.copytree(FIXTURE_RECORDS, folder)
    return folder


@pytest.fixture(scope="session")
def read_app(read_records):
    """One app over the fixture corpus, built once per session, for the many tests that only read."""
    return create_app(app_config(read_records, read_records.parent / "instance"))


def _state(app, folder: Path) -> tuple:
    """What a read-only test must leave as it found it: files, configuration, rows written to an index
    (any extension with an SQLite connection as `db`)."""
    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())
    writes = [getattr(getattr(ext, "db", None), "total_changes", None) for ext in app.extensions.values()]
    return files, dict(app.config), writes


@contextlib.contextmanager
def left_unchanged(app, folder: Path):
    """Fails the test if it changed a shared app's records, configuration or index."""
    before = _state(app, folder)
    yield
    assert _state(app, folder) == before, "a test changed a shared read-only app: give it an app of its own"


@pytest.fixture
def read_client(read_app, read_records):
    """A client of the shared read-only app (a test that changes anything uses `client` instead)."""
    with left_unchanged(read_app, read_records):
        yield read_app.test_client()


@pytest.fixture
def synthetic():
    """synthetic_record(n): deterministic, valid, varied records."""
    return synthetic_record


# -- a real server -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn serving the app on 127.0.0.1 from a given records folder."""

    START_TIMEOUT = 60

    def __init__(self, records: Path, instance: Path, workers: int = 2, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "CATALOG_RECORDS_DIR": str(records), "CATALOG_INSTANCE_DIR": str(instance),
                       "CATALOG_REFRESH_INTERVAL": "0.2", **env}
        # gunicorn's log goes to a file, not a pipe nobody reads (a full pipe would block the server)
        self.log_path = instance.with_name(f"{instance.name}-gunicorn.log")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "60", "wsgi:app"], cwd=PROJECT, env=environment,
            stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + self.START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}:\n{self.stderr()}")
            try:
                requests.get(self.url + "/api/health", timeout=2)
                return
            except requests.RequestException as error:  # refused, reset, or a worker still starting
                last_error = error
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {self.START_TIMEOUT} s "
                           f"(last error: {last_error}):\n{self.stderr()}")

    def stderr(self, limit: int = 4000) -> str:
        """The end of what gunicorn wrote to stderr."""
        return self.log_path.read_bytes()[-limit:].decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def live_server(tmp_path: Path, records_dir: Path):
    """A real gunicorn server (2 workers) over a copy of the fixture corpus."""
    server = LiveServer(records_dir, tmp_path / "instance-live")
    server.records_dir = records_dir
    yield server
    server.stop()
