"""A cold index build in a process of its own, so a build that runs past its time limit can be ended.

    python -m bench.scale_build RECORDS INSTANCE [DATABASE_URL]     # prints {"seconds": ...}

`cold_build` runs it with a timeout and ends the whole process group (the build's parsing pool
too) when the time is up.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def cold_build(records: Path, instance: Path, url: str, timeout: float) -> dict:
    """Wall seconds of a cold build of `records` into the backend (SQLite in `instance`, or the
    database at `url`), with the CPU seconds of the build's processes; or why there is no figure."""
    command = [sys.executable, "-m", "bench.scale_build", str(records), str(instance)] + ([url] if url else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return {"seconds": None, "note": f"did not finish in {timeout:g} s (--build-timeout)"}
    wall = time.perf_counter() - started
    if process.returncode != 0:
        return {"seconds": None, "note": f"failed ({process.returncode}): {(stderr or stdout)[-300:]}"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {**json.loads(stdout.strip().splitlines()[-1]), "wall_s": round(wall, 2), "cpu_s": round(cpu, 1)}


def main(argv: list[str]) -> int:
    from catalog.index import open_index

    records, instance = Path(argv[0]), Path(argv[1])
    url = argv[2] if len(argv) > 2 else ""
    began = time.perf_counter()
    index = open_index(records, instance, database_url=url)
    result = index.refresh(force=True)
    seconds = time.perf_counter() - began
    if hasattr(index, "close"):
        index.close()
    print(json.dumps({"seconds": round(seconds, 2), "records": getattr(result, "added", None)}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
