"""Shared fixtures: apps over small record sets in tmp_path, a real gunicorn server, ../shared."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bench.generate import synthetic_record
from catalog import create_app

PROJECT = Path(__file__).resolve().parent.parent
SEED_RECORDS = PROJECT / "records"
SHARED = Path(os.environ.get("CATALOG_SHARED", PROJECT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A file from the standards' artifacts in ../shared, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: set CATALOG_SHARED to the folder holding iiif/, oai/ and seeds/")
    return path


def write_record(folder: Path, record: dict) -> Path:
    path = folder / f"{record['id']}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


@pytest.fixture
def records_dir(tmp_path: Path) -> Path:
    """A copy of the seed records that a test may change."""
    folder = tmp_path / "records"
    shutil.copytree(SEED_RECORDS, folder)
    return folder


@pytest.fixture
def make_app(tmp_path: Path):
    """Build an app over a records folder, with its own instance folder."""
    def build(folder: Path, **settings):
        config = {"TESTING": True, "CATALOG_RECORDS_DIR": str(folder),
                  "CATALOG_INSTANCE_DIR": str(tmp_path / f"instance-{folder.name}"),
                  "CATALOG_REFRESH_INTERVAL": 0}
        config.update(settings)
        return create_app(config)
    return build


@pytest.fixture
def app(make_app, records_dir):
    return make_app(records_dir)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def synthetic():
    """synthetic_record(n): deterministic, valid, varied records."""
    return synthetic_record


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn serving the app on 127.0.0.1 from a given records folder."""

    def __init__(self, records: Path, instance: Path, workers: int = 2, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "CATALOG_RECORDS_DIR": str(records), "CATALOG_INSTANCE_DIR": str(instance),
                       "CATALOG_REFRESH_INTERVAL": "0.2", **env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "60", "wsgi:app"], cwd=PROJECT, env=environment,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                requests.get(self.url + "/api/health", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def live_server(tmp_path: Path, records_dir: Path):
    """A real gunicorn server (2 workers) over a copy of the seed records."""
    server = LiveServer(records_dir, tmp_path / "instance-live")
    server.records_dir = records_dir
    yield server
    server.stop()
