"""IIIF Image API 3.0, level 0, for the typescript renderings of transcription pages.

Level 0 means fixed images only: the full region at the sizes `info.json` declares, no rotation,
default quality. Rendered files are cached on disk under the instance folder, keyed by the record's
content hash, so a changed record never serves a stale image and a cached one is a plain file send.

The disk cache is an optimisation, never a condition of answering: when the image cannot be written
(a full disk, a quota, a read-only or unwritable folder), the partial file is removed, one line is
logged, and the rendered bytes are handed back in `ImageNotCached` for the caller to send from
memory; the next request tries the disk again. Only a render that fails for lack of resources
(memory, file handles) makes the image unavailable (`RenderUnavailable`, answered 503).
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
import time
from pathlib import Path

from werkzeug.exceptions import BadRequest

from manifests import typescript

IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
DERIVED_WIDTHS = (200, 600)
"""A thumbnail and a screen-sized image besides the full size."""
THUMBNAIL_WIDTH = DERIVED_WIDTHS[0]
FORMATS = {"png": ("PNG", "image/png"), "jpg": ("JPEG", "image/jpeg")}
PART_SUFFIX = ".part"
STALE_PART_AGE = 300
"""Seconds after which a `.part` file is taken for one left by a killed worker (a write takes well
under a second, and gunicorn kills a worker stuck for 60 s), and removed on the next write there."""
RESOURCE_ERRNOS = frozenset({errno.ENOMEM, errno.EMFILE, errno.ENFILE, errno.EAGAIN})
"""Rendering failures that say the server is short of resources (503), not that the request is bad."""
RETRY_AFTER = 30
"""Seconds a client is asked to wait (Retry-After) when a page image cannot be rendered."""

log = logging.getLogger("catalog.iiif")


class ImageNotCached(Exception):
    """The image was rendered but could not be written to the cache: send `data` from memory.

    An exception rather than a return value so that nothing remembers the failure: the caller's
    in-memory cache of paths keeps no entry, and the next request tries the disk again."""

    def __init__(self, data: bytes, error: OSError):
        super().__init__(f"image rendered but not cached: {error}")
        self.data = data
        self.error = error


class RenderUnavailable(Exception):
    """The image could not be rendered for lack of resources; worth retrying later (503)."""


def sizes(width: int, height: int) -> list[dict]:
    """The sizes a client may ask for, smallest first (the last is the full image)."""
    out = [{"width": w, "height": max(1, round(height * w / width))} for w in DERIVED_WIDTHS if w < width]
    return out + [{"width": width, "height": height}]


def info(service_id: str, width: int, height: int) -> dict:
    return {
        "@context": IMAGE_CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": width,
        "height": height,
        "sizes": sizes(width, height),
        "preferredFormats": ["png"],
        "extraFormats": ["png"],
    }


def service_reference(service_id: str) -> dict:
    """How a manifest points at the image service."""
    return {"id": service_id, "type": "ImageService3", "profile": "level0"}


def requested_size(region: str, size: str, rotation: str, quality: str, fmt: str,
                   width: int, height: int) -> tuple[int, int]:
    """The (width, height) asked for, or 400 saying what this level 0 service offers."""
    if region != "full":
        raise BadRequest(f"Only the region 'full' is offered (level 0), not {region[:40]!r}.")
    if rotation != "0":
        raise BadRequest(f"Only rotation '0' is offered (level 0), not {rotation[:40]!r}.")
    if quality != "default":
        raise BadRequest(f"Only the quality 'default' is offered, not {quality[:40]!r}.")
    if fmt not in FORMATS:
        raise BadRequest(f"Formats offered: {', '.join(FORMATS)}; not {fmt[:40]!r}.")
    offered = sizes(width, height)
    if size in ("max", "full"):
        return width, height
    for option in offered:
        if size in (f"{option['width']},{option['height']}", f"{option['width']},"):
            return option["width"], option["height"]
    listed = ", ".join(f"{o['width']},{o['height']}" for o in offered)
    raise BadRequest(f"Sizes offered (level 0): max, {listed}; not {size[:40]!r}.")


def errno_name(error: OSError) -> str:
    """'ENOSPC' for a full disk, and so on; the number when the platform has no name for it."""
    return errno.errorcode.get(error.errno, str(error.errno)) if error.errno is not None else "no errno"


def is_cached(path: Path) -> bool:
    """A cached image is a non-empty file (an empty one is no image: draw it again)."""
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def cached_image(cache_dir: Path, record_id: str, digest: str, page: int, text: str,
                 size: tuple[int, int], fmt: str) -> Path:
    """The rendered image file, drawing it the first time it is asked for.

    Raises `ImageNotCached` (with the bytes) when the file cannot be written, and
    `RenderUnavailable` when the image cannot even be rendered for lack of resources."""
    folder = cache_dir / record_id
    path = folder / f"{digest[:16]}-{page}-{size[0]}x{size[1]}.{fmt}"
    if is_cached(path):
        return path
    data = render(text, size, fmt)
    try:
        write_atomically(path, data)
    except OSError as error:
        log.warning("page image not cached, served from memory: writing %s failed with %s (%s)",
                    path, errno_name(error), error.strerror or error)
        raise ImageNotCached(data, error) from error
    finally:
        remove_stale_parts(folder)
    return path


def render(text: str, size: tuple[int, int], fmt: str) -> bytes:
    """The image's bytes, or `RenderUnavailable` when memory or file handles ran out."""
    try:
        return typescript.render(text, size, FORMATS[fmt][0])
    except MemoryError as error:
        raise RenderUnavailable("out of memory rendering the page image") from error
    except OSError as error:
        if error.errno in RESOURCE_ERRNOS:
            raise RenderUnavailable(f"rendering the page image failed with {errno_name(error)}") from error
        raise


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a `.part` file in the same folder, renamed into place when
    complete; on any failure the `.part` file is removed and the OSError raised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=PART_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # a delayed ENOSPC or EIO surfaces here, not after the rename
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        except OSError as error:  # e.g. the folder turned read-only: the sweep removes it later
            log.warning("could not remove the partial image %s: %s", temporary, errno_name(error))
        raise


def remove_stale_parts(folder: Path, older_than: float = STALE_PART_AGE) -> None:
    """Remove `.part` files older than `older_than` seconds: left by a worker killed mid-write.
    Younger ones may be another worker's write in progress and are left alone."""
    cutoff = time.time() - older_than
    try:
        candidates = list(folder.glob(f"*{PART_SUFFIX}"))
    except OSError:
        return
    for part in candidates:
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
        except OSError:  # gone already, or not removable now (read-only): try again next time
            pass
