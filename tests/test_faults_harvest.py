"""An incremental harvester that resumes `from` its last responseDate never misses a change, even while
the server is committing large refreshes as it harvests."""

from __future__ import annotations

import random
import re
import time

import pytest
import requests

from bench.generate import synthetic_record
from tests.conftest import LiveServer
from tests.conftest import write_record

HEADER = re.compile(r"<header(?: status=\"deleted\")?><identifier>([^<]+)</identifier><datestamp>([^<]+)</datestamp>")
RESPONSE_DATE = re.compile(r"<responseDate>([^<]+)</responseDate>")
TOKEN = re.compile(r"<resumptionToken[^>]*>([^<]*)</resumptionToken>")


def big_record(n: int, edit: int) -> dict:
    """A record with a long transcription of distinct words (about 1.6 MB): indexing five of them
    takes a refresh well over a second, so harvests fall inside the write transaction."""
    record = synthetic_record(n)
    record["access"] = {"status": "open"}
    record["title"] = f"Edit {edit} of record {n}"
    rng = random.Random(n * 1000 + edit)
    pages = record["pages"] if "pages" in record else record["parts"][0]["pages"]
    pages[0]["text"] = " ".join(f"{rng.getrandbits(40):x}" for _ in range(150_000))
    return record


def harvest(url: str, start: str | None) -> tuple[str, set[tuple[str, str]]]:
    """(responseDate of the first page, every (identifier, datestamp) listed) from `start` on."""
    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", **({"from": start} if start else {})}
    seen: set[tuple[str, str]] = set()
    first_date = None
    while True:
        text = requests.get(f"{url}/oai", params=params, timeout=30).text
        first_date = first_date or RESPONSE_DATE.search(text).group(1)
        seen |= set(HEADER.findall(text))
        token = TOKEN.search(text)
        if not token or not token.group(1):
            return first_date, seen
        params = {"verb": "ListIdentifiers", "resumptionToken": token.group(1)}


def applied(url: str, edited: list[dict]) -> bool:
    """Whether the server serves every edited record as written (however long a loaded machine took)."""
    for record in edited:
        response = requests.get(f"{url}/api/records/{record['id']}", timeout=30)
        if response.status_code != 200 or response.json()["title"] != record["title"]:
            return False
    return True


@pytest.mark.slow
def test_an_incremental_harvester_racing_refreshes_misses_nothing(tmp_path):
    """Each cycle commits one long refresh (five large records) while the harvester polls `from` its
    last responseDate; after each cycle the harvester's copy must equal the repository."""
    records = tmp_path / "records"
    records.mkdir()
    ids = list(range(10))
    for n in ids:
        write_record(records, big_record(n, 0))
    server = LiveServer(records, tmp_path / "instance", workers=3, CATALOG_REFRESH_INTERVAL="0.05")
    try:
        last, seen = harvest(server.url, None)
        copy = dict(seen)  # what the harvester holds: identifier → datestamp
        rng = random.Random(7)
        misses = []
        for cycle in range(1, 7):
            edited = [big_record(n, cycle) for n in rng.sample(ids, 5)]
            for record in edited:
                write_record(records, record)
            until = time.monotonic() + 3.0
            while time.monotonic() < until or not applied(server.url, edited):  # poll through the refresh
                last, found = harvest(server.url, last)
                copy.update(found)
            last, found = harvest(server.url, last)  # the harvester's next visit, once the cycle is in
            copy.update(found)
            _, everything = harvest(server.url, None)
            misses += [identifier for identifier, stamp in everything if copy.get(identifier) != stamp]
            copy.update(everything)  # resynchronise, so each cycle is judged on its own
        assert misses == [], f"{len(misses)} changes never reached the incremental harvester"
    finally:
        server.stop()
