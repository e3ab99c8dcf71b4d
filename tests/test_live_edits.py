"""Catalogers edit files while several workers serve: nothing lost, nothing half-updated, no 5xx."""

import json
import os
import threading
import time

import pytest
import requests

from tests.conftest import LiveServer
from tests.conftest import write_record


def wait_for(predicate, timeout=2.5):
    """Poll until predicate() is true; return how long it took (or None on timeout)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    return None


@pytest.mark.slow
def test_edits_show_on_every_worker_within_two_seconds_and_reads_never_fail(tmp_path, synthetic):
    folder = tmp_path / "records"
    folder.mkdir()
    stable = []
    for n in range(1, 21):
        record = synthetic(n)
        record["access"] = {"status": "open"}
        write_record(folder, record)
        stable.append(record["id"])
    server = LiveServer(folder, tmp_path / "instance", workers=3, CATALOG_REFRESH_INTERVAL="0.5")
    failures: list[str] = []
    reads = 0
    stop = threading.Event()

    def reader():
        nonlocal reads
        session = requests.Session()
        while not stop.is_set():
            for record_id in stable[:10]:
                response = session.get(f"{server.url}/api/records/{record_id}", timeout=10)
                reads += 1
                if response.status_code != 200:
                    failures.append(f"{record_id}: {response.status_code}")
                    continue
                body = json.loads(response.content)  # never a half-written record
                if body["id"] != record_id or not body["title"].startswith(("The ", "Edited ")):
                    failures.append(f"{record_id}: unexpected body")
            health = session.get(f"{server.url}/api/health", timeout=10)
            if health.status_code >= 500:
                failures.append(f"health: {health.status_code}")

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for round_number in range(6):
            victim = synthetic(round_number + 1)
            victim["access"] = {"status": "open"}
            victim["title"] = f"Edited {round_number}"
            path = folder / f"{victim['id']}.json"
            original = path.read_text()

            path.write_text(json.dumps(victim))  # an edit
            assert wait_for(lambda victim=victim: all(
                requests.get(f"{server.url}/api/records/{victim['id']}", timeout=5).json()["title"] == victim["title"]
                for _ in range(6))) is not None, "edit not visible on every worker within 2.5 s"

            path.write_text(original[:100])  # a broken save: the edited version keeps serving
            assert wait_for(lambda: requests.get(f"{server.url}/api/health", timeout=5).json()["bad_files"] == 1)
            assert requests.get(f"{server.url}/api/records/{victim['id']}", timeout=5).json()["title"] == victim["title"]

            path.write_text(original)  # fixed again
            assert wait_for(lambda: requests.get(f"{server.url}/api/health", timeout=5).json()["bad_files"] == 0)

            extra = synthetic(100 + round_number)
            extra["access"] = {"status": "open"}
            write_record(folder, extra)  # added
            assert wait_for(lambda extra=extra: all(
                requests.get(f"{server.url}/api/records/{extra['id']}", timeout=5).ok for _ in range(6)))
            os.remove(folder / f"{extra['id']}.json")  # removed
            assert wait_for(lambda extra=extra: all(
                requests.get(f"{server.url}/api/records/{extra['id']}", timeout=5).status_code == 404
                for _ in range(6)))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        server.stop()
    assert failures == []
    assert reads > 100
