"""What keeps several processes from tripping over each other: the refresh lock and the parsing pool.

The lock is an advisory file lock (flock) that names its holder; the pool's processes are spawned,
so they inherit neither the lock nor the server's socket, and the kernel ends them with their parent.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

log = logging.getLogger("catalog.index")

LOCK_WAIT_SECONDS = 300.0
"""Longest a process waits for the refresh lock before giving up (and saying so in the log)."""

LOCK_LOG_AFTER_SECONDS = 5.0


class FileLock:
    """The inter-process refresh lock (flock): `__enter__` says whether it was obtained.

    The holder writes its pid into the file, so a waiter can name it in the log and, if that process
    is dead while the lock is still held (a descendant kept the descriptor), take the lock over by
    replacing the file. Waiting is bounded by LOCK_WAIT_SECONDS and logged.
    """

    def __init__(self, path: Path, blocking: bool):
        self.path = path
        self.blocking = blocking
        self.handle = None

    def __enter__(self) -> bool:
        started = time.monotonic()
        logged = False
        while True:
            handle = open(self.path, "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                if not self.blocking:
                    return False
                waited = time.monotonic() - started
                holder = self._holder()
                if holder and not process_alive(holder) and waited > 1.0:
                    log.error("the refresh lock is held for process %d, which is dead; taking the lock over", holder)
                    self.path.unlink(missing_ok=True)
                    continue
                if waited > LOCK_LOG_AFTER_SECONDS and not logged:
                    log.warning("waiting for the refresh lock held by process %s", holder or "unknown")
                    logged = True
                if waited > LOCK_WAIT_SECONDS:
                    raise TimeoutError(f"the refresh lock {self.path} was not free within {LOCK_WAIT_SECONDS:.0f} s "
                                       f"(held by process {holder or 'unknown'})")
                time.sleep(0.05)
                continue
            if os.fstat(handle.fileno()).st_ino != file_inode(self.path):  # replaced while we waited
                handle.close()
                continue
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            self.handle = handle
            return True

    def _holder(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.seek(0)
            self.handle.truncate()
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _die_with_parent(parent: int) -> None:
    """Pool initializer: on Linux, the kernel kills a parsing process when its parent dies; one whose
    parent died while it was starting exits at once."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is all there is
        pass
    if os.getppid() != parent:
        os._exit(1)


def parsing_pool() -> ProcessPoolExecutor:
    """Processes for a cold build, started fresh (spawn): they inherit neither the refresh lock nor the
    listening socket, and die with the process that started them."""
    return ProcessPoolExecutor(os.cpu_count(), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))
