"""Sickle, a real OAI-PMH harvester, harvests a real server (gunicorn on 127.0.0.1) completely,
by set and incrementally, by GET and by POST; every response it receives is schema-valid."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from sickle import Sickle
from sickle.oaiexceptions import NoRecordsMatch

from bench.generate import synthetic_record
from bench.generate import write_records
from catalog.model import slugify
from tests.conftest import LiveServer
from tests.conftest import write_record
from tests.oai_schema import oai_errors

COUNT = 1000
REPO = "harvest.example.org"

pytestmark = pytest.mark.slow  # real servers over 1,000 records: deselected by default


class CheckedSickle(Sickle):
    """Sickle that checks every response it receives against the OAI-PMH schemas."""

    def __init__(self, endpoint: str, **kwargs):
        super().__init__(endpoint, max_retries=0, timeout=60, **kwargs)
        self.responses = 0

    def harvest(self, **kwargs):
        response = super().harvest(**kwargs)
        assert response.http_response.status_code == 200
        errors = oai_errors(response.http_response.content)
        assert errors == [], f"{kwargs}: {errors[:3]}"
        self.responses += 1
        return response


def oai_id(record_id: str) -> str:
    return f"oai:{REPO}:{record_id}"


def public_ids(numbers) -> set[str]:
    return {oai_id(f"syn-{n:06d}") for n in numbers if synthetic_record(n)["access"]["status"] == "open"}


def sets_of(n: int) -> set[str]:
    record = synthetic_record(n)
    sets = {f"collection:{slugify(record['provenance']['collection']['name'])}",
            f"type:{slugify(record['document_type'])}", f"decade:{record['dates'][0]['date'][:3]}0s"}
    return sets | {f"type:{slugify(part['document_type'])}" for part in record.get("parts", [])}


def start(folder: Path, instance: Path, page_size: int = 100) -> LiveServer:
    return LiveServer(folder, instance, CATALOG_OAI_PAGE_SIZE=str(page_size),
                      CATALOG_OAI_REPOSITORY_IDENTIFIER=REPO)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("oai-corpus") / "records"
    write_records(folder, COUNT)
    return folder


def test_sickle_harvests_every_record_once_by_get_and_post_at_any_page_size(corpus, tmp_path):
    expected = public_ids(range(COUNT))
    assert len(expected) < COUNT  # some synthetic records are restricted: they must not appear
    instance = tmp_path / "instance"
    first_stamps = None
    for page_size in (7, 100, 250):
        server = start(corpus, instance, page_size)  # the same index each time: restarts keep datestamps
        try:
            for method in ("GET", "POST"):
                sickle = CheckedSickle(f"{server.url}/oai", http_method=method)
                records = list(sickle.ListRecords(metadataPrefix="oai_dc"))
                identifiers = [r.header.identifier for r in records]
                assert len(identifiers) == len(set(identifiers))
                assert set(identifiers) == expected
                assert sickle.responses == -(-len(expected) // page_size)
                stamps = {r.header.identifier: r.header.datestamp for r in records}
                first_stamps = first_stamps or stamps
                assert stamps == first_stamps
                for record in records[:: max(1, len(records) // 50)]:
                    n = int(record.header.identifier.rsplit("-", 1)[1])
                    assert record.metadata["title"] == [synthetic_record(n)["title"]]
                    assert f"{server.url}/iiif/syn-{n:06d}/manifest" in record.metadata["identifier"]
                    assert set(record.header.setSpecs) == sets_of(n) | {"collection", "type", "decade"}
        finally:
            server.stop()


def test_harvesting_a_set_returns_exactly_its_members(corpus, tmp_path):
    server = start(corpus, tmp_path / "instance", page_size=100)
    try:
        sickle = CheckedSickle(f"{server.url}/oai")
        specs = [s.setSpec for s in sickle.ListSets()]
        members: dict[str, set[str]] = {}
        for n in range(COUNT):
            if synthetic_record(n)["access"]["status"] == "open":
                for spec in sets_of(n):
                    members.setdefault(spec, set()).add(oai_id(f"syn-{n:06d}"))
        assert set(specs) == set(members) | {"collection", "type", "decade"}
        chosen = [s for s in specs if not s.startswith("collection:")] + sorted(
            (s for s in specs if s.startswith("collection:")), key=lambda s: len(members[s]))[::6]
        for spec in chosen:
            harvested = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", set=spec)]
            assert len(harvested) == len(set(harvested))
            assert set(harvested) == (public_ids(range(COUNT)) if ":" not in spec else members[spec]), spec
    finally:
        server.stop()


def stamp_after(datestamp: str, seconds: int = 1) -> str:
    moment = dt.datetime.strptime(datestamp, "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def headers(sickle: Sickle, **params) -> dict[str, object]:
    try:
        return {h.identifier: h for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", **params)}
    except NoRecordsMatch:
        return {}


def wait_for_changes(sickle: Sickle, since: str, count: int) -> dict[str, object]:
    """The headers changed since `since`, once the server has picked up `count` changes."""
    deadline = time.monotonic() + 10
    while True:
        found = headers(sickle, **{"from": since})
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def open_record(n: int) -> dict:
    record = synthetic_record(n)
    record["access"] = {"status": "open"}
    return record


def test_incremental_harvests_return_exactly_the_changed_records(tmp_path):
    folder = tmp_path / "records"
    write_records(folder, COUNT)
    live = sorted(public_ids(range(COUNT)))
    server = start(folder, tmp_path / "instance", page_size=100)
    try:
        sickle = CheckedSickle(f"{server.url}/oai")
        post = CheckedSickle(f"{server.url}/oai", http_method="POST")
        before = headers(sickle)
        assert sorted(before) == live
        t0 = max(h.datestamp for h in before.values())
        time.sleep(1.1)  # datestamps have one-second granularity

        ids = [i.rsplit(":", 1)[1] for i in live]
        edited, removed, restricted, reformatted = ids[10:13], ids[20:22], ids[30], ids[40]
        for record_id in edited:
            record = open_record(int(record_id.split("-")[1]))
            record["title"] = f"Corrected: {record['title']}"
            write_record(folder, record)
        for record_id in removed:
            (folder / f"{record_id}.json").unlink()
        record = synthetic_record(int(restricted.split("-")[1]))
        record["access"] = {"status": "restricted", "reason": "Withdrawn for screening."}
        write_record(folder, record)
        path = folder / f"{reformatted}.json"
        path.write_text(json.dumps(json.loads(path.read_text()), indent=8))  # same content, new bytes
        added = [open_record(n) for n in (COUNT, COUNT + 1)]
        for record in added:
            write_record(folder, record)

        since = stamp_after(t0)
        changed = wait_for_changes(sickle, since, 8)
        expected = {oai_id(i) for i in [*edited, *removed, restricted, *(r["id"] for r in added)]}
        assert set(changed) == expected
        assert {i for i, h in changed.items() if h.deleted} == {oai_id(i) for i in [*removed, restricted]}
        assert set(headers(post, **{"from": since})) == expected
        assert set(headers(sickle, until=t0)) == set(before) - expected
        assert set(headers(sickle, **{"from": t0[:10]})) == set(before) | expected  # day granularity
        t1 = max(h.datestamp for h in changed.values())
        assert t1 > t0

        records = {r.header.identifier: r for r in sickle.ListRecords(metadataPrefix="oai_dc", **{"from": since})}
        assert set(records) == expected
        for record_id in edited:
            assert records[oai_id(record_id)].metadata["title"][0].startswith("Corrected: ")
        for record_id in [*removed, restricted]:
            assert records[oai_id(record_id)].deleted and records[oai_id(record_id)].xml.find(".//{*}metadata") is None

        a_set = min(sets_of(int(edited[0].split("-")[1])))
        in_set = headers(sickle, set=a_set, **{"from": since})
        assert set(in_set) == {oai_id(i) for i in edited if a_set in sets_of(int(i.split("-")[1]))} | {
            oai_id(r["id"]) for r in added if a_set in sets_of(int(r["id"].split("-")[1]))}

        time.sleep(1.1)
        write_record(folder, open_record(int(removed[0].split("-")[1])))  # a deleted record returns
        again = wait_for_changes(sickle, stamp_after(t1), 1)
        assert list(again) == [oai_id(removed[0])] and not again[oai_id(removed[0])].deleted
        assert headers(sickle, **{"from": stamp_after(t1), "until": stamp_after(t1, 3600)}).keys() == again.keys()
    finally:
        server.stop()
