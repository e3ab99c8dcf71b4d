"""schemathesis drives the JSON and IIIF endpoints from /api/openapi.json against a real server:
no 5xx, and every response matches the description (status codes, content types, bodies)."""

import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import content_type_conformance
from schemathesis.checks import not_a_server_error
from schemathesis.checks import response_schema_conformance
from schemathesis.checks import status_code_conformance

from tests.conftest import FIXTURE_RECORDS
from tests.conftest import LiveServer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi") / "records"
    shutil.copytree(FIXTURE_RECORDS, folder)
    server = LiveServer(folder, folder.parent / "instance", workers=2)
    yield schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    server.stop()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_endpoints_conform_to_the_openapi_description(case):
    case.call_and_validate(checks=CHECKS)


def test_openapi_lists_every_machine_endpoint(read_app, read_client):
    document = read_client.get("/api/openapi.json").get_json()
    machine_rules = {rule.rule for rule in read_app.url_map.iter_rules()
                     if rule.rule.startswith(("/api/", "/iiif/", "/schemas/")) and "GET" in rule.methods
                     and not rule.rule.endswith(("/viewer", "/openapi.json", "/ping"))
                     and not rule.rule.startswith("/iiif/viewer/")}  # the viewer's own script and styles
    described = {path.replace("{", "<").replace("}", ">") for path in document["paths"]}
    normalized = {__import__("re").sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"<\1>", rule) for rule in machine_rules}
    assert normalized <= described, f"undocumented: {sorted(normalized - described)}"
