"""IIIF Image API 3.0, level 0, for the typescript renderings of transcription pages.

Level 0 means fixed images only: the full region at the sizes `info.json` declares, no rotation,
default quality. Rendered files are cached on disk under the instance folder, keyed by the record's
content hash, so a changed record never serves a stale image and a cached one is a plain file send.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from werkzeug.exceptions import BadRequest

from manifests import typescript

IMAGE_CONTEXT = "http://iiif.io/api/image/3/context.json"
DERIVED_WIDTHS = (200, 600)
"""A thumbnail and a screen-sized image besides the full size."""
THUMBNAIL_WIDTH = DERIVED_WIDTHS[0]
FORMATS = {"png": ("PNG", "image/png"), "jpg": ("JPEG", "image/jpeg")}


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


def cached_image(cache_dir: Path, record_id: str, digest: str, page: int, text: str,
                 size: tuple[int, int], fmt: str) -> Path:
    """The rendered image file, drawing it the first time it is asked for."""
    folder = cache_dir / record_id
    path = folder / f"{digest[:16]}-{page}-{size[0]}x{size[1]}.{fmt}"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    data = typescript.render(text, size, FORMATS[fmt][0])
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)
    return path
