"""Faults around the index are never taken for edits: a vanished, replaced or emptied records folder,
a lost index, a broken file during a rebuild. The server keeps serving its last good index, says
so in /api/health and its log, records no deletion, and every datestamp survives."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bench.generate import write_records
from catalog.cli import main as catalog_cli
from tests.conftest import PROJECT
from tests.conftest import PUBLIC_IDS
from tests.conftest import LiveServer
from tests.conftest import free_port

REPOSITORY = "catalog.example.org"


def headers(client) -> dict[str, tuple[str, str | None]]:
    """identifier → (datestamp, status) of every item OAI-PMH lists, all pages."""
    out, args = {}, "verb=ListIdentifiers&metadataPrefix=oai_dc"
    while True:
        text = client.get(f"/oai?{args}").get_data(as_text=True)
        for header in text.split("<header")[1:]:
            identifier = header.split("<identifier>")[1].split("</identifier>")[0]
            stamp = header.split("<datestamp>")[1].split("</datestamp>")[0]
            out[identifier] = (stamp, "deleted" if 'status="deleted"' in header.split(">")[0] else None)
        token = text.split("<resumptionToken")[1].split(">", 1)[1].split("<")[0] if "<resumptionToken" in text else ""
        if not token:
            return out
        args = f"verb=ListIdentifiers&resumptionToken={token}"


def health(client) -> dict:
    return client.get("/api/health").get_json()


def test_a_vanished_folder_is_a_fault_not_a_mass_deletion(make_app, records_dir, clock, caplog):
    client = make_app(records_dir, CATALOG_CLOCK=clock).test_client()
    before = headers(client)
    assert len(before) == len(PUBLIC_IDS) and all(status is None for _stamp, status in before.values())
    moved = records_dir.with_name("records-moved")
    records_dir.rename(moved)
    clock.advance(60)
    with caplog.at_level(logging.ERROR, logger="catalog.index"):
        during = health(client)
        health(client)
    assert during["status"] == "degraded"
    assert "missing" in during["faults"][0]["reason"] and during["records"] == len(PUBLIC_IDS)
    assert sum("records folder" in r.getMessage() for r in caplog.records) == 1  # logged once, not per request
    assert headers(client) == before  # nothing announced as deleted
    assert client.get(f"/records/{PUBLIC_IDS[0]}").status_code == 200  # the last good index is served
    moved.rename(records_dir)
    clock.advance(60)
    after = health(client)
    assert after["status"] == "ok" and after["faults"] == []
    assert headers(client) == before  # every datestamp unchanged


def test_a_folder_replaced_by_a_file_is_a_fault(make_app, records_dir, clock):
    client = make_app(records_dir, CATALOG_CLOCK=clock).test_client()
    before = headers(client)
    moved = records_dir.with_name("records-moved")
    records_dir.rename(moved)
    records_dir.write_text("not a folder")
    assert health(client)["status"] == "degraded"
    assert headers(client) == before
    records_dir.unlink()
    moved.rename(records_dir)
    assert health(client)["status"] == "ok"
    assert headers(client) == before


def test_an_emptied_folder_records_no_deletions_until_an_operator_accepts_them(make_app, records_dir, clock):
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    client = app.test_client()
    before = headers(client)
    saved = records_dir.with_name("saved")
    shutil.copytree(records_dir, saved)
    for path in records_dir.glob("*.json"):
        path.unlink()
    clock.advance(60)
    during = health(client)
    assert during["status"] == "degraded" and "vanished at once" in during["faults"][0]["reason"]
    assert headers(client) == before
    for path in saved.glob("*.json"):  # the mount comes back
        shutil.copy2(path, records_dir / path.name)
    clock.advance(60)
    assert health(client)["status"] == "ok"
    assert headers(client) == before
    for path in records_dir.glob("*.json"):  # this time it is meant
        path.unlink()
    result = app.extensions["catalog.index"].rebuild(accept_deletions=True)
    assert result.fault is None
    assert all(status == "deleted" for _stamp, status in headers(client).values())


def test_one_removed_file_is_still_a_deletion(make_app, records_dir, clock):
    client = make_app(records_dir, CATALOG_CLOCK=clock).test_client()
    (records_dir / f"{PUBLIC_IDS[0]}.json").unlink()
    clock.advance(5)
    after = headers(client)
    assert after[f"oai:{REPOSITORY}:{PUBLIC_IDS[0]}"][1] == "deleted"
    assert health(client)["status"] == "ok"


def test_the_ledger_survives_the_loss_of_the_index(make_app, records_dir, clock):
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    client = app.test_client()
    (records_dir / f"{PUBLIC_IDS[1]}.json").unlink()
    clock.advance(5)
    before = headers(client)
    assert before[f"oai:{REPOSITORY}:{PUBLIC_IDS[1]}"][1] == "deleted"
    instance = app.extensions["catalog.index"].instance_dir
    for path in instance.glob("index.sqlite3*"):
        path.unlink()
    clock.advance(3600)
    restarted = make_app(records_dir, CATALOG_CLOCK=clock).test_client()
    assert headers(restarted) == before  # datestamps and the earlier deletion, all kept


def test_a_rebuild_keeps_the_last_good_version_of_a_broken_file(make_app, records_dir, clock):
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    client = app.test_client()
    before = headers(client)
    title = client.get(f"/api/records/{PUBLIC_IDS[2]}").get_json()["title"]
    (records_dir / f"{PUBLIC_IDS[2]}.json").write_text("{ broken", encoding="utf-8")
    clock.advance(5)
    assert client.get(f"/api/records/{PUBLIC_IDS[2]}").get_json()["title"] == title
    app.extensions["catalog.index"].rebuild()
    assert client.get(f"/api/records/{PUBLIC_IDS[2]}").get_json()["title"] == title
    assert headers(client) == before
    assert health(client)["problems"][0]["serving_last_valid_version"] is True


def test_ledger_export_and_import_restore_every_datestamp(make_app, records_dir, clock, tmp_path, monkeypatch,
                                                          capsys):
    instance = tmp_path / "instance-cli"
    app = make_app(records_dir, CATALOG_CLOCK=clock, CATALOG_INSTANCE_DIR=str(instance))
    (records_dir / f"{PUBLIC_IDS[0]}.json").unlink()
    clock.advance(5)
    before = headers(app.test_client())
    monkeypatch.setenv("CATALOG_RECORDS_DIR", str(records_dir))
    monkeypatch.setenv("CATALOG_INSTANCE_DIR", str(instance))
    backup = tmp_path / "ledger.jsonl"
    assert catalog_cli(["ledger", "export", str(backup)]) == 0
    lines = backup.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(PUBLIC_IDS) + 1 and all(json.loads(line)["id"] for line in lines)  # + the restricted
    for path in instance.glob("*.sqlite3*"):
        path.unlink()
    assert catalog_cli(["ledger", "import", str(backup)]) == 0
    clock.advance(3600)
    assert headers(make_app(records_dir, CATALOG_CLOCK=clock, CATALOG_INSTANCE_DIR=str(instance)).test_client()) \
        == before
    backup.write_text('{"id": "x"}\n', encoding="utf-8")
    assert catalog_cli(["ledger", "import", str(backup)]) == 1
    assert "nothing imported" in capsys.readouterr().err


# -- with real servers -------------------------------------------------------------------------------

def wait_for(check, seconds: float = 15.0):
    """The first truthy value of `check()`, polled for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def live_headers(server: LiveServer) -> dict:
    class Client:
        @staticmethod
        def get(path):
            response = requests.get(server.url + path, timeout=10)
            response.get_data = lambda as_text=True: response.text
            return response
    return headers(Client)


@pytest.mark.slow
def test_live_servers_survive_the_folder_vanishing_and_returning(records_dir, tmp_path):
    server = LiveServer(records_dir, tmp_path / "instance-live", workers=3)
    try:
        before = live_headers(server)
        moved = records_dir.with_name("records-away")
        records_dir.rename(moved)
        degraded = wait_for(lambda: (h := requests.get(server.url + "/api/health", timeout=5).json())["status"]
                            == "degraded" and h)
        assert degraded["records"] == len(PUBLIC_IDS)
        for _ in range(20):  # every worker answers from the last good index meanwhile
            assert requests.get(f"{server.url}/iiif/{PUBLIC_IDS[0]}/manifest", timeout=5).status_code == 200
        assert live_headers(server) == before
        moved.rename(records_dir)
        wait_for(lambda: requests.get(server.url + "/api/health", timeout=5).json()["status"] == "ok")
        assert live_headers(server) == before
        assert "records folder" in server.stderr() and "missing" in server.stderr()
    finally:
        server.stop()


def children_of(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
    return state not in ("Z", "X")


def lock_holder(lock: Path) -> int | None:
    """The pid in the lock file, read once: the holder truncates it before writing its pid."""
    try:
        text = lock.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


@pytest.mark.slow
def test_killing_the_worker_that_builds_the_index_hangs_nothing(tmp_path):
    """kill -9 of the worker holding the refresh lock during a cold build (with its parsing pool):
    the pool dies with it, the lock is free again, and the next worker builds the index."""
    records = tmp_path / "records"
    write_records(records, 6000)
    instance = tmp_path / "instance"
    instance.mkdir()
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "CATALOG_RECORDS_DIR": str(records), "CATALOG_INSTANCE_DIR": str(instance),
           "CATALOG_REFRESH_INTERVAL": "0.5"}
    with log_path.open("wb") as log_file:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                   "--timeout", "120", "wsgi:app"], cwd=PROJECT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            lock = instance / "refresh.lock"
            holder = wait_for(lambda: lock_holder(lock), 60)
            pool = wait_for(lambda: children_of(holder), 30)
            os.kill(holder, signal.SIGKILL)
            wait_for(lambda: not any(alive(pid) for pid in pool), 15)  # the parsing pool died with it
            health = wait_for(lambda: _health(port), 180)
            assert health["records"] > 5000 and health["status"] == "ok"
        finally:
            server.terminate()
            server.wait(20)


def _health(port: int) -> dict | None:
    try:
        data = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
    except requests.RequestException:
        return None
    return data if data["records"] > 5000 else None


def damage(index_file: Path, header_too: bool = False) -> None:
    """Overwrite the index file past its first pages (or from its first byte) with garbage."""
    size = index_file.stat().st_size
    with index_file.open("r+b") as handle:
        start = 0 if header_too else min(8192, size // 2)
        handle.seek(start)
        handle.write(b"\xff" * max(4096, size - start))


def test_a_corrupted_index_is_set_aside_and_rebuilt_keeping_every_datestamp(make_app, records_dir, clock, caplog):
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    client = app.test_client()
    index = app.extensions["catalog.index"]
    index.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = headers(client)
    damage(index.index_path)
    clock.advance(60)
    with caplog.at_level(logging.WARNING, logger="catalog.index"):
        restarted = make_app(records_dir, CATALOG_CLOCK=clock).test_client()  # another worker, or a restart
    assert sum("is corrupted" in r.getMessage() for r in caplog.records) == 1
    assert list(index.instance_dir.glob("index.sqlite3.corrupt-*"))  # kept for the operator to inspect
    for each in (restarted, client):  # the new process, and the old one on its next request
        assert headers(each) == before
        assert health(each)["status"] == "ok"
        assert each.get(f"/records/{PUBLIC_IDS[0]}").status_code == 200


def test_an_index_that_is_not_a_database_at_all_is_rebuilt_at_start(make_app, records_dir, clock):
    app = make_app(records_dir, CATALOG_CLOCK=clock)
    before = headers(app.test_client())
    index_file = app.extensions["catalog.index"].index_path
    for path in index_file.parent.glob("index.sqlite3-*"):
        path.unlink()
    index_file.write_bytes(b"this is not an SQLite database " * 200)
    restarted = make_app(records_dir, CATALOG_CLOCK=clock).test_client()
    assert headers(restarted) == before
    assert health(restarted)["records"] == len(PUBLIC_IDS)


@pytest.mark.slow
def test_live_servers_heal_a_corrupted_index_without_a_500(records_dir, tmp_path):
    instance = tmp_path / "instance-live"
    server = LiveServer(records_dir, instance, workers=2)
    try:
        before = live_headers(server)
        server.stop()
        damage(instance / "index.sqlite3", header_too=True)
        server = LiveServer(records_dir, instance, workers=2)
        statuses = set()
        for _ in range(30):
            for path in ("/api/health", f"/records/{PUBLIC_IDS[0]}", "/oai?verb=Identify", "/search.json?q=moscow"):
                statuses.add(requests.get(server.url + path, timeout=10).status_code)
        assert statuses <= {200, 503}, statuses
        wait_for(lambda: requests.get(server.url + "/api/health", timeout=5).json()["status"] == "ok")
        assert live_headers(server) == before
        assert server.stderr().count("is corrupted") == 1  # one worker healed it; the other found it healed
    finally:
        server.stop()


def test_a_file_made_readable_again_is_read_again(make_app, records_dir, clock, monkeypatch):
    """chmod fixes a file without changing its mtime or size; the next scan must notice."""
    client = make_app(records_dir, CATALOG_CLOCK=clock).test_client()
    target = records_dir / f"{PUBLIC_IDS[3]}.json"
    real_read = Path.read_bytes

    def unreadable(path):
        if path == target:
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    target.write_text(target.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a change to read
    monkeypatch.setattr(Path, "read_bytes", unreadable)  # as chmod 000 would (root reads through chmod)
    clock.advance(5)
    assert "cannot be read" in health(client)["problems"][0]["problems"][0]
    monkeypatch.setattr(Path, "read_bytes", real_read)  # chmod 644: same mtime, same size
    clock.advance(5)
    assert health(client)["problems"] == []


@pytest.mark.slow
def test_a_full_disk_under_the_index_is_reported_and_nothing_is_lost(records_dir, tmp_path):
    instance = tmp_path / "instance-on-tmpfs"
    instance.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(instance)],
                                           check=False, capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    server = None
    try:
        server = LiveServer(records_dir, instance, workers=2)
        before = live_headers(server)
        filler = instance / "filler"
        with filler.open("wb") as handle, contextlib.suppress(OSError):  # fill it to the last block
            while True:
                handle.write(b"\0" * 2**20)
        edited = records_dir / f"{PUBLIC_IDS[0]}.json"
        record = json.loads(edited.read_text(encoding="utf-8"))
        record["title"] = "Edited while the disk was full " + "x" * 20_000
        edited.write_text(json.dumps(record), encoding="utf-8")
        degraded = wait_for(lambda: (h := requests.get(server.url + "/api/health", timeout=5).json())["status"]
                            == "degraded" and h)
        assert any(fault["kind"] in ("disk", "index write") for fault in degraded["faults"])
        for path in (f"/records/{PUBLIC_IDS[0]}", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc", "/api/records"):
            assert requests.get(server.url + path, timeout=10).status_code == 200  # the last good index
        filler.unlink()
        wait_for(lambda: requests.get(f"{server.url}/api/records/{PUBLIC_IDS[0]}", timeout=5).json()["title"]
                 .startswith("Edited while"), 30)
        after = live_headers(server)
        assert {k: v for k, v in after.items() if PUBLIC_IDS[0] not in k} == \
            {k: v for k, v in before.items() if PUBLIC_IDS[0] not in k}
    finally:
        if server is not None:
            server.stop()
        if subprocess.run(["umount", str(instance)], check=False, capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(instance)], check=False, capture_output=True)
