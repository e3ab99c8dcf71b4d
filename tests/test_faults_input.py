"""Issue 11: hostile or damaged input must get a precise answer, never a 500 or a silent loss.

Resumption tokens are signed with a key of the server's (so only tokens it issued are resumed) and
decoded without trusting their shape; record files with a byte order mark, lone surrogates or
characters XML cannot carry are refused with a message a cataloger can act on; 405 answers under
/api/ and /iiif/ say which methods are allowed.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import stat

import pytest
import requests
from lxml import etree

from catalog import create_app
from catalog.cli import main
from catalog.oai import tokens
from catalog.validation import check_bytes
from tests.conftest import PUBLIC_IDS
from tests.conftest import LiveServer
from tests.conftest import app_config
from tests.conftest import write_record

pytestmark = pytest.mark.both_backends  # the index's behaviour here holds on SQLite and on PostgreSQL

OAI_NS = {"o": "http://www.openarchives.org/OAI/2.0/"}
FIRST_PAGE = "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def oai_root(client, url: str) -> etree._Element:
    response = client.get(url)
    assert response.status_code == 200
    return etree.fromstring(response.data)


def error_code(root: etree._Element) -> str | None:
    error = root.find("o:error", OAI_NS)
    return None if error is None else error.get("code")


def next_token(root: etree._Element) -> str | None:
    return root.findtext(".//o:resumptionToken", namespaces=OAI_NS)


def resume(client, token: str, verb: str = "ListIdentifiers") -> etree._Element:
    return oai_root(client, f"/oai?verb={verb}&resumptionToken={token}")


def identifiers(root: etree._Element) -> list[str]:
    return [e.text for e in root.iterfind(".//o:header/o:identifier", OAI_NS)]


# -- resumption tokens -------------------------------------------------------------------------

def test_a_deeply_nested_token_is_a_bad_resumption_token_not_a_500(read_client):
    root = resume(read_client, b64(b"[" * 1000))
    assert error_code(root) == "badResumptionToken"


@pytest.mark.parametrize("payload", [b"[" * 1000, b"{" * 1000, b'{"v":' * 400, b"[" * 50 + b"]" * 50, b"\xff\xfe",
                                     b"1e999999", b"9" * 5000, b"[]", b"null", b""], ids=lambda p: repr(p[:12]))
def test_decoding_survives_any_signed_payload(payload):
    """Even a payload that carries a valid signature is parsed defensively (nesting capped first)."""
    key = b"k" * 32
    text = tokens._signed(b64(payload), key)
    with pytest.raises(tokens.BadToken):
        tokens.decode(text, key)


def test_only_tokens_this_server_signed_are_resumed(make_app, records_dir, tmp_path):
    app = make_app(records_dir, CATALOG_OAI_PAGE_SIZE=2)
    client = app.test_client()
    real = next_token(oai_root(client, FIRST_PAGE))
    assert error_code(resume(client, real)) is None
    # what the token would be without a signature: well formed, and resumed before tokens were signed
    first_two = sorted(PUBLIC_IDS)[:2]
    stamp = oai_root(client, FIRST_PAGE).findtext(".//o:header/o:datestamp", namespaces=OAI_NS)
    unsigned = b64(json.dumps({"v": "ListIdentifiers", "m": "oai_dc", "s": None, "f": None, "u": None, "d": stamp,
                               "i": first_two[1], "c": 2, "n": len(PUBLIC_IDS)}, separators=(",", ":")).encode())
    other_server = create_app(app_config(records_dir, tmp_path / "another-instance", CATALOG_OAI_PAGE_SIZE=2))
    from_elsewhere = next_token(oai_root(other_server.test_client(), FIRST_PAGE))
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    for token in (unsigned, from_elsewhere, tampered, real[:-22], real + real[-22:]):
        assert error_code(resume(client, token)) == "badResumptionToken", token


def test_tokens_outlive_a_restart_over_the_same_instance_folder(make_app, records_dir, tmp_path):
    first = make_app(records_dir, CATALOG_OAI_PAGE_SIZE=2).test_client()
    token = next_token(oai_root(first, FIRST_PAGE))
    page = identifiers(resume(first, token))
    restarted = make_app(records_dir, CATALOG_OAI_PAGE_SIZE=2).test_client()  # same instance folder
    assert identifiers(resume(restarted, token)) == page and len(page) == 2
    key_file = tmp_path / f"instance-{records_dir.name}" / "oai-token.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes().strip()) >= 32


def test_a_configured_secret_signs_tokens_and_no_key_file_is_written(records_dir, tmp_path):
    def client(instance: str, secret: object):
        settings = {"CATALOG_OAI_PAGE_SIZE": 2, "CATALOG_OAI_TOKEN_SECRET": secret}
        return create_app(app_config(records_dir, tmp_path / instance, **settings)).test_client()

    token = next_token(oai_root(client("a", "correct horse battery staple"), FIRST_PAGE))
    assert error_code(resume(client("b", "correct horse battery staple"), token)) is None
    assert error_code(resume(client("c", "another secret"), token)) == "badResumptionToken"
    assert error_code(resume(client("d", ""), token)) == "badResumptionToken"
    numeric = next_token(oai_root(client("e", 12345), FIRST_PAGE))  # CATALOG_OAI_TOKEN_SECRET=12345 reads as JSON
    assert error_code(resume(client("f", "12345"), numeric)) is None
    assert not any((tmp_path / name / "oai-token.key").exists() for name in "abcef")


def _first_key(barrier, config: dict, out: str) -> None:
    barrier.wait()
    with open(out, "w") as file:
        file.write(tokens.key_for(config).hex())


def test_workers_starting_together_agree_on_one_key(tmp_path):
    """Processes that find no key file at the same moment end up with the same key (O_EXCL decides)."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(8)
    config = {"CATALOG_OAI_TOKEN_SECRET": "", "CATALOG_INSTANCE_DIR": str(tmp_path / "instance")}
    (tmp_path / "instance").mkdir()
    workers = [context.Process(target=_first_key, args=(barrier, config, str(tmp_path / f"key-{n}")))
               for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    keys = {(tmp_path / f"key-{n}").read_text() for n in range(8)}
    assert len(keys) == 1 and keys != {""}
    assert keys == {tokens.key_for(config).hex()}


def test_an_empty_key_file_is_an_error_that_says_what_to_do(tmp_path):
    (tmp_path / "oai-token.key").write_bytes(b"")
    with pytest.raises(RuntimeError, match="oai-token.key.*CATALOG_OAI_TOKEN_SECRET"):
        tokens.key_for({"CATALOG_OAI_TOKEN_SECRET": "", "CATALOG_INSTANCE_DIR": str(tmp_path)})


@pytest.mark.slow
def test_tokens_work_across_gunicorn_workers_and_restarts(tmp_path, records_dir):
    instance = tmp_path / "instance-live"

    def harvest(server: LiveServer) -> tuple[list[str], list[str]]:
        ids, issued = [], []
        url = server.url + FIRST_PAGE
        while True:
            root = etree.fromstring(requests.get(url, timeout=10).content)
            assert error_code(root) is None
            ids += identifiers(root)
            token = next_token(root)
            if not token:
                return ids, issued
            issued.append(token)
            url = f"{server.url}/oai?verb=ListIdentifiers&resumptionToken={token}"

    server = LiveServer(records_dir, instance, workers=3, CATALOG_OAI_PAGE_SIZE="1")
    try:
        runs = [harvest(server) for _ in range(3)]  # many requests: every worker answers some
    finally:
        server.stop()
    ids, issued = runs[0]
    assert sorted(ids) == [f"oai:catalog.example.org:{i}" for i in PUBLIC_IDS]
    assert all(run == runs[0] for run in runs)
    restarted = LiveServer(records_dir, instance, workers=2, CATALOG_OAI_PAGE_SIZE="1")
    try:
        root = etree.fromstring(requests.get(
            f"{restarted.url}/oai?verb=ListIdentifiers&resumptionToken={issued[0]}", timeout=10).content)
    finally:
        restarted.stop()
    assert identifiers(root) == ids[1:2]
    assert (instance / "oai-token.key").exists()


# -- record files ------------------------------------------------------------------------------

def validate(capsys, path) -> tuple[int, str]:
    code = main(["validate", str(path)])
    return code, capsys.readouterr().out


def test_a_byte_order_mark_is_named_with_its_fix(tmp_path, synthetic, capsys):
    path = write_record(tmp_path, synthetic(1))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, out = validate(capsys, path)
    assert code == 1
    assert f"error: {path}: starts with a byte order mark (BOM)" in out
    assert "save it as UTF-8 without BOM" in out
    assert "expected value" not in out


def test_utf16_text_is_named_as_such(tmp_path, synthetic, capsys):
    path = tmp_path / "syn-000001.json"
    path.write_bytes(json.dumps(synthetic(1)).encode("utf-16"))
    code, out = validate(capsys, path)
    assert code == 1
    assert "is UTF-16 text (it starts with a UTF-16 byte order mark): save it as UTF-8" in out


def _position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first `needle` in `text`."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


@pytest.mark.parametrize("title, escape", [("A\ud800B", "\\ud800"), ("A\udc00", "\\udc00"),
                                           ("\udc00\ud800 reversed", "\\udc00"), ("end \ud83d", "\\ud83d"),
                                           ("\\\ud800 after an escaped backslash", "\\ud800")])
def test_a_lone_surrogate_is_named_at_its_line_and_column(tmp_path, synthetic, capsys, title, escape):
    record = synthetic(2)
    record["title"] = title
    path = tmp_path / "syn-000002.json"
    text = json.dumps(record, indent=2)  # ensure_ascii: the surrogate is written as an escape
    path.write_text(text, encoding="ascii")
    code, out = validate(capsys, path)
    line, column = _position(text, escape)
    assert code == 1
    assert f"error: {path}:{line}:{column}: {escape} is a lone surrogate" in out
    assert "hex escape" not in out


def test_surrogate_pairs_are_fine(tmp_path, synthetic, capsys):
    record = synthetic(2)
    record["title"] = "A \U0001f600 pair, escaped, and the text \\ud800 (an escaped backslash, then ud800)"
    path = tmp_path / "syn-000002.json"
    path.write_text(json.dumps(record), encoding="ascii")
    assert validate(capsys, path)[0] == 0


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\ufffe", "\uffff"])
def test_characters_xml_cannot_carry_are_errors_with_their_field(synthetic, char):
    record = synthetic(3)
    record.pop("parts", None)
    record["pages"] = [{"label": "1", "text": f"before{char}after"}]
    data = json.dumps(record, ensure_ascii=char < "\x20").encode()  # escaped, or as raw UTF-8 (U+FFFE, U+FFFF)
    _, problems = check_bytes(data, "records/syn-000003.json")
    assert [str(p) for p in problems] == [
        f"records/syn-000003.json: pages[0].text: contains U+{ord(char):04X}, which XML cannot carry; remove it"]
    assert all(p.severity == "error" for p in problems)


def test_every_offending_field_is_named_once_with_each_character(synthetic):
    record = synthetic(4)
    record["title"] = "a\x01b\x0bc\x01"
    record["description"]["subjects"] = ["fine", "bell\x07"]
    record["colour"] = "red\x02"  # also wrong for the schema: both problems are reported
    _, problems = check_bytes(json.dumps(record).encode(), "records/syn-000004.json")
    messages = [p.message for p in problems]
    assert "description.subjects[1]: contains U+0007, which XML cannot carry; remove it" in messages
    assert "title: contains U+0001 and U+000B, which XML cannot carry; remove them" in messages
    assert "colour: contains U+0002, which XML cannot carry; remove it" in messages
    assert any(m.startswith("colour: unknown field") for m in messages)


def test_tab_newline_and_other_text_are_fine(synthetic):
    record = synthetic(5)
    record["title"] = "tab\there\nnewline\r\n \u00e9 \u202e \ud7ff \ue000 \ufffd \U0001f600 \U0010fffd"
    assert check_bytes(json.dumps(record).encode(), "records/syn-000005.json")[1] == []
    assert check_bytes(json.dumps(record, ensure_ascii=False).encode(), "records/syn-000005.json")[1] == []


def test_a_record_xml_cannot_carry_is_not_served_until_fixed(make_app, records_dir, synthetic):
    record = synthetic(6)
    record["access"] = {"status": "open"}
    record["title"] = "Vertical\u000btab"
    write_record(records_dir, record)
    client = make_app(records_dir).test_client()
    assert client.get("/api/records/syn-000006").status_code == 404
    root = oai_root(client, "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:catalog.example.org:syn-000006")
    assert error_code(root) == "idDoesNotExist"
    health = client.get("/api/health").get_json()
    assert health["status"] == "degraded"
    assert health["problems"] == [{"path": "records/syn-000006.json", "serving_last_valid_version": False, "problems": [
        "records/syn-000006.json: title: contains U+000B, which XML cannot carry; remove it"]}]


# -- 405 under /api/ and /iiif/ ------------------------------------------------------------------

@pytest.mark.parametrize("method, url", [("POST", "/api/records"), ("DELETE", f"/iiif/{PUBLIC_IDS[0]}/manifest"),
                                         ("PUT", "/schemas/record.schema.json")])
def test_405_answers_say_which_methods_are_allowed(read_client, method, url):
    response = read_client.open(url, method=method)
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405
    allowed = [m.strip() for m in response.headers.get("Allow", "").split(",")]
    assert "GET" in allowed and method not in allowed


# -- forwarded headers and hosts -----------------------------------------------------------------------

FORGED = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize("path", ["/iiif/hull-memorandum-1943-10-30/manifest", "/api/records", "/sitemap.xml",
                                  "/oai?verb=Identify", "/records/hull-memorandum-1943-10-30.json", "/robots.txt"])
def test_forged_forwarded_headers_reach_no_link_by_default(read_client, path):
    body = read_client.get(path, headers=FORGED).get_data(as_text=True)
    assert "evil.example" not in body and "http://localhost" in body


def test_configured_hosts_refuse_any_other(make_app, records_dir):
    client = make_app(records_dir, CATALOG_TRUSTED_HOSTS="catalog.example.org, localhost").test_client()
    assert client.get("/api/records").status_code == 200
    assert client.get("/api/records", headers={"Host": "evil.example"}).status_code == 400
    proxied = make_app(records_dir, CATALOG_TRUSTED_HOSTS="catalog.example.org", CATALOG_TRUSTED_PROXIES=1)
    answer = proxied.test_client().get("/api/records", headers={"X-Forwarded-Host": "evil.example"})
    assert answer.status_code == 400
