"""IIIF Image API 3.0, level 1 (and more), for the typescript renderings of transcription pages.

Any region (`full`, `square`, pixels or percent) at any size up to the full sheet (`max`, `w,`,
`,h`, `w,h`, `!w,h`, `pct:n`), rotation 0, quality `default` or `gray` (the sheets are grey), as
PNG or JPEG: a viewer asks for the thumbnails and screen sizes it wants (Universal Viewer asks every
canvas for `full/90,/0/default.jpg`). No upscaling (`^`): `maxWidth`/`maxHeight` are the sheet's.

What is kept on disk is bounded: only the sizes `info.json` lists (the thumbnail the manifest names
and the full sheet, the one tile a tiling viewer asks for), each drawn once, are cached under the
instance folder, keyed by the record's content hash, so a changed record never serves a stale image
and a cached one is a plain file send. Anything else is drawn in memory for the request
(`ImageInMemory`); a page therefore costs at most two files per format on disk.

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
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from werkzeug.exceptions import BadRequest

from manifests import typescript

IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
PROFILE = "level1"
PROFILE_URI = "http://iiif.io/api/image/3/level1.json"
EXTRA_FEATURES = ["profileLinkHeader", "regionByPct", "sizeByConfinedWh", "sizeByPct"]
"""Offered beyond level 1 (which itself is regions by pixels and `square`, sizes `w,` `,h` `w,h`, jpg,
the base URI redirect, CORS and the JSON-LD media type)."""
QUALITIES = ("default", "gray")
"""The sheets are drawn in grey: `gray` is the same image as `default`."""
THUMBNAIL_WIDTH = 200
FORMATS = {"png": ("PNG", "image/png"), "jpg": ("JPEG", "image/jpeg")}
NUMBER = r"\d{1,9}"
DECIMAL = r"\d{1,9}(?:\.\d{1,9})?"
"""Bounded, so that no number in a URL is too long for int() (a 400, never a 500)."""
SIZE_FORM = re.compile(rf"(?P<confined>!)?(?P<w>{NUMBER})?,(?P<h>{NUMBER})?")
PIXELS_FORM = re.compile(rf"{NUMBER},{NUMBER},{NUMBER},{NUMBER}")
PERCENT_FORM = re.compile(rf"pct:{DECIMAL},{DECIMAL},{DECIMAL},{DECIMAL}")
PART_SUFFIX = ".part"
STALE_PART_AGE = 300
"""Seconds after which a `.part` file is taken for one left by a killed worker (a write takes well
under a second, and gunicorn kills a worker stuck for 60 s), and removed on the next write there."""
RESOURCE_ERRNOS = frozenset({errno.ENOMEM, errno.EMFILE, errno.ENFILE, errno.EAGAIN})
"""Rendering failures that say the server is short of resources (503), not that the request is bad."""
RETRY_AFTER = 30
"""Seconds a client is asked to wait (Retry-After) when a page image cannot be rendered."""

log = logging.getLogger("catalog.iiif")


class ImageInMemory(Exception):
    """The image was drawn but is not on disk: send `data` from memory.

    An exception rather than a return value so that nothing remembers it: the caller's in-memory
    cache of paths keeps no entry (and no image bytes), and the next request draws it again."""

    def __init__(self, data: bytes, reason: str = "a size info.json does not list: not cached"):
        super().__init__(f"image drawn in memory: {reason}")
        self.data = data


class ImageNotCached(ImageInMemory):
    """The image was rendered but could not be written to the cache: the next request tries the disk again."""

    def __init__(self, data: bytes, error: OSError):
        super().__init__(data, f"not cached: {error}")
        self.error = error


class RenderUnavailable(Exception):
    """The image could not be rendered for lack of resources; worth retrying later (503)."""


@dataclass(frozen=True)
class ImageRequest:
    """What an image URL asks for, in the full sheet's pixels: the region (x, y, w, h), the size it is
    scaled to (w, h), and the format."""

    region: tuple[int, int, int, int]
    size: tuple[int, int]
    fmt: str


def sizes(width: int, height: int) -> list[dict]:
    """The sizes `info.json` lists, smallest first: the thumbnail and the full sheet. These, and only
    these, are cached on disk."""
    full = {"width": width, "height": height}
    if THUMBNAIL_WIDTH >= width:
        return [full]
    return [{"width": THUMBNAIL_WIDTH, "height": max(1, round(height * THUMBNAIL_WIDTH / width))}, full]


def info(service_id: str, width: int, height: int) -> dict:
    """The image's description. A sheet is a few megapixels at most: its one tile, the whole sheet at
    scale factor 1, tells tiling viewers (OpenSeadragon in Mirador and Universal Viewer) to load the
    cached full image and scale it themselves, rather than cut the page into tiles drawn one by one."""
    return {
        "@context": IMAGE_CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": PROFILE,
        "width": width,
        "height": height,
        "maxWidth": width,
        "maxHeight": height,
        "sizes": sizes(width, height),
        "tiles": [{"width": width, "height": height, "scaleFactors": [1]}],
        "preferredFormats": ["png"],
        "extraFormats": ["png"],
        "extraQualities": [q for q in QUALITIES if q != "default"],
        "extraFeatures": EXTRA_FEATURES,
    }


def service_reference(service_id: str) -> dict:
    """How a manifest points at the image service."""
    return {"id": service_id, "type": "ImageService3", "profile": PROFILE}


def parse_request(region: str, size: str, rotation: str, quality: str, fmt: str,
                  width: int, height: int) -> ImageRequest:
    """The image asked for, or 400 saying what this service offers."""
    box = requested_region(region, width, height)
    scaled = requested_size(size, box[2], box[3])
    if rotation != "0":
        raise BadRequest(f"Only rotation '0' is offered, not {rotation[:40]!r}.")
    if quality not in QUALITIES:
        raise BadRequest(f"Qualities offered: {', '.join(QUALITIES)}; not {quality[:40]!r}.")
    if fmt not in FORMATS:
        raise BadRequest(f"Formats offered: {', '.join(FORMATS)}; not {fmt[:40]!r}.")
    return ImageRequest(box, scaled, fmt)


def requested_region(region: str, width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) in the sheet's pixels, cut to the sheet; 400 when empty or outside it.
    `square` is the top of the (portrait) sheet: the band and the first lines, for a square thumbnail."""
    if region == "full":
        return 0, 0, width, height
    if region == "square":
        side = min(width, height)
        return (width - side) // 2, 0, side, side
    if PIXELS_FORM.fullmatch(region):
        x, y, w, h = (int(n) for n in region.split(","))
    elif PERCENT_FORM.fullmatch(region):
        px, py, pw, ph = (float(n) for n in region[4:].split(","))
        x, y, w, h = round(width * px / 100), round(height * py / 100), round(width * pw / 100), \
            round(height * ph / 100)
    else:
        raise BadRequest(f"Regions offered: full, square, x,y,w,h, pct:x,y,w,h; not {region[:40]!r}.")
    if w <= 0 or h <= 0 or x >= width or y >= height:
        raise BadRequest(f"The region {region[:40]!r} is empty or outside the {width} x {height} image.")
    return x, y, min(w, width - x), min(h, height - y)


def requested_size(size: str, width: int, height: int) -> tuple[int, int]:
    """(w, h) the region of `width` x `height` is scaled to; 400 for a size larger than the region
    (no upscaling), empty, or not in Image API 3.0 syntax (which names the full size `max`, not `full`)."""
    if size == "max":
        return width, height
    if size == "full":
        raise BadRequest("Image API 3.0 names the full size 'max'; 'full' is Image API 2.")
    if size.startswith("^"):
        raise BadRequest(f"Upscaling ('^') is not offered; the largest size is max ({width},{height}).")
    if size.startswith("pct:") and re.fullmatch(DECIMAL, size[4:]):
        scale = float(size[4:]) / 100
        wanted = (round(width * scale), round(height * scale)) if 0 < scale <= 1 else (0, 0)
    else:
        wanted = _size_by_pixels(size, width, height)
    if not (1 <= wanted[0] <= width and 1 <= wanted[1] <= height):
        raise BadRequest(f"The size {size[:40]!r} is empty or larger than the region ({width},{height}): "
                         "no upscaling is offered.")
    return wanted


def _size_by_pixels(size: str, width: int, height: int) -> tuple[int, int]:
    """`w,` `,h` `w,h` and `!w,h` (the largest size within w x h and the region, keeping proportions)."""
    form = SIZE_FORM.fullmatch(size)
    if not form or not (form["w"] or form["h"]) or (form["confined"] and not (form["w"] and form["h"])):
        raise BadRequest(f"Sizes offered: 'max', 'w,', ',h', 'w,h', '!w,h', 'pct:n'; not {size[:40]!r}.")
    w, h = int(form["w"] or 0), int(form["h"] or 0)
    if form["confined"]:
        if w * height <= h * width:
            w = min(w, width)
            return w, round(height * w / width)
        h = min(h, height)
        return round(width * h / height), h
    if w and h:
        return w, h
    return (w, round(height * w / width)) if w else (round(width * h / height), h)


def is_listed(request: ImageRequest, width: int, height: int) -> bool:
    """Whether the request is for the whole page at a size `info.json` lists (cached on disk)."""
    w, h = request.size
    return request.region == (0, 0, width, height) and {"width": w, "height": h} in sizes(width, height)


def page_image(cache_dir: Path, record_id: str, digest: str, page: int, text: str,
               request: ImageRequest) -> Path:
    """The image file for a listed size; anything else is drawn and raised as `ImageInMemory`."""
    width, height = typescript.page_size(text)
    if not is_listed(request, width, height):
        raise ImageInMemory(render(text, request.size, request.fmt, request.region))
    return cached_image(cache_dir, record_id, digest, page, text, request.size, request.fmt)


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


def render(text: str, size: tuple[int, int], fmt: str, region: tuple[int, int, int, int] | None = None) -> bytes:
    """The image's bytes, or `RenderUnavailable` when memory or file handles ran out."""
    try:
        return typescript.render(text, size, FORMATS[fmt][0], region)
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
