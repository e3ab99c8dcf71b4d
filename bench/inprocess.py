"""In-process figures: the floor (read + parse a record file), our manifest built in the
process, and the peer library, iiif-prezi3, building the same manifest.

Per manifest, on a sample of records each built once (first time, no cache):
- floor: read the record file and `json.loads` it; nothing less can produce a manifest from it;
- ours, builder: read, validate against the model, `manifests.presentation.manifest`, compact JSON;
- ours, whole request: a GET through a fresh Flask app over the built index (routing, index read,
  cache miss, headers): what a worker does for a first-time manifest, without HTTP;
- iiif-prezi3: given our finished manifest as a dict (so it need not derive page sizes from the
  text), builds its model objects (pydantic validation of every Canvas, Annotation...) and
  serializes them: the cost the peer library adds to build the same document.
A row that cannot run (library absent, API changed) says why instead of a figure.
"""

from __future__ import annotations

import json
import time
from pathlib import Path


def _per_item(action, items) -> float:
    """Microseconds of CPU per item."""
    started = time.process_time()
    for item in items:
        action(item)
    return round((time.process_time() - started) / max(1, len(items)) * 1e6, 1)


def manifests(folder: Path, instance: Path, ids: list[str]) -> dict:
    base = "http://127.0.0.1"
    paths = [folder / f"{record_id}.json" for record_id in ids]
    out: dict = {"sample": len(ids)}
    out["floor_us"] = _per_item(lambda p: json.loads(p.read_bytes()), paths)
    try:
        from catalog.model import Record
        from catalog.urls import Urls
        from manifests import presentation

        links, who = Urls(base), presentation.provider("Benchmark", base + "/")

        def ours(path: Path) -> str:
            record = Record.model_validate_json(path.read_bytes())
            return json.dumps(presentation.manifest(record, links, who), ensure_ascii=False, separators=(",", ":"))

        ours(paths[0])  # imports, fonts: not part of any manifest's cost
        out["ours_builder_us"] = _per_item(ours, paths)
        built = [json.loads(ours(p)) for p in paths]
    except Exception as error:  # noqa: BLE001 - the report says what failed
        out["ours_builder_us"] = f"not available: {type(error).__name__}: {error}"[:200]
        built = []
    out["ours_request_us"] = _flask_requests(folder, instance, ids)
    out["prezi3_us"] = _prezi3(built) if built else "not available: no manifest to rebuild"
    return out


def _flask_requests(folder: Path, instance: Path, ids: list[str]) -> float | str:
    try:
        from catalog import create_app

        settings = {"CATALOG_RECORDS_DIR": str(folder), "CATALOG_INSTANCE_DIR": str(instance)}  # default refresh
        app = create_app(settings)
        client = app.test_client()
        client.get("/api/ping")
        client.get(f"/iiif/{ids[0]}/manifest").close()  # imports, fonts; the id is measured again below
        app = create_app(settings)
        client = app.test_client()
        client.get("/api/ping")

        def get(record_id: str) -> None:
            response = client.get(f"/iiif/{record_id}/manifest")
            if response.status_code != 200:
                raise RuntimeError(f"/iiif/{record_id}/manifest answered {response.status_code}")
            response.close()

        return _per_item(get, ids)
    except Exception as error:  # noqa: BLE001
        return f"not available: {type(error).__name__}: {error}"[:200]


def _prezi3(built: list[dict]) -> float | str:
    try:
        from iiif_prezi3 import Manifest
    except ImportError:
        return "not available: pip install iiif-prezi3"

    def build(data: dict) -> str:
        return Manifest(**{key: value for key, value in data.items() if key != "@context"}).jsonld()

    try:
        build(built[0])
        return _per_item(build, built)
    except Exception as error:  # noqa: BLE001
        return f"not available: {type(error).__name__}: {error}"[:200]
