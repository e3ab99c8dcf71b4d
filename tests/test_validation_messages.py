"""Issue 12: cataloger-facing validation.

Errors name the field by its full path (`pages[1].label`) and say in words what the field wants;
warnings catch what the schema cannot (a hyphen for the en dash of a file number, a message received
before it was sent, a personal name not inverted, a page label nothing has). Every check has a record
that triggers it and one that must not; the fixture corpus and the synthetic corpus get no false
warnings, and `/api/health` lists exactly the errors `catalog validate` prints.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from bench.generate import synthetic_record
from catalog.cli import main
from catalog.model import Provenance
from catalog.model import Record
from catalog.model import record_json_schema
from catalog.validation import _PATTERN_WORDS
from catalog.validation import check_bytes
from catalog.validation import record_warnings
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PROJECT
from tests.conftest import write_record

HULL = "hull-memorandum-1943-10-30"
STALIN = "stalin-truman-1946-04-06"
NEW_WARNINGS = ("en dash", "before it was sent", "natural order", "no page is labelled", "there is no part",
                "does not occur")
"""A fragment of each warning this issue adds: the corpora must not get any of them."""


def fixture(name: str) -> dict:
    return json.loads((FIXTURE_RECORDS / f"{name}.json").read_text(encoding="utf-8"))


def errors(record: dict) -> list[str]:
    """The messages `check_bytes` gives for a record written as its file would be."""
    record_, problems = check_bytes(json.dumps(record, indent=2).encode(), f"records/{record['id']}.json")
    assert record_ is None or problems, "the record was expected to be refused"
    return [p.message for p in problems]


def syntax_error(text: str) -> str:
    _, problems = check_bytes(text.encode(), "records/x.json")
    assert len(problems) == 1
    return str(problems[0])


def warnings(record: dict) -> list[str]:
    parsed = Record.model_validate_json(json.dumps(record))
    return [p.message for p in record_warnings(parsed, f"records/{record['id']}.json")]


def new_warnings(record: dict) -> list[str]:
    return [w for w in warnings(record) if any(fragment in w for fragment in NEW_WARNINGS)]


# -- paths -------------------------------------------------------------------------------------

def test_paths_name_list_entries_in_brackets_at_every_depth():
    record = fixture(STALIN)
    record["parts"][1]["pages"][2]["label"] = 3
    record["parts"][1]["dates"][0]["time"] = "6pm"
    record["provenance"]["editions"] = [{"publisher": "x", "title": "y", "url": "ftp://example.org"}]
    record["parts"][0]["pages"][0]["colour"] = "red"
    assert errors(record) == [  # top to bottom: provenance comes before parts in the file
        "provenance.editions[0].url: 'ftp://example.org' must start with http:// or https://",
        ("parts[0].pages[0].colour: unknown field (a typo?); the fields here are label, label_supplied, text, "
         "image_service, image_url, width, height"),
        "parts[1].dates[0].time: '6pm' must be HH:MM, 24-hour (6 p.m. is 18:00)",
        'parts[1].pages[2].label: should be text (in double quotes), not the number 3: write "3"',
    ]


def test_problems_inside_an_optional_list_keep_their_own_paths():
    """`pages` may be absent (a compound item has parts): each page's problem is still named, not
    folded into one message about `pages` that quotes the whole transcription."""
    record = fixture(HULL)
    record["pages"][0]["label"] = ""
    record["pages"][1]["label"] = 2
    record["pages"][2]["width"] = 0
    messages = errors(record)
    assert messages == ['pages[0].label: is empty ("")',
                        'pages[1].label: should be text (in double quotes), not the number 2: write "2"',
                        "pages[2].width: 0 is less than 1, the least allowed"]


def test_no_message_uses_dotted_indexes_or_quotes_a_whole_value():
    record = fixture(HULL)
    record.update(title=5, language="English", id="Hull Memo", colour="red", pages="x" * 5000)
    record["dates"][0].update(date="30 Oct 1943", time="7 pm")
    record["creators"][0].pop("name")
    record["footnotes"][0]["referenced_at"]["page"] = 686
    record["rights"]["uri"] = "www.example.org"
    record["provenance"]["classification"]["level"] = "Secret"
    messages = errors(record)
    assert len(messages) >= 10
    for message in messages:
        where = message.split(": ", 1)[0]
        assert not re.search(r"\.\d|\d\.|is not of type|does not match '", message), message
        assert re.fullmatch(r"\(record\)|[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*", where), message
        assert len(message) < 400, message


def test_messages_follow_the_file_top_to_bottom():
    """Indexes compared as numbers (pages[2] before pages[10]), fields in the file's order, a missing
    field after the fields of its object."""
    record = fixture(HULL)
    record["title"] = 5
    record["creators"][0].pop("role")
    record["creators"][0]["name"] = ""
    record["language"] = "English"
    assert errors(record) == [
        'title: should be text (in double quotes), not the number 5: write "5"',
        "language: 'English' is not a language tag: use a BCP 47 tag such as en or en-US",
        'creators[0].name: is empty ("")',
        "creators[0].role: missing (required)",
    ]
    record = synthetic_record(7)
    record.pop("parts", None)
    record["pages"] = [{"label": str(n), "text": "x"} for n in range(12)]
    record["pages"][10]["label"] = ""
    record["pages"][2]["label"] = ""
    assert errors(record)[:2] == ['pages[2].label: is empty ("")', 'pages[10].label: is empty ("")']


# -- what each rule asks, in words ---------------------------------------------------------------

@pytest.mark.parametrize("change, expected", [
    (lambda r: r.update(id="Hull_Memo"),
     ("id: 'Hull_Memo' is not an id: an id is lower-case letters, digits and hyphens, starting and ending "
     "with a letter or digit (at most 100 characters)")),
    (lambda r: r["rights"].update(uri="creativecommons.org"),
     "rights.uri: 'creativecommons.org' must start with http:// or https://"),
    (lambda r: r["dates"][0].update(time="25:00"), "dates[0].time: '25:00' must be HH:MM, 24-hour (6 p.m. is 18:00)"),
    (lambda r: r.update(language="English"),
     "language: 'English' is not a language tag: use a BCP 47 tag such as en or en-US"),
    (lambda r: r["dates"][0].update(edtf="1943-10-30 circa"),
     ("dates[0].edtf: '1943-10-30 circa' is not an EDTF date: write e.g. 1945-06-16, 1945-06?, 1945~, or an "
     "interval such as 1945-06/1945-07 or ../1945-11-06")),
    (lambda r: r["dates"][0].update(date="1943-10-3"),
     "dates[0].date: '1943-10-3' is not a valid date: expected YYYY-MM-DD, e.g. 1943-10-30"),
    (lambda r: r["dates"][0].update(date="October 30, 1943"),
     "dates[0].date: 'October 30, 1943' is not a valid date: expected YYYY-MM-DD, e.g. 1943-10-30"),
    (lambda r: r["dates"][0].update(date="1943-02-29"),
     "dates[0].date: '1943-02-29' is not a valid date: February 1943 has 28 days"),
    (lambda r: r["dates"][0].update(end_date="1943-13-01"),
     "dates[0].end_date: '1943-13-01' is not a valid date: there is no month 13 (expected YYYY-MM-DD)"),
    (lambda r: r["cataloging"].update(created="1 Nov 2026"),
     ("cataloging.created: '1 Nov 2026' is not a valid date and time: expected YYYY-MM-DDTHH:MM:SSZ "
      "(or an offset such as +01:00 for Z), e.g. 2026-11-01T09:30:00Z")),
    (lambda r: r.pop("title"), "title: missing (required)"),
    (lambda r: r["creators"][0].pop("role"), "creators[0].role: missing (required)"),
    (lambda r: r["provenance"]["classification"].update(level="Top Secret"),
     ("provenance.classification.level: 'Top Secret' is not one of 'top secret', 'secret', 'confidential', "
     "'restricted', 'unclassified', 'unmarked'; did you mean 'top secret'?")),
    (lambda r: r["pages"][0].update(lable="685"), "pages[0].lable: unknown field (a typo?); did you mean 'label'?"),
    (lambda r: r["provenance"]["transmission"].update(sections="6") if r["provenance"].get("transmission")
     else r["provenance"].update(transmission={"sections": "6"}),
     "provenance.transmission.sections: should be a whole number, not the text '6': write 6 without quotes"),
    (lambda r: r["pages"][0].update(label_supplied="true"),
     "pages[0].label_supplied: should be true or false, not the text 'true': write true without quotes"),
    (lambda r: r.update(creators={"name": "Hull, Cordell", "role": "author"}),
     "creators: should be a list [...], not an object"),
    (lambda r: r["provenance"]["editions"][0].update(editors=[5]),
     ('provenance.editions[0].editors[0]: should be text (in double quotes) or an object {...}, not the number 5: '
     'write "5"')),
    (lambda r: r.update(parts=fixture(STALIN)["parts"]),
     "(record): has both 'pages' and 'parts'; only one of them is allowed"),
    (lambda r: r.pop("pages"), "(record): has neither 'pages' nor 'parts'; one of them is required"),
    (lambda r: r.update(pages=None), "(record): has neither 'pages' nor 'parts'; one of them is required"),
    (lambda r: r.update(corrections=[{"page": "685", "footnote": "50a", "original": "a", "reading": "b"}]),
     "corrections[0]: has both 'page' and 'footnote'; only one of them is allowed"),
    (lambda r: r.update(corrections=[{"original": "a", "reading": "b"}]),
     "corrections[0]: has neither 'page' nor 'footnote'; one of them is required"),
    (lambda r: r.update(relations=[{"type": "refers to", "uri": None}]),
     "relations[0]: has none of 'target', 'uri' or 'as_printed'; at least one of them is required"),
    (lambda r: r.update(access={"status": "restricted"}),
     "access.reason: missing (required when status is 'restricted')"),
    (lambda r: r.update(access={"status": "restricted", "reason": ""}),
     "access.reason: is empty (\"\") (when status is 'restricted')"),
    (lambda r: r["pages"][0].update(width=2.0),
     "pages[0].width: 2.0 should be a whole number, written without a fraction or exponent: write 2"),
])
def test_each_rule_is_said_in_words(change, expected):
    record = fixture(HULL)
    change(record)
    assert expected in errors(record)


def test_a_record_that_is_not_an_object_is_named_as_such():
    _, problems = check_bytes(b"[1, 2]", "records/x.json")
    assert [p.message for p in problems] == ["(record): should be an object {...}, not a list"]


def test_the_models_own_rules_come_with_the_schemas_problems():
    """Rules only the model checks (a range out of order, 2.0 for a whole number) are not for a second
    round; a rule both state (a restricted record's reason) is said once, by the schema."""
    record = fixture(HULL)
    record["access"] = {"status": "restricted", "reason": 5}
    record["dates"][0]["end_date"] = "1943-10-01"
    record["pages"][0]["label"] = ""
    record["pages"][1]["width"] = 3.0
    assert errors(record) == ["dates[0]: end_date is before date",
                              'access.reason: should be text (in double quotes), not the number 5: write "5"',
                              'pages[0].label: is empty ("")',
                              ("pages[1].width: 3.0 should be a whole number, written without a fraction or "
                              "exponent: write 3")]


def test_every_pattern_of_the_schema_is_said_in_words():
    """A pattern added to the model without words would show cataloger a regular expression."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(record_json_schema())
    assert found and found <= set(_PATTERN_WORDS)


# -- JSON syntax ---------------------------------------------------------------------------------

def test_a_trailing_comma_is_named_at_the_comma():
    assert syntax_error('{\n  "id": "x",\n  "title": "y",\n}\n') == (
        "records/x.json:3:15: trailing comma before '}': JSON allows no comma after the last item; remove it")
    assert syntax_error('{\n  "subjects": ["a", "b",\n  ]\n}') == (
        "records/x.json:2:24: trailing comma before ']': JSON allows no comma after the last item; remove it")


@pytest.mark.parametrize("text, expected", [
    ('{\n  "id": "x"\n  "title": "y"\n}', ":3:3: Expecting ',' delimiter: a comma is missing at the end of line 2"),
    ('{"title": "He said "yes""}', (":1:21: Expecting ',' delimiter: a comma is missing before this point, or a "
                                   'quotation mark inside a text is not escaped (write \\")')),
    ("{'id': 'x'}", ":1:2: Expecting property name enclosed in double quotes: field names need double quotes"),
    ('{"id": \'x\'}', ":1:8: Expecting value: texts need double quotes, not single ones"),
    ('{"approximate": True}', ":1:17: Expecting value: write true, in lower case"),
    ('{"id": "x', ":1:8: a text is not closed: a quotation mark is missing"),
    ('{"id": "x\ny"}', ":1:10: a line break or tab inside a text: write it as \\n or \\t"),
    ('{"id": "x"}\n{"id": "y"}', ":2:1: Extra data: there is more after the record's closing }"),
    ("", ": the file is empty"),
])
def test_json_syntax_errors_say_the_usual_cause(text, expected):
    assert syntax_error(text).startswith(f"records/x.json{expected}")


def test_commas_in_texts_are_not_trailing_commas():
    """A comma inside a text before a closing bracket is text; only a real comma token is named."""
    message = syntax_error('{"title": "a,]", "x": }')
    assert "trailing comma" not in message
    assert message.startswith("records/x.json:1:23: Expecting value")


# -- warning: the en dash of a decimal file number ------------------------------------------------

@pytest.mark.parametrize("written, dash", [("740.0011 Moscow/10-3043", "a hyphen"),
                                           ("740.0011 Moscow/10—3043", "an em dash"),
                                           ("740.0011 Moscow/10−3043", "a minus sign")])
def test_a_hyphen_in_the_date_code_suggests_the_en_dash(written, dash):
    record = fixture(HULL)
    record["provenance"]["file_number"] = written
    assert new_warnings(record) == [
        (f"provenance.file_number: {written!r} has {dash} in its date code where the file number has an en dash: "
        "write '740.0011 Moscow/10–3043'")]


def test_other_file_numbers_are_checked_too():
    record = fixture(HULL)
    record["provenance"]["other_file_numbers"] = ["761.93/6–1645", "740.0011 EW/1-0144"]
    assert new_warnings(record) == [
        ("provenance.other_file_numbers[1]: '740.0011 EW/1-0144' has a hyphen in its date code where the file "
        "number has an en dash: write '740.0011 EW/1–0144'")]


@pytest.mark.parametrize("number", ["740.0011 Moscow/10–3043", "740.0011 Moscow/183", "861.00-Moscow/12",
                                    "711.61/1-2", "Moscow Embassy Files-710"])
def test_en_dashes_serial_numbers_and_other_hyphens_do_not_warn(number):
    record = fixture(HULL)
    record["provenance"]["file_number"] = number
    assert new_warnings(record) == []


# -- warning: received before sent --------------------------------------------------------------

def test_a_received_date_before_the_sent_date_warns():
    record = fixture(HULL)
    record["dates"] = [{"type": "sent", "date": "1943-11-04"}, {"type": "received", "date": "1943-11-02"}]
    assert new_warnings(record) == [
        ("dates[1].date: received 1943-11-02, before it was sent (1943-11-04, dates[0].date): "
        "is one of the dates mistyped?")]


def test_a_parts_dates_are_compared_within_the_part():
    record = fixture(STALIN)
    dates = record["parts"][1]["dates"]
    dates.append({"type": "received", "date": "1946-04-03"})
    assert new_warnings(record) == [
        (f"parts[1].dates[{len(dates) - 1}].date: received 1946-04-03, before it was sent (1946-04-05, "
        "parts[1].dates[0].date): is one of the dates mistyped?")]


@pytest.mark.parametrize("received", [
    {"type": "received", "date": "1943-11-06"},  # after
    {"type": "received", "date": "1943-11-04"},  # the same day
    {"type": "received", "date": "1943-11-01", "approximate": True},
    {"type": "received", "date": "1943-11-01", "certainty": "inferred"},
    {"type": "received", "date": "1943-11-03", "time": "23:15"},  # across the date line
    {"type": "written", "date": "1943-11-01"},
])
def test_receipts_that_can_be_right_do_not_warn(received):
    record = fixture(HULL)
    record["dates"] = [{"type": "sent", "date": "1943-11-04", "time": "09:00"}, received]
    assert new_warnings(record) == []


def test_one_day_early_without_times_warns():
    record = fixture(HULL)
    record["dates"] = [{"type": "sent", "date": "1943-11-04"}, {"type": "received", "date": "1943-11-03"}]
    assert len(new_warnings(record)) == 1


def test_parts_dates_are_not_compared_with_the_records():
    """The item's own date (a covering telegram's) says nothing of when an enclosure was received."""
    record = fixture(STALIN)
    record["dates"] = [{"type": "sent", "date": "1946-04-07"}]
    assert new_warnings(record) == []


# -- warning: personal names family name first ----------------------------------------------------

@pytest.mark.parametrize("name, inverted", [
    ("W. Averell Harriman", "Harriman, W. Averell"),
    ("Harry S. Truman", "Truman, Harry S."),
    ("Cordell Hull", "Hull, Cordell"),
    ("T. V. Soong", "Soong, T. V."),
    ("Charles de Gaulle", "Gaulle, Charles de"),
    ("Joseph P. Kennedy Jr.", "Kennedy, Joseph P., Jr."),
    ("Andrei Vyshinsky", "Vyshinsky, Andrei"),
    ("Chiang Kai-shek", "Chiang, Kai-shek"),
])
def test_a_personal_name_in_natural_order_warns(name, inverted):
    record = fixture(HULL)
    record["creators"][0]["name"] = name
    assert new_warnings(record) == [
        (f"creators[0].name: {name!r} looks like a personal name in natural order; write the family name first, "
        f"with a comma: probably {inverted!r}")]


@pytest.mark.parametrize("name", [
    "Harriman, W. Averell", "Chiang, Kai-shek", "Stalin", "United States. Department of State",
    "Department of State", "The President", "Soviet Union", "Great Britain. Foreign Office", "President Truman",
    "Mr. Hurley", "Marshal Stalin", "AMEMBASSY MOSCOW", "WALTER BEDELL SMITH", "Associated Press",
    "Joint Chiefs of Staff", "Red Army", "American Embassy Moscow", "New York Times", "Navy Department",
    "U.S.S.R.", "Smith (Ambassador)", "SECSTATE WASHINGTON",
])
def test_offices_institutions_titles_and_inverted_names_do_not_warn(name):
    record = fixture(HULL)
    record["creators"][0]["name"] = name
    record["persons_mentioned"][0]["name"] = name
    assert new_warnings(record) == []


def test_names_are_checked_in_parts_and_among_persons_mentioned():
    record = fixture(STALIN)
    record["parts"][1]["creators"][0]["name"] = "Walter Bedell Smith"
    record["persons_mentioned"][0]["name"] = "Joseph Stalin"
    found = new_warnings(record)
    assert sorted(w.split(":")[0] for w in found) == ["parts[1].creators[0].name", "persons_mentioned[0].name"]


# -- warning: page labels nothing has ------------------------------------------------------------

def test_a_footnote_referenced_at_a_missing_page_warns():
    record = fixture(HULL)
    record["footnotes"][0]["referenced_at"]["page"] = "688"
    assert new_warnings(record) == [
        "footnotes[0].referenced_at.page: no page is labelled '688': did you mean '687'?"]


def test_a_correction_on_a_missing_page_lists_the_labels():
    record = fixture(HULL)
    record["corrections"] = [{"page": "p. iv", "original": "Molotoff", "reading": "Molotov"}]
    assert new_warnings(record) == [("corrections[0].page: no page is labelled 'p. iv'; the record has '685', "
                                    "'686', '687'")]


def test_labels_are_looked_up_in_the_part_named():
    record = fixture(STALIN)
    first_part_label = record["parts"][0]["pages"][0]["label"]
    record["corrections"] = [
        {"page": first_part_label, "part": 1, "original": "a", "reading": "b"},
        {"page": first_part_label, "part": 2, "original": "a", "reading": "b"},
        {"page": first_part_label, "part": 3, "original": "a", "reading": "b"},
    ]
    found = new_warnings(record)
    assert found[0].startswith(f"corrections[1].page: no page is labelled {first_part_label!r}")
    assert "part 2 has" in found[0] or "did you mean" in found[0]
    assert found[1] == "corrections[2].part: there is no part 3: the record has 2 parts"
    assert len(found) == 2


def test_locators_of_markings_name_pages_too():
    record = fixture(HULL)
    record["provenance"]["markings"] = [{"kind": "stamp", "text": "FILED", "located_at": {"page": "-2-"}},
                                        {"kind": "stamp", "text": "FILED", "located_at": {"page": "686"}}]
    assert new_warnings(record) == [
        "provenance.markings[0].located_at.page: no page is labelled '-2-'; the record has '685', '686', '687'"]


# -- the declassification warning ----------------------------------------------------------------

def test_declassification_unrecorded_says_why_and_silences_the_warning():
    if "declassification_unrecorded" not in Provenance.model_fields:
        pytest.skip("the model has no declassification_unrecorded")
    record = fixture(HULL)
    record["provenance"]["classification"] = {"level": "secret", "as_marked": ["SECRET"]}
    record["provenance"]["declassification"] = []
    record["provenance"].pop("declassification_unrecorded", None)
    assert [w for w in warnings(record) if "declassification" in w] == [
        ("provenance.declassification: originally 'secret' but no declassification authority is recorded; cite "
        "it, or say why it is unknown in provenance.declassification_unrecorded")]
    record["provenance"]["declassification_unrecorded"] = "The edition prints no declassification action."
    assert warnings(record) == []


# -- no false warnings ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(FIXTURE_RECORDS.glob("*.json")) + sorted((PROJECT / "records").glob("*.json")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_seeds_get_no_new_warnings(path):
    assert new_warnings(json.loads(path.read_text(encoding="utf-8"))) == []


def test_the_synthetic_corpus_gets_no_new_warnings():
    found = [w for n in range(400) for w in new_warnings(synthetic_record(n))]
    assert found == []


# -- /api/health lists what `catalog validate` prints --------------------------------------------

def test_health_lists_every_error_catalog_validate_prints(make_app, records_dir, capsys, monkeypatch):
    hull = fixture(HULL)
    (records_dir / f"{HULL}.json").write_text(
        json.dumps(hull, indent=2).replace('"language": "en",', '"language": "en",,'), encoding="utf-8")
    broken = fixture(STALIN)
    broken["parts"][1]["pages"][0]["label"] = 1
    broken["parts"][0]["colour"] = "red\x0b"
    broken["access"] = {"status": "restricted"}
    write_record(records_dir, broken)
    renamed = dict(synthetic_record(3), title="Vertical\x0btab")
    (records_dir / "renamed.json").write_text(json.dumps(renamed), encoding="utf-8")
    (records_dir / "trailing.json").write_text('{\n  "id": "trailing",\n}\n', encoding="utf-8")

    health = make_app(records_dir).test_client().get("/api/health").get_json()
    monkeypatch.chdir(records_dir.parent)
    assert main(["validate", "records"]) == 1
    printed = [line.removeprefix("error: ") for line in capsys.readouterr().out.splitlines()
               if line.startswith("error: ")]
    listed = [message for entry in health["problems"] for message in entry["problems"]]
    assert sorted(listed) == sorted(printed)
    assert len(health["problems"]) == 4 and len(listed) >= 7


def test_the_fixture_corpus_and_records_validate_as_before(tmp_path, capsys):
    """The whole `catalog validate` run over copies of both corpora: valid, and no new warning."""
    for source in (FIXTURE_RECORDS, PROJECT / "records"):
        if not source.is_dir():
            continue
        folder = tmp_path / source.parent.name / "records"
        shutil.copytree(source, folder)
        assert main(["validate", str(folder)]) == 0
        out = capsys.readouterr().out
        assert not [line for line in out.splitlines() if any(f in line for f in NEW_WARNINGS)], out


# -- quotes that must occur on their page ----------------------------------------------------------------

def test_a_correction_quoting_text_its_page_does_not_hold_is_a_warning():
    record = fixture("hull-memorandum-1943-10-30")
    page = record["pages"][0]
    record["corrections"] = [{"page": page["label"], "original": "words nobody printed", "reading": "x"},
                             {"page": page["label"], "original": page["text"][10:30], "reading": "x"}]
    found = new_warnings(record)
    assert any(w.endswith("corrections[0].original: 'words nobody printed' does not occur on page "
                          f"'{page['label']}': quote the page verbatim") for w in found), found
    assert not any("corrections[1]" in w for w in found)


def test_a_footnote_mark_needs_as_many_occurrences_as_it_names():
    record = fixture("harriman-roosevelt-1943-11-04")
    record["footnotes"][2]["referenced_at"]["occurrence"] = 3  # the row of dots occurs twice
    found = new_warnings(record)
    assert any("footnotes[2].referenced_at.after:" in w and "does not occur 3 times" in w and "(found 2)" in w
               for w in found), found
    record["footnotes"][2]["referenced_at"]["occurrence"] = 2
    assert not any("footnotes[2]" in w for w in new_warnings(record))
