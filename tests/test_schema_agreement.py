"""The published schema and the model accept the same documents, but for the rules only `catalog validate`
checks (`CHECKED_BY_VALIDATE`, listed in the schema's description), which are skipped here by name.

Both directions are properties. (a) Whatever the schema accepts, the model accepts: documents drawn from
the schema itself with hypothesis-jsonschema, one `$defs` entry at a time (the whole record is too big
for it). (b) Whatever the model accepts, the schema accepts: near misses (fields left out, null, empty,
of another kind, dates and date-times spelled otherwise) kept when the model accepts them. Both at once:
whole records made from the fixture seeds with the fields that cross-field rules read redrawn. The
schema is checked with `format` asserted, as `catalog validate` does, so a date must be a calendar date.
The one known gap (a regular-expression dialect difference in python-jsonschema) is pinned by a strict
xfail at the end.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
import types
import typing

import jsonschema
import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import BaseModel
from pydantic import ValidationError

from catalog import model
from catalog.model import CHECKED_BY_VALIDATE
from catalog.model import record_json_schema
from catalog.validation import check_bytes
from tests.conftest import FIXTURE_RECORDS
from tests.conftest import PROJECT

SCHEMA = json.loads((PROJECT / "schemas" / "record.schema.json").read_text(encoding="utf-8"))
DEFS = SCHEMA["$defs"]
SEEDS = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(FIXTURE_RECORDS.glob("*.json"))]
MODELS: dict[str, type[BaseModel]] = {
    name: cls for name, cls in vars(model).items()
    if isinstance(cls, type) and issubclass(cls, model.Strict) and cls is not model.Strict
}
NO_DEADLINE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def validator(name: str | None = None) -> jsonschema.Draft202012Validator:
    """The published schema (or one of its `$defs`), checking formats as `catalog validate` does."""
    schema = SCHEMA if name is None else {**DEFS[name], "$defs": DEFS}
    cls = jsonschema.Draft202012Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


VALIDATORS = {name: validator(name) for name in DEFS} | {"Record": validator()}


def schema_accepts(name: str, document: object) -> bool:
    return VALIDATORS[name].is_valid(document)


def model_accepts(name: str, document: object) -> bool:
    """Parsed from JSON text, as record files are (strict mode reads ISO strings as dates only there)."""
    try:
        MODELS[name].model_validate_json(json.dumps(document))
    except ValidationError:
        return False
    return True


# -- the allowed disagreements, by name ---------------------------------------------------------------

def _dates(name: str, document: object) -> list[dict]:
    """Every DocumentDate in a document: the document itself, or the entries of each `dates` list in it."""
    if name == "DocumentDate":
        return [document] if isinstance(document, dict) else []
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "dates" and isinstance(value, list):
                found += [item for item in value if isinstance(item, dict)]
            else:
                found += _dates(name, value)
    elif isinstance(document, list):
        for item in document:
            found += _dates(name, item)
    return found


def _before(later: object, earlier: object) -> bool:
    """True when both are ISO dates and `later` is the earlier one."""
    try:
        return dt.date.fromisoformat(later) < dt.date.fromisoformat(earlier)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _leaves(value: object):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


LONE_SURROGATE = re.compile("[\ud800-\udfff]")

MODEL_ONLY_RULES = {
    "date range in order": lambda name, doc: any(_before(d.get("end_date"), d.get("date"))
                                                 for d in _dates(name, doc)),
    "date bounds in order": lambda name, doc: any(_before(d.get("not_after"), d.get("not_before"))
                                                  for d in _dates(name, doc)),
    "whole numbers": lambda name, doc: any(isinstance(leaf, float) for leaf in _leaves(doc)),
    "no lone surrogates": lambda name, doc: any(isinstance(leaf, str) and LONE_SURROGATE.search(leaf)
                                                for leaf in _leaves(doc)),
}
"""Each rule of CHECKED_BY_VALIDATE the model itself enforces, as a test on a parsed document."""
FILE_RULES = {"characters XML can carry", "id is the file name"}
"""The rest: checked by `catalog validate` around the model (catalog.validation), not by it."""


def disagreements_allowed(name: str, document: object) -> set[str]:
    """The names of the skipped rules (and known gaps) a document breaks."""
    rules = MODEL_ONLY_RULES
    return {rule for rule, breaks in rules.items() if breaks(name, document)}


def skip_allowed_disagreements(name: str, document: object) -> None:
    allowed = disagreements_allowed(name, document)
    for rule in sorted(allowed):
        event(f"skipped: {rule}")
    assume(not allowed)


# -- (a) documents drawn from the schema ----------------------------------------------------------

RULED = ["Correction", "Access", "DocumentDate", "Relation", "Page"]
"""The models with cross-field rules (model validators)."""
PLAIN = sorted(set(DEFS) - set(RULED) - {"Part", "Provenance"})
"""The rest but the two largest, which the whole-record properties cover (they take seconds to draw)."""


def drawn_from(schema: dict) -> st.SearchStrategy:
    """hypothesis-jsonschema (0.23) resolves `$ref`s in place: it gets a copy, never the published schema."""
    return from_schema(copy.deepcopy({**schema, "$defs": DEFS}))


@functools.cache
def drawn_from_schema(name: str) -> st.SearchStrategy:
    return drawn_from(DEFS[name])


def _schema_to_model(name: str, data: st.DataObject) -> None:
    document = data.draw(drawn_from_schema(name), label=name)
    assert schema_accepts(name, document)
    skip_allowed_disagreements(name, document)
    assert model_accepts(name, document), f"the schema accepts this {name}, the model does not: {document!r}"


@pytest.mark.parametrize("name", RULED)
@settings(NO_DEADLINE, max_examples=100)
@given(data=st.data())
def test_what_the_schema_accepts_the_model_accepts(name, data):
    _schema_to_model(name, data)


@pytest.mark.parametrize("name", PLAIN)
@settings(NO_DEADLINE, max_examples=15)
@given(data=st.data())
def test_what_the_schema_accepts_the_model_accepts_plain_parts(name, data):
    _schema_to_model(name, data)


# -- (b) near misses the model accepts --------------------------------------------------------------

DATE_SPELLINGS = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.sampled_from(["1945-6-8", "19450608", "1945-06-08T00:00:00", "1945-02-29", "0000-01-01",
                     "+1945-06-08"]),
)
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
DATETIME_SPELLINGS = st.one_of(
    st.builds(lambda d, sep, spec: d.isoformat(sep, spec),
              st.datetimes(timezones=st.one_of(st.none(), st.just(dt.UTC), OFFSETS)),
              st.sampled_from(["T", "t", " "]),
              st.sampled_from(["auto", "minutes", "seconds", "microseconds"])),
    st.sampled_from(["1577836800", "2026-11-22T00:00:00+0500", "2026-11-22t00:00:00z",
                     "2026-11-22T24:00:00Z"]),
)
OTHER_KINDS = st.one_of(st.booleans(), st.integers(-2, 3), st.sampled_from([0.5, 1.0, 2.0, 1e0]),
                        st.text(max_size=3), DATE_SPELLINGS, DATETIME_SPELLINGS, st.just([]), st.just({}))
"""Values of some other kind than a field's schema says, or spelled otherwise: the model may take some."""


def _field_values(prop: dict) -> st.SearchStrategy:
    """Mostly what the field's own schema allows (null too where it is), now and then null or another kind."""
    allowed = drawn_from(prop)
    return st.integers(0, 7).flatmap(lambda n: allowed if n < 5 else st.none() if n < 7 else OTHER_KINDS)


@functools.cache
def near_misses(name: str) -> st.SearchStrategy[dict]:
    """Objects shaped like `$defs/<name>`: required fields as their schema allows, each optional one left
    out, null, as its schema allows or of another kind, so every combination a cross-field rule reads
    comes up (required fields missing or of another kind are plain `required` and `type`: left to (a))."""
    definition = DEFS[name]
    required = set(definition.get("required", ()))
    props = definition["properties"]
    return st.fixed_dictionaries(
        {key: drawn_from(props[key]) for key in props if key in required},
        optional={key: _field_values(props[key]) for key in props if key not in required})


TYPED = ["Declassification", "Cataloging", "Locator", "Page", "Edition", "Editor"]
"""Models with fields typed as dates, date-times, integers, unions and a default, where the model may read
more than the schema says."""


def _model_to_schema(name: str, data: st.DataObject) -> None:
    document = data.draw(near_misses(name), label=name)
    assume(model_accepts(name, document))
    skip_allowed_disagreements(name, document)
    errors = [error.message for error in VALIDATORS[name].iter_errors(document)]
    assert errors == [], f"the model accepts this {name}, the schema does not: {document!r}"


NEAR_MISSES = settings(NO_DEADLINE, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("name", RULED)
@settings(NEAR_MISSES, max_examples=80)
@given(data=st.data())
def test_what_the_model_accepts_the_schema_accepts(name, data):
    _model_to_schema(name, data)


@pytest.mark.parametrize("name", TYPED)
@settings(NEAR_MISSES, max_examples=25)
@given(data=st.data())
def test_what_the_model_accepts_the_schema_accepts_typed_parts(name, data):
    _model_to_schema(name, data)


@settings(NO_DEADLINE, max_examples=60)
@given(day=st.dates(), end=st.one_of(st.none(), st.dates()), released=st.one_of(st.none(), st.dates()))
def test_dates_the_model_writes_are_format_date(day, end, released):
    """What the model serializes (years before 1000 included) is what `format: date` reads."""
    assume(end is None or end >= day)
    date = model.DocumentDate(type="sent", date=day, end_date=end, not_before=end, not_after=end)
    access = model.Access(status="restricted", reason="Screening", release_date=released)
    assert schema_accepts("DocumentDate", date.model_dump(mode="json"))
    assert schema_accepts("Access", access.model_dump(mode="json"))


# -- whole records: the seeds with the fields cross-field rules read redrawn ------------------------

ABSENT = object()
"""Leave the key out (as against an explicit null)."""


def put(target: dict, key: str, value: object) -> None:
    if value is ABSENT:
        target.pop(key, None)
    else:
        target[key] = value


def optional(values: st.SearchStrategy) -> st.SearchStrategy:
    """An optional field: left out, null, or a value."""
    return st.one_of(st.just(ABSENT), st.none(), values)


def usually(good: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly `good`, now and then `odd`: both sides of every rule come up, yet many records stay whole."""
    return st.integers(0, 4).flatmap(lambda n: odd if n == 0 else good)


DAY = st.dates(dt.date(1943, 1, 1), dt.date(1946, 12, 31))
LATER = st.integers(-2, 40)
"""Days after a date for its end or upper bound: the same day, later, and now and then earlier."""


@st.composite
def document_dates(draw) -> dict:
    start, low = draw(DAY), draw(DAY)
    date = {"type": draw(st.sampled_from(["sent", "received", "written"])), "date": start.isoformat()}
    put(date, "end_date", draw(optional(LATER.map(lambda n: (start + dt.timedelta(n)).isoformat()))))
    put(date, "not_before", draw(optional(st.just(low.isoformat()))))
    put(date, "not_after", draw(optional(LATER.map(lambda n: (low + dt.timedelta(n)).isoformat()))))
    return date


@st.composite
def corrections(draw) -> dict:
    placed = draw(usually(st.sampled_from([("page",), ("footnote",)]),
                          st.sampled_from([(), ("page", "footnote")])))
    correction = {"original": "his visit Moscow", "reading": "his visit to Moscow"}
    for key, values in (("page", ["[1]", "685", "-2-"]), ("footnote", ["63", "50a"])):
        named = st.sampled_from(values) if key in placed else st.sampled_from([ABSENT, None])
        put(correction, key, draw(usually(named, st.just(""))))
    put(correction, "part", draw(optional(st.integers(0, 3))))
    put(correction, "occurrence", draw(optional(st.integers(0, 2))))
    return correction


@st.composite
def relations(draw) -> dict:
    relation = {"type": draw(st.sampled_from(["related", "reply to", "encloses"]))}
    named = st.sets(st.sampled_from(["target", "uri", "as_printed"]), min_size=1)
    pointers = draw(usually(named, st.just(set())))
    values = {"target": usually(st.just("hull-memorandum-1943-10-30"), st.just("Not an id")),
              "uri": usually(st.just("https://history.state.gov/x"), st.just("ftp://x")),
              "as_printed": st.sampled_from(["Supra", ""])}
    for key, value in values.items():
        put(relation, key, draw(value if key in pointers else st.sampled_from([ABSENT, None])))
    put(relation, "note", draw(optional(st.just("As the editors note"))))
    return relation


RELEASE = st.none() | DAY.map(str)
ACCESS = usually(
    st.one_of(st.fixed_dictionaries({"status": st.just("open")},
                                    optional={"reason": st.none() | st.just(""), "release_date": RELEASE}),
              st.fixed_dictionaries({"status": st.just("restricted"), "reason": st.just("Screening")},
                                    optional={"release_date": RELEASE})),
    st.fixed_dictionaries({"status": st.just("restricted")}, optional={"reason": st.none() | st.just("")}),
)
LAYOUTS = usually(st.sampled_from([("pages", ABSENT), ("pages", None), (ABSENT, "parts"), (None, "parts")]),
                  st.sampled_from([("pages", "parts"), (ABSENT, ABSENT), (None, ABSENT), (None, None),
                                   ([], ABSENT), (ABSENT, "one part")]))
"""(pages, parts): a list of pages or parts, left out, null, an empty list, a single part."""


def _pages(seed: dict) -> list:
    return seed.get("pages") or [page for part in seed["parts"] for page in part["pages"]]


@st.composite
def records(draw) -> dict:
    record = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    pages = _pages(record)
    parts = record.get("parts") or [
        {"title": f"Part {n}", "document_type": "telegram", "pages": pages[:1]} for n in (1, 2)]
    for part in parts:
        put(part, "dates", draw(st.lists(document_dates(), max_size=1)) or ABSENT)
    layout = {"pages": pages, "parts": parts, "one part": parts[:1]}
    for key, choice in zip(("pages", "parts"), draw(LAYOUTS), strict=True):
        put(record, key, layout.get(choice, choice) if isinstance(choice, str) else choice)
    record["dates"] = draw(st.lists(document_dates(), min_size=1, max_size=2))
    record["access"] = draw(ACCESS)
    record["corrections"] = draw(st.lists(corrections(), max_size=2))
    record["relations"] = draw(st.lists(relations(), max_size=2))
    return record


@settings(NO_DEADLINE, max_examples=200)
@given(record=records())
def test_whole_records_schema_and_model_agree_both_ways(record):
    """(a) and (b) at once: about a quarter of the records are whole, the rest break one rule or more."""
    skip_allowed_disagreements("Record", record)
    accepted = model_accepts("Record", record)
    event(f"model {'accepts' if accepted else 'refuses'}")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATORS["Record"].iter_errors(record)]
    if accepted:
        assert errors == [], "the model accepts this record, the schema does not"
    else:
        assert errors, "the schema accepts this record, the model does not"


# -- each cross-field rule, by example --------------------------------------------------------------

def _record(**changes) -> dict:
    """The first seed with pages, changed; a value of ABSENT removes the key."""
    record = copy.deepcopy(next(seed for seed in SEEDS if "pages" in seed))
    for key, value in changes.items():
        put(record, key, value)
    return record


TWO_PARTS = [{"title": f"Part {n}", "document_type": "telegram", "pages": _record()["pages"]} for n in (1, 2)]
CORRECTION = {"original": "his visit Moscow", "reading": "his visit to Moscow"}

EXAMPLES = [
    # (id, $defs name or "Record", document, accepted by both?)
    ("correction on a page", "Correction", {**CORRECTION, "page": "[1]"}, True),
    ("correction in a footnote, page null", "Correction", {**CORRECTION, "page": None, "footnote": "63"},
     True),
    ("correction with page and footnote", "Correction", {**CORRECTION, "page": "[1]", "footnote": "63"},
     False),
    ("correction with neither", "Correction", CORRECTION, False),
    ("correction with both null", "Correction", {**CORRECTION, "page": None, "footnote": None}, False),
    ("relation to a target", "Relation", {"type": "related", "target": "hull-memorandum-1943-10-30"}, True),
    ("relation only as printed, even empty", "Relation", {"type": "related", "as_printed": ""}, True),
    ("relation with nothing", "Relation", {"type": "related", "note": "somewhere"}, False),
    ("relation with all null", "Relation",
     {"type": "related", "target": None, "uri": None, "as_printed": None}, False),
    ("open access without a reason", "Access", {"status": "open"}, True),
    ("restricted access with a reason", "Access", {"status": "restricted", "reason": "Screening"}, True),
    ("restricted access without a reason", "Access", {"status": "restricted"}, False),
    ("restricted access, reason null", "Access", {"status": "restricted", "reason": None}, False),
    ("restricted access, reason empty", "Access", {"status": "restricted", "reason": ""}, False),
    ("record with pages", "Record", _record(), True),
    ("record with pages, parts null", "Record", _record(parts=None), True),
    ("record with parts, pages null", "Record", _record(pages=None, parts=TWO_PARTS), True),
    ("record with pages and parts", "Record", _record(parts=TWO_PARTS), False),
    ("record with neither", "Record", _record(pages=ABSENT), False),
    ("record with pages null only", "Record", _record(pages=None), False),
    ("record with both null", "Record", _record(pages=None, parts=None), False),
    ("date range in order, same day", "DocumentDate", {"type": "sent", "date": "1945-06-08",
                                                      "end_date": "1945-06-08"}, True),
    ("date written 1945-6-8", "DocumentDate", {"type": "sent", "date": "1945-6-8"}, False),
    ("date that is not in the calendar", "DocumentDate", {"type": "sent", "date": "1945-02-29"}, False),
    ("optional fields null", "DocumentDate", {"type": "sent", "date": "1945-06-08", "end_date": None,
                                             "time": None, "certainty": None, "edtf": None}, True),
    ("page image with its size", "Page", {"label": "1", "text": "", "image_url": "https://e.org/1.jpg",
                                          "width": 10, "height": 20}, True),
    ("page image url null, no size", "Page", {"label": "1", "text": "", "image_url": None}, True),
    ("page image without a height", "Page", {"label": "1", "text": "", "image_url": "https://e.org/1.jpg",
                                             "width": 10}, False),
    ("page image, height null", "Page", {"label": "1", "text": "", "image_url": "https://e.org/1.jpg",
                                         "width": 10, "height": None}, False),
    ("scan service without its size", "ImageService", {"id": "https://e.org/iiif/1", "type": "ImageService3",
                                                       "profile": "level0"}, False),
    ("approximate null", "DocumentDate", {"type": "sent", "date": "1945-06-08", "approximate": None}, False),
]


@pytest.mark.parametrize("name, document, accepted", [case[1:] for case in EXAMPLES],
                         ids=[case[0] for case in EXAMPLES])
def test_schema_and_model_agree_on(name, document, accepted):
    assert (schema_accepts(name, document), model_accepts(name, document)) == (accepted, accepted)


VALIDATE_ONLY_EXAMPLES = [
    # (rule, $defs name or "Record", a document breaking only that rule)
    ("date range in order", "DocumentDate", {"type": "sent", "date": "1945-06-08", "end_date": "1945-06-07"}),
    ("date bounds in order", "DocumentDate", {"type": "sent", "date": "1945-06-08",
                                              "not_before": "1945-06-08", "not_after": "1945-06-01"}),
    ("whole numbers", "Page", {"label": "1", "text": "", "width": 2.0}),
    ("no lone surrogates", "Page", {"label": "1", "text": "half a pair: \ud800"}),
]


@pytest.mark.parametrize("rule, name, document", VALIDATE_ONLY_EXAMPLES,
                         ids=[case[0] for case in VALIDATE_ONLY_EXAMPLES])
def test_a_validate_only_rule_is_the_one_disagreement(rule, name, document):
    """The schema accepts the document, the model refuses it, and the test's skip names exactly that rule."""
    assert schema_accepts(name, document)
    assert not model_accepts(name, document)
    assert disagreements_allowed(name, document) == {rule}


@pytest.mark.parametrize("rule", sorted(CHECKED_BY_VALIDATE))
def test_each_validate_only_rule_is_checked_by_catalog_validate(rule):
    """A record breaking the rule passes the schema and fails `catalog validate` (catalog.validation)."""
    record, file_name = _record(), None
    if rule == "date range in order":
        record["dates"][0]["end_date"] = "1900-01-01"
    elif rule == "date bounds in order":
        record["dates"][0].update(not_before="1945-06-08", not_after="1945-06-01")
    elif rule == "whole numbers":
        record["corrections"] = [{**CORRECTION, "page": "[1]", "part": 1.0}]
    elif rule == "no lone surrogates":
        record["title"] = "half a pair: \ud800"
    elif rule == "characters XML can carry":
        record["title"] = "a vertical tab: \x0b"
    elif rule == "id is the file name":
        file_name = "another-name.json"
    assert schema_accepts("Record", record)
    _record_read, problems = check_bytes(json.dumps(record).encode(), file_name or f"{record['id']}.json")
    assert [p for p in problems if p.severity == "error"], f"catalog validate lets a record break {rule!r}"


# -- the rules, the published lists and the fields' shapes ---------------------------------------------

CROSS_FIELD_RULES = {
    ("Correction", "_placed"): "in the schema: oneOf page / footnote, each given and not null",
    ("Relation", "_points_somewhere"): "in the schema: anyOf target / uri / as_printed, given and not null",
    ("Access", "_restricted_has_reason"): "in the schema: if status is restricted then a non-empty reason",
    ("Record", "_pages_or_parts"): "in the schema: if/then/else on an explicit null, else oneOf",
    ("DocumentDate", "_range_in_order"): "validate only: date range in order, date bounds in order",
    ("Page", "_image_has_size"): "in the schema: if image_url is a string then width and height, integers",
}
"""Every model and field validator, and where its rule is stated."""


def test_every_validator_of_the_model_is_accounted_for():
    """A new validator fails here until its rule is in the schema (json_schema_extra) or listed as
    CHECKED_BY_VALIDATE."""
    found = {(name, validator) for name, cls in MODELS.items()
             for kind in ("model_validators", "field_validators")
             for validator in getattr(cls.__pydantic_decorators__, kind)}
    assert found == set(CROSS_FIELD_RULES)


def test_the_validate_only_rules_are_published():
    assert set(MODEL_ONLY_RULES) | FILE_RULES == set(CHECKED_BY_VALIDATE)
    assert record_json_schema() == SCHEMA
    assert SCHEMA["x-checked-by-catalog-validate"] == list(CHECKED_BY_VALIDATE)
    for name, text in CHECKED_BY_VALIDATE.items():
        assert f"- {name}: {text}" in SCHEMA["description"]
    key = "x-checked-by-catalog-validate"
    noted = {name: definition[key] for name, definition in DEFS.items() if key in definition}
    assert noted == {"DocumentDate": ["date range in order", "date bounds in order"]}


def _fields():
    for name, cls in MODELS.items():
        definition = SCHEMA if name == "Record" else DEFS[name]
        for field_name, field in cls.model_fields.items():
            yield pytest.param(name, definition, field_name, field, id=f"{name}.{field_name}")


def _base(annotation):
    """`X` for `X | None` and for `Annotated[X, ...]`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _base(args[0]) if len(args) == 1 else annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return _base(typing.get_args(annotation)[0])
    return annotation


@pytest.mark.parametrize("name, definition, field_name, field", list(_fields()))
def test_fields_required_nullable_and_dated_alike(name, definition, field_name, field):
    """Required only without a default; null allowed exactly where the type says `| None`; dates and
    date-times carry their formats."""
    prop = definition["properties"][field_name]
    assert (field_name in definition.get("required", [])) == field.is_required()
    nullable = type(None) in typing.get_args(field.annotation)
    assert jsonschema.Draft202012Validator({**prop, "$defs": DEFS}).is_valid(None) == nullable
    formats = {branch.get("format") for branch in prop.get("anyOf", [prop])} - {None}
    base = _base(field.annotation)
    expected = {dt.datetime: {"date-time"}, dt.date: {"date"}}.get(base, set())
    assert formats == expected


# -- date spellings, and the one known gap ----------------------------------------------------------

@pytest.mark.parametrize("spelling", ["2026-11-22T00:00:00", "2026-11-22T00:00Z", "2026-11-22 00:00:00Z",
                                      "1577836800"])
def test_date_times_are_taken_only_as_rfc_3339_spells_them(spelling):
    """Pydantic alone would read these (no zone, no seconds, a space for T, Unix time); the schema does not."""
    cataloging = {"created": spelling, "modified": spelling}
    assert not model_accepts("Cataloging", cataloging) and not schema_accepts("Cataloging", cataloging)


@pytest.mark.parametrize("spelling", ["0", "86400", "-817776000"])
def test_dates_are_taken_only_as_yyyy_mm_dd(spelling):
    """Pydantic alone would read a string of digits as Unix time (whole days); the schema does not."""
    date = {"type": "sent", "date": spelling}
    assert not model_accepts("DocumentDate", date) and not schema_accepts("DocumentDate", date)


@pytest.mark.xfail(strict=True, reason="python-jsonschema reads `$` as Python does (before a final newline); "
                                       "the model and ECMA-262, which JSON Schema means, do not")
def test_known_gap_pattern_end_before_a_final_newline():
    relation = {"type": "related", "target": "hull-memorandum-1943-10-30\n"}
    assert model_accepts("Relation", relation) == schema_accepts("Relation", relation)
