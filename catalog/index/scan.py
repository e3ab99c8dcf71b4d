"""Reading the records folder: one stat per file, and a fault (never deletions) when it cannot be read."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class FolderFault(Exception):
    """The records folder cannot be read as a whole: nothing it seems to lack may count as deleted."""


def readable_folder(folder: Path) -> None:
    """Raise FolderFault unless `folder` is a directory this process can list and read."""
    if not folder.is_dir():
        raise FolderFault(f"the records folder {folder} is missing")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise FolderFault(f"the records folder {folder} cannot be read (permissions)")


def scan(folder: Path, only: set[str] | None) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every record file (or of those named in `only`); FolderFault if the
    folder cannot be read, so that a vanished or unreadable folder is never taken for deletions."""
    readable_folder(folder)
    try:
        if only is None:  # a generator: 100,000 directory entries are never all held at once
            entries = (e for e in os.scandir(folder)
                       if e.name.endswith(".json") and e.name[0] != "." and e.is_file(follow_symlinks=False))
        else:
            entries = (folder / name for name in only
                       if name.endswith(".json") and name[0] != "." and "/" not in name)
        found: dict[str, tuple[int, int]] = {}
        for entry in entries:
            try:
                st = os.stat(entry, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                found[entry.name] = (st.st_mtime_ns, st.st_size)
    except OSError as error:  # the folder vanished or turned unreadable while being read
        raise FolderFault(f"the records folder {folder} cannot be read ({error.strerror})") from None
    readable_folder(folder)  # still there at the end: what was not found is really gone
    return found
