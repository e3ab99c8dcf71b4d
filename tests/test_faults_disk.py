"""Issue 11: a full (or read-only, or otherwise unwritable) disk under the IIIF page-image cache.

The cache is an optimisation: when a rendered image cannot be written, the viewer still gets its
image (200, from memory), no `.part` file is left behind, one line is logged naming what failed,
the path and the errno, and once the fault is lifted the next request caches the file as usual.
Only an image that cannot even be rendered for lack of resources answers 503 with Retry-After.

Faults are real where the machine allows it: writes go to /dev/full (the kernel's ENOSPC), the
image folder is a tiny tmpfs filled to the last byte or remounted read-only (skipped when mounting
is not permitted), or the folder's path is blocked by a file. Where an errno cannot be produced for
real (EDQUOT, or EACCES as root), the rename into place is made to fail with it.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.conftest import LiveServer

RECORD = "harriman-truman-1945-06-16"
FULL_URL = f"/iiif/image/{RECORD}/1/full/max/0/default.png"
FULL_SIZE = (1275, 1650)
THUMB_URL = f"/iiif/image/{RECORD}/1/full/200,259/0/default.png"
THUMB_SIZE = (200, 259)
IIIF_LOGGER = "catalog.iiif"


# -- helpers ------------------------------------------------------------------------------------

def images_dir(app) -> Path:
    return Path(app.config["CATALOG_INSTANCE_DIR"]) / "iiif-images"


def leftovers(folder: Path) -> list[Path]:
    """Every `.part` file under the image folder."""
    return sorted(folder.rglob("*.part")) if folder.is_dir() else []


def cached_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.png") if p.is_file()) if folder.is_dir() else []


def assert_png(response, size: tuple[int, int]) -> bytes:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    image.load()  # a truncated file fails here
    assert image.format == "PNG" and image.size == size
    return response.data


def fault_lines(caplog, *needles: str) -> list[str]:
    """The lines logged by the IIIF logger that mention every needle."""
    return [r.getMessage() for r in caplog.records
            if r.name == IIIF_LOGGER and all(n in r.getMessage() for n in needles)]


def assert_caches_after_fault(client, folder: Path, served: bytes, url: str = FULL_URL) -> None:
    """With the fault lifted, the next request writes the file, and it holds what was served."""
    again = client.get(url)
    assert again.status_code == 200 and again.data == served
    files = cached_files(folder)
    assert len(files) == 1 and files[0].read_bytes() == served, files
    assert leftovers(folder) == []


@pytest.fixture
def iiif_log(caplog):
    caplog.set_level(logging.WARNING, logger=IIIF_LOGGER)
    return caplog


# -- writes hit a real ENOSPC: the .part file is opened on /dev/full ------------------------------

@contextlib.contextmanager
def writes_to_dev_full(monkeypatch, folder: Path):
    """Temporary files made under `folder` get a descriptor on /dev/full: the file exists, empty, as
    on a full disk, and the kernel answers the write with ENOSPC. Elsewhere mkstemp is untouched."""
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is absent on this system")
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        handle, name = real_mkstemp(*args, **kwargs)
        if Path(name).resolve().is_relative_to(folder.resolve()):
            os.close(handle)
            handle = os.open("/dev/full", os.O_WRONLY)
        return handle, name

    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", mkstemp)
        yield


def test_full_disk_serves_the_image_from_memory_and_leaves_no_part_file(app, client, monkeypatch, iiif_log):
    folder = images_dir(app)
    with writes_to_dev_full(monkeypatch, folder):
        first = client.get(FULL_URL)
        served = assert_png(first, FULL_SIZE)
        assert first.headers["Link"].endswith('rel="profile"') and first.headers["ETag"]
        assert first.headers["Access-Control-Allow-Origin"] == "*"
        assert leftovers(folder) == [] and cached_files(folder) == []
        lines = fault_lines(iiif_log, "ENOSPC", str(folder / RECORD))
        assert len(lines) == 1, iiif_log.text
        assert "not cached" in lines[0] and ".png" in lines[0]
        # the failure is not remembered: the next request tries the disk again, and still answers
        assert client.get(FULL_URL).data == served
        assert len(fault_lines(iiif_log, "ENOSPC")) == 2
        # a viewer revalidating the image served from memory gets a 304
        revalidated = client.get(FULL_URL, headers={"If-None-Match": first.headers["ETag"]})
        assert revalidated.status_code == 304
        assert leftovers(folder) == []
    assert_caches_after_fault(client, folder, served)


@pytest.mark.parametrize("code", ["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EIO"])
def test_a_failed_rename_removes_the_written_part_file(app, client, monkeypatch, iiif_log, code):
    """The .part file was written in full, then moving it into place failed."""
    folder = images_dir(app)
    number = getattr(errno, code)
    real_replace = os.replace
    attempts = []

    def replace(src, dst, *args, **kwargs):
        if Path(dst).resolve().is_relative_to(folder.resolve()):
            attempts.append(Path(src))
            assert Path(src).stat().st_size > 0  # the whole image was in the .part file
            raise OSError(number, os.strerror(number), str(src))
        return real_replace(src, dst, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        served = assert_png(client.get(THUMB_URL), THUMB_SIZE)
    assert attempts and not attempts[0].exists()
    assert leftovers(folder) == [] and cached_files(folder) == []
    assert len(fault_lines(iiif_log, code, str(folder / RECORD))) == 1, iiif_log.text
    assert_caches_after_fault(client, folder, served, THUMB_URL)


def test_an_image_folder_blocked_by_a_file_still_serves_images(app, client, iiif_log):
    """mkdir fails for real (ENOTDIR): nothing can be cached, everything is still answered."""
    folder = images_dir(app)
    folder.write_text("not a folder")
    served = assert_png(client.get(FULL_URL), FULL_SIZE)
    assert_png(client.get(THUMB_URL), THUMB_SIZE)
    assert len(fault_lines(iiif_log, "ENOTDIR")) == 2, iiif_log.text
    folder.unlink()
    assert_caches_after_fault(client, folder, served)


# -- a real tiny filesystem under the image folder ------------------------------------------------

def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def mount_tiny_tmpfs(folder: Path) -> None:
    """A 256 KiB tmpfs on `folder` (which must exist); skips the test when mounting is not permitted."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mounted = run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(folder))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")


def unmount(folder: Path) -> None:
    if run("umount", str(folder)).returncode != 0:
        run("umount", "-l", str(folder))  # still busy: detach it so tmp_path can be removed


@pytest.fixture
def tiny_fs(app):
    """The image folder on a 256 KiB tmpfs of its own."""
    folder = images_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    mount_tiny_tmpfs(folder)
    try:
        yield folder
    finally:
        unmount(folder)


def fill(folder: Path) -> Path:
    """Fill the filesystem to the last byte; the filler is the fault, removing it lifts it."""
    filler = folder / "filler.bin"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 4096)
    assert shutil.disk_usage(folder).free < 4096
    return filler


def test_a_really_full_filesystem(client, tiny_fs, iiif_log):
    filler = fill(tiny_fs)
    served = assert_png(client.get(FULL_URL), FULL_SIZE)
    assert_png(client.get(THUMB_URL), THUMB_SIZE)
    assert leftovers(tiny_fs) == [] and cached_files(tiny_fs) == []
    assert len(fault_lines(iiif_log, "ENOSPC", str(tiny_fs / RECORD))) == 2, iiif_log.text
    filler.unlink()
    assert_caches_after_fault(client, tiny_fs, served)


def test_a_filesystem_turned_read_only(client, tiny_fs, iiif_log):
    remount = run("mount", "-o", "remount,ro", str(tiny_fs))
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
    try:
        served = assert_png(client.get(FULL_URL), FULL_SIZE)
        assert len(fault_lines(iiif_log, "EROFS", str(tiny_fs / RECORD))) == 1, iiif_log.text
    finally:
        assert run("mount", "-o", "remount,rw", str(tiny_fs)).returncode == 0
    assert leftovers(tiny_fs) == []
    assert_caches_after_fault(client, tiny_fs, served)


# -- leftovers of killed workers, and empty files --------------------------------------------------

def test_a_stale_part_file_of_a_killed_worker_is_ignored_then_cleaned(app, client):
    record_folder = images_dir(app) / RECORD
    record_folder.mkdir(parents=True)
    stale = record_folder / "killed-mid-write.png.abc123.part"
    stale.write_bytes(b"\x89PNG\r\n\x1a\n half an image")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    in_progress = record_folder / "another-worker-writing.png.def456.part"  # young: not touched
    in_progress.write_bytes(b"")
    served = assert_png(client.get(FULL_URL), FULL_SIZE)
    assert not stale.exists(), "the stale .part file is removed on the next write to its folder"
    assert in_progress.exists(), "a young .part file may be another worker's write in progress"
    assert [p.read_bytes() for p in cached_files(images_dir(app))] == [served]


def test_an_empty_cached_file_is_drawn_again(app, client):
    """A zero-length file where the image should be (e.g. a crash before the data reached the disk)
    is not an image: it is drawn again rather than sent."""
    served = assert_png(client.get(FULL_URL), FULL_SIZE)
    [path] = cached_files(images_dir(app))
    path.write_bytes(b"")
    assert assert_png(client.get(FULL_URL), FULL_SIZE) == served
    assert path.read_bytes() == served


# -- 503 only when the image cannot even be rendered -------------------------------------------------

def test_out_of_memory_while_rendering_answers_503_with_retry_after(app, client, monkeypatch, iiif_log):
    from PIL import Image as pil_image

    def new(*args, **kwargs):
        raise MemoryError  # what Pillow raises when it cannot allocate the image

    with monkeypatch.context() as patch:
        patch.setattr(pil_image, "new", new)
        response = client.get(FULL_URL)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["status"] == 503 and response.get_json()["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert [r for r in iiif_log.records if r.levelno >= logging.ERROR and "503" in r.getMessage()]
    assert leftovers(images_dir(app)) == []
    served = assert_png(client.get(FULL_URL), FULL_SIZE)  # not remembered: rendered once memory is back
    assert [p.read_bytes() for p in cached_files(images_dir(app))] == [served]


# -- a real server: gunicorn workers on a full filesystem ------------------------------------------

@pytest.mark.slow
def test_gunicorn_serves_images_from_a_full_disk_and_logs_it(tmp_path, records_dir):
    instance = tmp_path / "instance-live"
    folder = instance / "iiif-images"
    folder.mkdir(parents=True)
    mount_tiny_tmpfs(folder)
    server = None
    try:
        filler = fill(folder)
        server = LiveServer(records_dir, instance)
        for url in (FULL_URL, THUMB_URL, FULL_URL):
            response = requests.get(server.url + url, timeout=30)
            assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
            Image.open(io.BytesIO(response.content)).load()
        assert leftovers(folder) == [] and cached_files(folder) == []
        log = server.stderr(20000)
        assert log.count("ENOSPC") >= 3 and str(folder / RECORD) in log, log
        filler.unlink()
        served = requests.get(server.url + FULL_URL, timeout=30).content
        assert [p.read_bytes() for p in cached_files(folder)] == [served]
    finally:
        if server is not None:
            server.stop()
        unmount(folder)
