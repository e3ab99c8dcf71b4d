"""App servers for the scale-out benchmark: gunicorn over one backend, started afresh for each row.

A `Backend` is one built index: SQLite (the embedded index in one instance folder, which servers
can share only on one machine) or PostgreSQL (a database every server reaches; each server keeps
only its own caches in an instance folder of its own). Every server gets the same OAI-PMH token
secret, as in production, and nothing but 127.0.0.1 is ever asked.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Self

import requests

PROJECT = Path(__file__).resolve().parent.parent
SECRET = "scale-out-benchmark"
"""One OAI-PMH token secret for every server, so any server resumes another's tokens."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load() -> str:
    """The 1-, 5- and 15-minute load averages, as `uptime` shows them: what else the machine ran."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its children so far (0 for what has gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    total = 0.0
    for member in [str(pid), *(children.read_text().split() if children.exists() else [])]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy so far (all processes, anyone's)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Backend:
    """One built index and how servers reach it."""

    name: str
    records: Path
    instance: Path
    url: str = ""
    postgres_pid: int | None = None
    """The database server's postmaster (its CPU is counted in the throughput rows)."""
    settle: bool = True
    """Wait, after a start, for each worker's first scan of the folder (at 10,000 files or more it
    takes a second or more of CPU; below, it is over before it could be measured)."""
    built: set[str] = field(default_factory=set)
    """What the cold build left in the SQLite instance folder: the index (its SQLite files, the
    full-text mirror, whatever the index's layout is), kept between rows; the rest is cache."""
    _servers: itertools.count = field(default_factory=itertools.count)

    def mark_built(self) -> None:
        self.built = {path.name for path in self.instance.iterdir()} - {"refresh.lock"}

    @property
    def key(self) -> str:
        return "postgres" if self.url else "sqlite"

    def server_instance(self) -> Path:
        """The instance folder of the next server: SQLite's one index folder, caches emptied (every row
        starts cold); for PostgreSQL a new empty folder (the server's own caches, none shared)."""
        if self.url:
            return self.instance / f"server-{next(self._servers)}"
        for path in self.instance.iterdir():
            if path.name not in self.built and not path.name.startswith(tuple(self.built)):  # -wal, -shm
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        return self.instance

    def index_bytes(self) -> int:
        """Bytes of the index on disk: what the build left in the SQLite instance folder, or every
        table of the database with its indexes and TOAST (`pg_total_relation_size`)."""
        if not self.url:
            return sum(p.stat().st_size for name in self.built for p in [self.instance / name,
                       *(self.instance / name).rglob("*")] if p.is_file())
        import psycopg

        with psycopg.connect(self.url) as conn:
            return int(conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm')").fetchone()[0])


class Servers:
    """`count` gunicorn servers (`workers` each) over `backend`, on their own loopback ports."""

    def __init__(self, backend: Backend, count: int = 1, workers: int = 1, start_timeout: float = 900):
        self.processes: list[subprocess.Popen] = []
        self.bases: list[str] = []
        self.own: list[Path] = []  # a PostgreSQL server's instance folder: its caches, removed after
        try:
            instances = [backend.server_instance() for _ in range(count)]
            self.own = instances if backend.url else []
            for instance in instances:
                port = free_port()
                env = {**os.environ, "CATALOG_RECORDS_DIR": str(backend.records),
                       "CATALOG_INSTANCE_DIR": str(instance), "CATALOG_DATABASE_URL": backend.url,
                       "CATALOG_OAI_TOKEN_SECRET": SECRET}
                self.processes.append(subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                     "wsgi:app"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                self.bases.append(f"http://127.0.0.1:{port}")
            for process, base in zip(self.processes, self.bases, strict=True):
                _wait_for(process, base, start_timeout)
                for _ in range(4 * workers):  # every worker booted, its index opened and its watcher started
                    requests.get(base + "/api/health", timeout=start_timeout)
            if backend.settle:
                self.settle(start_timeout)
        except BaseException:
            self.stop()
            raise

    @property
    def base(self) -> str:
        return self.bases[0]

    def cpu_seconds(self) -> float:
        """CPU time of every server process and its workers so far."""
        return sum(tree_cpu_seconds(process.pid) for process in self.processes)

    def settle(self, timeout: float) -> None:
        """Wait until the servers are idle (below 5% of a core for two seconds): each worker's watcher
        scans the whole records folder once after start, which is not the work of any row."""
        deadline = time.monotonic() + timeout
        time.sleep(1.5)  # a watcher waits up to a second (the refresh interval) before its first scan
        before, idle = self.cpu_seconds(), 0
        while time.monotonic() < deadline and idle < 2:
            time.sleep(1.0)
            now = self.cpu_seconds()
            idle = idle + 1 if now - before < 0.05 else 0
            before = now

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)
        for folder in self.own:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait_for(process: subprocess.Popen, base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited during start-up ({process.returncode})")
        try:
            if requests.get(base + "/api/health", timeout=timeout).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:g} s")
