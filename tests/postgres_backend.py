"""Both index backends in tests: a throwaway PostgreSQL cluster and a fixture parametrized over them.

The cluster comes from Debian's `postgresql` package (`initdb` in a temporary folder, a free
loopback port, `pg_ctl`); as root it runs as the `postgres` user (PostgreSQL refuses to run as
root). A template database holds `unaccent`, so each test's database is a cheap copy of it.
Where the binaries are absent the PostgreSQL leg is skipped, and the reason says what to install.

Use: `from tests.postgres_backend import backend, postgres_cluster  # noqa: F401` in a test file,
then take `backend` (a `Backend`) or `database_url` as a fixture.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

TEMPLATE = "catalog_template"
BACKENDS = ["sqlite", "postgres"]


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder holding initdb and pg_ctl, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    override = os.environ.get("CATALOG_TEST_PG_BIN")
    if override:
        return Path(override)
    return Path(found[-1]).parent if found else None


def why_no_postgres() -> str | None:
    """Why the PostgreSQL leg cannot run here (None: it can)."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg and psycopg_pool are not installed (pip install 'psycopg[binary]' psycopg-pool)"
    folder = postgres_bin()
    if folder is None or not (folder / "pg_ctl").exists():
        return "PostgreSQL server binaries are absent (apt-get install postgresql postgresql-contrib)"
    share = sorted(glob.glob("/usr/share/postgresql/*/extension/unaccent.control"))
    if not share:
        return "the unaccent extension is absent (apt-get install postgresql-contrib)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A PostgreSQL server in a temporary folder: one for the test session, or a test's own (whose
    server the test may stop and start again, or follow with a streaming standby)."""

    OPTIONS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
               "-c wal_level=replica -c max_wal_senders=4 -c hot_standby=on -c wal_receiver_status_interval=1")

    def __init__(self, data: Path | None = None, folder: Path | None = None) -> None:
        """A new cluster (`initdb`), or a server over `data` already made (a standby's copy)."""
        self.bin = postgres_bin()
        self.folder = folder or Path(tempfile.mkdtemp(prefix="catalog-pg-"))
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            self.user = "postgres" if _user_exists("postgres") else "nobody"
            record = pwd.getpwnam(self.user)
            os.chown(self.folder, record.pw_uid, record.pw_gid)
        self.data = data or self.folder / "data"
        if data is None:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "catalog", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
        self.url = f"postgresql://catalog@127.0.0.1:{self.port}/postgres"
        self.start()
        if data is None:
            self.execute(f"CREATE DATABASE {TEMPLATE}")
            import psycopg

            with psycopg.connect(self.database_url(TEMPLATE), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")

    def start(self) -> None:
        """Start the server (again) on its port."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 {self.OPTIONS}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data (`start` brings it back): as a crash or an outage would."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def standby(self) -> Cluster:
        """A streaming standby of this server (`pg_basebackup -R`), started and answering reads."""
        folder = Path(tempfile.mkdtemp(prefix="catalog-pg-standby-"))
        if self.user:
            record = pwd.getpwnam(self.user)
            os.chown(folder, record.pw_uid, record.pw_gid)
        self._run("pg_basebackup", "-D", str(folder / "data"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "catalog", "-X", "stream", "-R", "-c", "fast", "--no-sync")
        return Cluster(data=folder / "data", folder=folder)

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)

    def database_url(self, name: str) -> str:
        return f"postgresql://catalog@127.0.0.1:{self.port}/{name}"

    def new_database(self) -> str:
        """A fresh database (with unaccent) for one test; its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.database_url(name)

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL cluster for the session (the test is skipped, saying why, without one)."""
    reason = why_no_postgres()
    if reason:
        pytest.skip(f"PostgreSQL leg skipped: {reason}")
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def own_cluster():
    """A cluster of the test's own, which it may stop, start again or give a standby (stopped after)."""
    reason = why_no_postgres()
    if reason:
        pytest.skip(f"PostgreSQL leg skipped: {reason}")
    made: list[Cluster] = []

    class Clusters:
        def primary(self) -> Cluster:
            made.append(Cluster())
            return made[-1]

        def standby(self, primary: Cluster) -> Cluster:
            made.append(primary.standby())
            return made[-1]

    yield Clusters()
    from catalog.index.postgres.database import close_all

    close_all()
    for cluster in reversed(made):
        cluster.stop()


@pytest.fixture
def database_url(postgres_cluster):
    """A fresh database of the test's own; every index opened on it is closed afterwards."""
    url = postgres_cluster.new_database()
    yield url
    _close(url)


def _close(url: str) -> None:
    from catalog.index.postgres.database import close_all

    close_all(url)


@dataclass
class Backend:
    """Which index a test runs on: `settings` go to `create_app` (empty for the embedded default)."""

    name: str
    settings: dict

    def open(self, records_dir, instance_dir, clock=None, **options):
        """The index itself, as `create_app` would open it with these settings."""
        from catalog.index import open_index

        return open_index(records_dir, instance_dir, clock=clock or _system_clock(),
                          database_url=self.settings.get("CATALOG_DATABASE_URL", ""), **options)


def _system_clock():
    from catalog.index import system_clock

    return system_clock


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_backends` run on the embedded SQLite index and on PostgreSQL."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> Backend:
    """The index a test's apps use: SQLite, unless the test is parametrized over BACKENDS (conftest does
    that for tests marked `both_backends`), whose PostgreSQL leg skips, saying why, where it cannot run."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return Backend("sqlite", {})
    url = request.getfixturevalue("database_url")
    return Backend("postgres", {"CATALOG_DATABASE_URL": url})
