"""The published schema is generated from the model, and every fixture record satisfies both."""

import json
from pathlib import Path

import jsonschema
import pytest

from catalog.model import Record
from catalog.model import record_json_schema
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PROJECT

SCHEMA_FILE = PROJECT / "schemas" / "record.schema.json"
RECORD_FILES = sorted(FIXTURE_RECORDS.glob("*.json"))


def test_committed_schema_is_the_generated_one():
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == record_json_schema(), "schemas/record.schema.json is stale: run `catalog schema > schemas/record.schema.json`"


def test_schema_declares_draft_2020_12_with_id_and_version():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["version"]
    jsonschema.Draft202012Validator.check_schema(schema)


def test_the_fixture_corpus_holds_the_five_seeds_and_two_purpose_made_records():
    assert len(RECORD_FILES) == 7


@pytest.mark.parametrize("path", RECORD_FILES, ids=lambda p: p.stem)
def test_record_validates_with_plain_jsonschema(path: Path):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [e.message for e in validator.iter_errors(json.loads(path.read_text(encoding="utf-8")))]
    assert errors == []


@pytest.mark.parametrize("path", RECORD_FILES, ids=lambda p: p.stem)
def test_record_validates_with_the_model_and_round_trips(path: Path):
    record = Record.model_validate_json(path.read_bytes())
    assert record.id == path.stem
    again = Record.model_validate_json(record.model_dump_json())
    assert again == record


def test_served_schema_is_the_published_one(read_client):
    response = read_client.get("/schemas/record.schema.json")
    assert response.status_code == 200
    assert response.get_json() == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
