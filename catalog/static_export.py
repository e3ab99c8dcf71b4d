"""`catalog export-static DIR`: the public catalog's IIIF as plain files, for any web server or object store.

Serving IIIF to many viewers scales best as static files behind a CDN. The export writes, for every
public record, its manifest, its annotation pages, its transcription, its record JSON and its page
images (the sizes the level-0 `info.json` lists: the thumbnail the manifest names and the full sheet,
also under `full/max`; or, with `--image-server`, none: the live catalog's Image API), and the collections (top, per archival collection, nested parts), every id
pointing under `--base-url`. JSON files end in `.json` and images in `.png`, so a plain server sends
the right media types. Content Search and the catalog's HTML pages need the server: exported
manifests leave out their search services and homepage.

Restricted records are never read: the export lists what the index calls public. It is atomic: it
writes into `DIR.tmp` and renames that to DIR when complete, and refuses a DIR that is not empty.
Page images the server has already drawn for the same record version are copied from its cache.
"""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson
from markupsafe import escape

from catalog.urls import Urls
from manifests import images
from manifests import presentation
from manifests import typescript
from manifests.iiif import archival_collection_document
from manifests.iiif import collection_pages
from manifests.iiif import top_collection_document

BATCH = 500
"""Records read from the index at a time."""


@dataclass(frozen=True)
class StaticUrls(Urls):
    """The live catalog's paths, with `.json` on every JSON document (a folder cannot also be a file, and a
    plain server types files by their suffix). With `images_at`, page images are the live catalog's
    Image API there, not files."""

    images_at: str = ""

    def image_service(self, record_id: str, n: int) -> str:
        if self.images_at:
            return Urls(self.images_at).image_service(record_id, n)
        return super().image_service(record_id, n)

    def manifest(self, record_id: str) -> str:
        return self._at(f"/iiif/{record_id}/manifest.json")

    def annotations(self, record_id: str, n: int) -> str:
        return self._at(f"/iiif/{record_id}/canvas/{n}/annotations.json")

    def iiif_collection(self, slug: str | None = None, page: int | None = None) -> str:
        return self._at("/iiif/collection" + (f"/{slug}" if slug else "") + (f"/{page}" if page else "") + ".json")

    def api_record(self, record_id: str) -> str:
        return self._at(f"/api/records/{record_id}.json")


@dataclass
class ExportSummary:
    records: int = 0
    documents: int = 0
    images: int = 0
    images_reused: int = 0
    seconds: float = 0.0


class ExportError(Exception):
    """The export cannot start (a non-empty target); nothing was written."""


def export_static(index, target: Path, base_url: str, institution: str, institution_url: str = "",
                  image_cache: Path | None = None, workers: int | None = None,
                  image_server: str = "") -> ExportSummary:
    """Write the public catalog under `target` (atomically), every id under `base_url`. With
    `image_server` (the live catalog's URL), page images are not drawn: the manifests point at that
    server's Image API, the usual split of static manifests and a live image server. Drawing is
    almost all of an export's time (some 50 ms a sheet, drawn and encoded)."""
    started = time.perf_counter()
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(f"{target} exists and is not empty; give a new or empty folder")
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)  # left by an export that did not finish
    staging.mkdir(parents=True)
    where = StaticUrls(base_url.rstrip("/"), images_at=image_server.rstrip("/"))
    who = presentation.provider(institution, institution_url or where.base + "/")
    summary = ExportSummary()
    jobs: list[tuple[str, list[tuple[tuple[int, int], list[str]]]]] = []
    try:
        offset = 0
        while rows := index.summaries(offset, BATCH):
            offset += len(rows)
            for row in rows:
                record = index.record(row["id"])
                if record is None:  # restricted or removed since it was listed
                    continue
                summary.records += 1
                summary.documents += _write_record(staging, index, record, row["content_hash"], where, who,
                                                   image_cache, jobs, summary)
        summary.documents += _write_collections(staging, index, where, institution)
        _write_landing_page(staging, where, institution)
        summary.images += _draw_images(jobs, workers)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary.seconds = time.perf_counter() - started
    return summary


def _file(root: Path, url: str, base: str) -> Path:
    return root / url[len(base):].lstrip("/")


def _write(path: Path, data: bytes) -> None:
    """Write the file, making its folder only when it is missing (most files share theirs)."""
    try:
        path.write_bytes(data)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _json(data: dict) -> bytes:
    return orjson.dumps(data)


def _write_record(root: Path, index, record, digest: str, where: StaticUrls, who: dict, image_cache: Path | None,
                  jobs: list, summary: ExportSummary) -> int:
    """The record's manifest, annotation pages, transcription and JSON; its page images are queued."""
    base = where.base
    manifest = presentation.manifest(record, where, who)
    manifest.pop("service", None)  # Content Search needs the server
    manifest.pop("homepage", None)  # the catalog's HTML pages are not exported
    _write(_file(root, where.manifest(record.id), base), _json(manifest))
    _write(_file(root, where.api_record(record.id), base), index.source(record.id))
    _write(_file(root, where.transcription_text(record.id), base),
           presentation.transcription_text(record).encode())
    written = 3
    for n, (_, page) in enumerate(record.all_pages(), 1):
        document = presentation.annotation_page(record, where, n, page, with_context=True)
        _write(_file(root, where.annotations(record.id, n), base), _json(document))
        written += 1
        if page.image_service or page.image_url or where.images_at:
            continue  # the record's own images, or the live catalog's, are served elsewhere
        width, height = typescript.page_size(page.text)
        service = where.image_service(record.id, n)
        info = images.info(service, width, height)
        info["profile"] = "level0"  # only the listed sizes exist, as files
        for extra in ("extraFormats", "extraQualities", "extraFeatures"):
            info.pop(extra)
        _write(_file(root, service + "/info.json", base), _json(info))
        written += 1
        outputs = []
        for size in images.sizes(width, height):
            w, h = size["width"], size["height"]
            paths = [str(_file(root, f"{service}/full/{w},{h}/0/default.png", base))]
            if (w, h) == (width, height):
                paths.append(str(_file(root, f"{service}/full/max/0/default.png", base)))
            cached = image_cache / record.id / f"{digest[:16]}-{n}-{w}x{h}.png" if image_cache else None
            if cached is not None and images.is_cached(cached):
                for path in paths:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(cached, path)
                summary.images_reused += 1
            else:
                outputs.append(((w, h), paths))
        if outputs:
            jobs.append((page.text, outputs))
    return written


def _write_collections(root: Path, index, where: StaticUrls, institution: str) -> int:
    _write(_file(root, where.iiif_collection(), where.base),
           _json(top_collection_document(index, where, institution)))
    written = 1
    for found in index.collections():
        slug = found["slug"]
        _write(_file(root, where.iiif_collection(slug), where.base),
               _json(archival_collection_document(index, where, slug, None)))
        written += 1
        pages = collection_pages(found)
        for page in range(1, pages + 1) if pages > 1 else ():
            _write(_file(root, where.iiif_collection(slug, page), where.base),
                   _json(archival_collection_document(index, where, slug, page)))
            written += 1
    return written


def _write_landing_page(root: Path, where: StaticUrls, institution: str) -> None:
    """The export's root: a page that says what it is and links the top Collection."""
    top = where.iiif_collection()
    page = (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(institution)}: IIIF</title>'
            f'<h1>{escape(institution)}</h1><p>IIIF Presentation 3.0: '
            f'<a href="{escape(top)}">all collections</a>.</p></html>\n')
    _write(root / "index.html", page.encode())


def _draw_images(jobs: list, workers: int | None) -> int:
    """Draw every queued page once (in parallel processes), writing each listed size."""
    if not jobs:
        return 0
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) < 4:
        return sum(map(_draw_page, jobs))
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_draw_page, jobs, chunksize=8))


def _draw_page(job: tuple[str, list[tuple[tuple[int, int], list[str]]]]) -> int:
    """One page's sheet drawn once, saved at each size as the server saves it (`typescript.render`)."""
    import io

    from PIL import Image

    text, outputs = job
    sheet = typescript.draw_sheet(text)
    for size, paths in outputs:
        image = sheet if size == sheet.size else sheet.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=6)
        for path in paths:
            _write(Path(path), out.getvalue())
    return len(outputs)
