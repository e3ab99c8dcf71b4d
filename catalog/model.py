"""The catalog record: the one source of truth for what a record is.

The published JSON Schema (`schemas/record.schema.json`) is generated from these classes, so every
rule is declarative (patterns, enums, `Literal`s) and reaches the schema; a cross-field rule (a
`model_validator`) is stated beside it in `json_schema_extra`. `strict=True` with `extra="forbid"` makes
the model accept exactly what the schema accepts, but for the few rules JSON Schema cannot state
(`CHECKED_BY_VALIDATE`); tests/test_schema_agreement.py holds both to it. Files are parsed with
`Record.model_validate_json`, under which strict mode still reads ISO 8601 strings as dates.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from typing import Literal

from pydantic import BaseModel
from pydantic import BeforeValidator
from pydantic import ConfigDict
from pydantic import Field
from pydantic import TypeAdapter
from pydantic import model_validator

SCHEMA_VERSION = "1.2.0"
SCHEMA_ID = f"urn:archival-catalog:schema:record:{SCHEMA_VERSION}"

RECORD_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$"

Text = Annotated[str, Field(min_length=1)]
"""A non-empty string, kept verbatim."""

ClassificationLevel = Literal["top secret", "secret", "confidential", "restricted", "unclassified", "unmarked"]
"""`unmarked`: the source prints no classification marking (which does not prove it was unclassified)."""
CLASSIFICATION_LEVELS: tuple[str, ...] = ClassificationLevel.__args__  # type: ignore[attr-defined]

DocumentType = Literal[
    "telegram",
    "cable",
    "memorandum",
    "memorandum of conversation",
    "letter",
    "dispatch",
    "report",
    "note",
    "message",
    "minutes",
    "file unit",
]


def _spelled(kind: type, pattern: str, what: str) -> BeforeValidator:
    """Pydantic also reads '0' as 1970-01-01 and '2026-11-22 10:00' as a date-time: from a file, only the
    spelling the schema's `format` names is taken (and then read as pydantic reads it)."""
    compiled, read = re.compile(pattern, re.ASCII), TypeAdapter(kind)

    def check(value: object) -> object:
        if not isinstance(value, str):
            return value
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return read.validate_python(value, strict=False)

    return BeforeValidator(check)


Date = Annotated[dt.date, _spelled(dt.date, r"\d{4}-\d{2}-\d{2}", "a date written YYYY-MM-DD")]
DateTime = Annotated[dt.datetime, _spelled(
    dt.datetime, r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})",
    "an RFC 3339 date-time, with seconds and a time zone: '2026-11-22T10:00:00Z'")]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _given(name: str) -> dict:
    """JSON Schema for "`name` is there and not null": the model reads an explicit null as absent."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


CHECKED_BY_VALIDATE: dict[str, str] = {
    "date range in order": "a date's `end_date` is not before its `date`",
    "date bounds in order": "a date's `not_after` is not before its `not_before`",
    "whole numbers": "integers are written without a fraction or exponent (`2`, not `2.0`), "
                     "which JSON Schema cannot tell apart",
    "no lone surrogates": "strings hold no escaped half of a UTF-16 surrogate pair",
    "characters XML can carry": "strings hold no control characters other than tab, line feed and "
                                "carriage return, and no U+FFFE or U+FFFF",
    "id is the file name": "`id` is the record file's name without `.json`",
}
"""Rules the published schema cannot state (comparing two values, how a number or string is written,
the file name), so only `catalog validate` checks them: listed in the schema's description and, by
name, under `x-checked-by-catalog-validate` where they belong. Everything else the model checks is in
the schema."""


class Locator(Strict):
    """Where on the item something sits: which part, which page (by its printed label), where on it."""

    part: int | None = Field(None, ge=1, description="1-based part of a compound item.")
    page: str | None = Field(None, min_length=1, description="The page label as printed: '685', '-2-'.")
    position: str | None = Field(None, description="Where on the page: 'top right', 'left margin'.")
    occurrence: int | None = Field(None, ge=1, description="Which occurrence of the text on the page (1 = first).")


Certainty = Literal["approximate", "inferred", "questionable"]
"""ArchivesSpace's date certainty: approximate (circa), inferred (supplied by the cataloger from
evidence such as the volume's placement), questionable (a doubtful reading, e.g. a garbled stamp)."""

_EDTF_DATE = r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?[?~%]?"
EDTF_PATTERN = rf"^({_EDTF_DATE}(/({_EDTF_DATE}|\.\.)?)?|(\.\.)?/{_EDTF_DATE})$"
"""A subset of the Library of Congress Extended Date/Time Format (levels 0 and 1): a day, month or year
with ?, ~ or %, and intervals with open ends ('../1945-11-06')."""


class DocumentDate(Strict):
    """A date the document carries, with what it means; the first date of a record is its date."""

    model_config = ConfigDict(
        json_schema_extra={"x-checked-by-catalog-validate": ["date range in order", "date bounds in order"]}
    )

    type: Literal["written", "sent", "received", "dated", "meeting", "filed", "stamped"] = Field(
        description="What the date means: written, sent, received, ..."
    )
    date: Date = Field(description="ISO 8601 calendar date (start of the range, if a range).")
    end_date: Date | None = Field(None, description="End of the range, where the source gives one.")
    time: str | None = Field(
        None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time as HH:MM, where given."
    )
    timezone: str | None = Field(None, description="Time zone as printed, e.g. EST.")
    approximate: bool = Field(False, description="Kept for older records: true means certainty 'approximate'.")
    certainty: Certainty | None = Field(None, description="How sure the date is, where it is not simply printed.")
    not_before: Date | None = Field(None, description="Earliest the date can be, where only bounds are known.")
    not_after: Date | None = Field(None, description="Latest the date can be: 'received by November 6'.")
    edtf: str | None = Field(None, pattern=EDTF_PATTERN, description="The date in EDTF, e.g. '1945-06?'.")
    as_printed: str | None = Field(None, description="The date exactly as the source prints it.")
    note: str | None = None

    @model_validator(mode="after")
    def _range_in_order(self) -> DocumentDate:
        if self.end_date is not None and self.end_date < self.date:
            raise ValueError("end_date is before date")
        if self.not_before is not None and self.not_after is not None and self.not_after < self.not_before:
            raise ValueError("not_after is before not_before")
        return self

    @property
    def how_sure(self) -> Certainty | None:
        """The certainty, with the older `approximate` flag read as 'approximate'."""
        return self.certainty or ("approximate" if self.approximate else None)


AgentRole = Literal["author", "sender", "signer", "transmitter", "drafter", "typist", "operator",
                    "recipient", "addressee", "copy"]


class AuthorityLink(Strict):
    """The same person or body in an authority file, so formats can link it (MODS valueURI, EAD)."""

    scheme: Literal["viaf", "wikidata", "snac", "lcnaf", "isni", "orcid", "other"]
    uri: str = Field(pattern=r"^https?://", description="e.g. 'http://id.loc.gov/authorities/names/n79064932'.")


class Agent(Strict):
    """A person (or office) who made or received the document, named as the source names them."""

    name: Text = Field(description="Normalized name, family name first: 'Harriman, W. Averell'.")
    role: AgentRole
    initials: str | None = Field(None, description="Typist or operator initials as printed: 'JRL'.")
    signature_supplied: bool = Field(False, description="True when the editors supplied the signature: '[Harriman]'.")
    routed_as: str | None = Field(None, description="The address as routed: 'SECSTATE'.")
    authority: list[AuthorityLink] = Field(default_factory=list, description="Authority records for the agent.")
    office: str | None = Field(None, description="The office held, as the source names it.")
    as_printed: str | None = Field(
        None, description="The heading as printed: 'The Ambassador in the Soviet Union (Harriman)'."
    )
    note: str | None = Field(None, description="How the person is identified, where not printed.")


class Person(Strict):
    name: Text = Field(description="Normalized name, family name first.")
    as_printed: str | None = None
    note: str | None = None
    authority: list[AuthorityLink] = Field(default_factory=list, description="Authority records for the person.")


class Place(Strict):
    name: Text = Field(description="Normalized place name: 'Moscow'.")
    role: Literal["sent from", "sent to", "received at", "written at", "meeting place", "mentioned"]
    as_printed: str | None = Field(None, description="As the source prints it: 'Moscow via War'.")
    note: str | None = None


class Repository(Strict):
    name: Text = Field(description="The institution holding the original.")
    division: str | None = Field(None, description="Division or unit, e.g. 'Manuscript Division'.")
    location: str | None = None
    note: str | None = Field(None, description="How the holding repository is known.")


class Collection(Strict):
    name: Text = Field(description="The archival collection: 'Moscow Embassy Files'.")
    series: str | None = Field(None, description="Series within the collection.")
    file: str | None = Field(None, description="File unit: '710 Sino-Soviet Relations'.")
    box: str | None = Field(None, description="Box, as the repository numbers it.")
    folder: str | None = Field(None, description="Folder within the box.")


class Classification(Strict):
    level: ClassificationLevel = Field(description="The original classification, normalized.")
    as_marked: list[Text] = Field(
        default_factory=list, description="Every classification marking exactly as it appears."
    )


class Marking(Strict):
    kind: Literal["precedence", "handling", "paraphrase", "routing", "stamp", "other"]
    text: Text = Field(description="The marking verbatim.")
    located_at: Locator | None = Field(None, description="Where the marking sits.")


class Transmission(Strict):
    """How a message travelled: channel, route, sections, numbers."""

    channel: str | None = Field(None, description="e.g. 'Navy channels'.")
    route: str | None = Field(None, description="e.g. 'via War'.")
    transmitted_by: str | None = None
    sections: int | None = Field(None, ge=1)
    telegram_number: str | None = None
    date_time_group: str | None = Field(None, description="As printed, e.g. '160900'.")
    form: str | None = Field(None, description="The message form, e.g. 'S. C. Form No. 7'.")
    note: str | None = None


class Declassification(Strict):
    """One declassification action, each element as recorded on the stamp or in the source."""

    authority: str | None = Field(
        None, min_length=1, description="Normalized citation: 'E.O. 11652, Sec. 3(E) and 5(D) or (E)'."
    )
    authority_as_printed: str | None = None
    agency_letter: str | None = Field(None, description="e.g. 'Department of State letter, Aug. 9, 1973'.")
    by: str | None = Field(None, description="Who declassified, as recorded.")
    date: Date | None = None
    date_as_printed: str | None = None
    date_certainty: Certainty | None = Field(None, description="How sure the date is: '(2.2.75' is questionable.")
    as_printed: str | None = Field(None, description="The whole stamp, verbatim.")
    located_at: Locator | None = Field(None, description="Where the stamp sits (part, page).")
    note: str | None = Field(None, description="What is illegible or uncertain on the stamp.")


class Editor(Strict):
    name: Text
    role: Literal["general editor", "volume editor", "editor", "compiler"] = "editor"


class Edition(Strict):
    """A publication where the document is printed or published online."""

    publisher: Text
    title: Text
    editors: list[Text | Editor] = Field(default_factory=list, description="Names, or names with their role.")
    series: str | None = None
    volume_id: str | None = Field(None, description="Publisher's volume identifier, e.g. 'frus1945v07'.")
    year: int | None = Field(None, ge=1800, le=2100)
    document_number: str | None = None
    record_id: str | None = Field(None, description="Publisher's record identifier (Wilson Center).")
    pages: str | None = Field(None, description="Printed pages, e.g. '685–687'.")
    url: str | None = Field(None, pattern=r"^https?://")
    source_note: str | None = Field(None, description="The edition's source note verbatim.")


class Provenance(Strict):
    repository: Repository
    collection: Collection
    file_number: str | None = Field(
        None, min_length=1, description="State Department decimal file number verbatim (en dash kept)."
    )
    other_file_numbers: list[Text] = Field(default_factory=list, description="Further file numbers it is filed under.")
    classification: Classification
    markings: list[Marking] = Field(default_factory=list)
    paraphrase: bool | None = Field(None, description="True when the text is a paraphrase.")
    transmission: Transmission | None = None
    relays: list[Transmission] = Field(default_factory=list, description="Further legs of a relayed message.")
    declassification: list[Declassification] = Field(default_factory=list)
    declassification_unrecorded: str | None = Field(
        None, min_length=1, description="Why no declassification action is recorded for a document once "
        "classified: 'The edition prints no declassification action.' (never an invented authority).")
    editions: list[Edition] = Field(default_factory=list)


class FootnoteReference(Strict):
    page: Text = Field(description="Label of the page that carries the reference mark.")
    part: int | None = Field(None, ge=1, description="1-based part of a compound item, where labels repeat.")
    after: str | None = Field(None, description="The text the mark follows, to place it in the page.")
    occurrence: int | None = Field(None, ge=1, description="Which occurrence of `after` on the page (1 = first).")


class Footnote(Strict):
    number: Text = Field(description="The number as printed: '63', '50a'.")
    text: Text
    referenced_at: FootnoteReference | None = None


class Note(Strict):
    kind: Literal["editorial", "cataloger", "source", "content"]
    text: Text


class Correction(Strict):
    """A corrected reading beside, never instead of, the verbatim text."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [_given("page"), _given("footnote")]})

    page: str | None = Field(None, min_length=1, description="Label of the page with the slip.")
    part: int | None = Field(None, ge=1, description="1-based part of a compound item, where labels repeat.")
    footnote: str | None = Field(None, min_length=1, description="Number of the footnote with the slip.")
    occurrence: int | None = Field(None, ge=1, description="Which occurrence of `original` (1 = first).")
    original: Text
    reading: Text

    @model_validator(mode="after")
    def _placed(self) -> Correction:
        if (self.page is None) == (self.footnote is None):
            raise ValueError("a correction names either a page or a footnote")
        return self


RelationType = Literal["encloses", "enclosed in", "reply to", "replied to by", "refers to", "referred to by",
                       "same document as", "part of", "has part", "related"]


class Relation(Strict):
    """Another document this one points to: a record of the catalog (`target`) or elsewhere (`uri`)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [_given(name) for name in ("target", "uri", "as_printed")]}
    )

    type: RelationType
    target: str | None = Field(None, pattern=RECORD_ID_PATTERN, description="The related record's id.")
    uri: str | None = Field(None, pattern=r"^https?://", description="The related document elsewhere.")
    as_printed: str | None = Field(None, description="How the source refers to it: 'post, p. 152', 'Supra'.")
    note: str | None = None

    @model_validator(mode="after")
    def _points_somewhere(self) -> Relation:
        if self.target is None and self.uri is None and self.as_printed is None:
            raise ValueError("a relation names a target record, a uri, or at least how it is printed")
        return self


class Annotation(Strict):
    """Marginalia, handwriting, underlining: what a later hand added to the item."""

    kind: Literal["marginalia", "handwriting", "underlining", "initials", "other"]
    text: str = Field(description="The annotation verbatim ('' for marks without words).")
    hand: str | None = Field(None, description="Whose hand, where known or supposed.")
    located_at: Locator | None = None
    note: str | None = None


class Rights(Strict):
    statement: Text
    uri: str | None = Field(None, pattern=r"^https?://")
    holder: str | None = None


class Access(Strict):
    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["status"], "properties": {"status": {"const": "restricted"}}},
        "then": {"required": ["reason"], "properties": {"reason": {"type": "string", "minLength": 1}}},
    })

    status: Literal["open", "restricted"]
    reason: str | None = None
    release_date: Date | None = Field(None, description="Restricted records open on this date.")

    @model_validator(mode="after")
    def _restricted_has_reason(self) -> Access:
        if self.status == "restricted" and not self.reason:
            raise ValueError("a restricted record needs a reason")
        return self


class ImageSize(Strict):
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class ImageService(Strict):
    """The IIIF Image API service that serves a page's scan, as its `info.json` declares it: viewers
    need its version, level and full size before they ask it anything."""

    id: str = Field(pattern=r"^https?://", description="The service's base URI (its info.json's `id`/`@id`).")
    type: Literal["ImageService2", "ImageService3"] = Field(description="Image API 2 or 3.")
    profile: Literal["level0", "level1", "level2"] = Field(description="The compliance level info.json declares.")
    width: int = Field(ge=1, description="The full image's width in pixels, from info.json.")
    height: int = Field(ge=1, description="The full image's height in pixels, from info.json.")
    sizes: list[ImageSize] = Field(
        default_factory=list,
        description="Sizes a level-0 service offers (info.json `sizes`); the smallest of 150 px or more "
                    "wide is the page's thumbnail.")


class Page(Strict):
    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["image_url"], "properties": {"image_url": {"type": "string"}}},
        "then": {"required": ["width", "height"],
                 "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}},
    })

    label: Text = Field(description="The page label as printed: '685', '-2-', 'PAGE 2'.")
    label_supplied: bool = Field(False, description="True when the label is the cataloger's, not printed.")
    text: str = Field(description="The page's text verbatim.")
    image_service: ImageService | None = Field(None, description="The IIIF Image API service of the page's scan.")
    image_url: str | None = Field(None, pattern=r"^https?://", description="A plain image of the page (no service).")
    width: int | None = Field(None, ge=1, description="The image's width in pixels: required with `image_url`.")
    height: int | None = Field(None, ge=1, description="The image's height in pixels: required with `image_url`.")

    @model_validator(mode="after")
    def _image_has_size(self) -> Page:
        if self.image_url is not None and (self.width is None or self.height is None):
            raise ValueError("a page with an image_url gives the image's width and height")
        return self


class Part(Strict):
    """One document within a compound item, with its own description and pages."""

    title: Text
    document_type: DocumentType
    dates: list[DocumentDate] = Field(default_factory=list)
    creators: list[Agent] = Field(default_factory=list)
    recipients: list[Agent] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    classification: Classification | None = None
    markings: list[Marking] = Field(default_factory=list)
    transmission: Transmission | None = None
    declassification: list[Declassification] = Field(default_factory=list)
    dateline: str | None = Field(None, description="The dateline as printed.")
    signature: str | None = Field(None, description="The signature as printed: 'SMITH'.")
    pages: list[Page] = Field(min_length=1)


class Description(Strict):
    summary: str | None = None
    summary_source: str | None = Field(None, description="Who wrote the summary, where not us.")
    subjects: list[Text] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)


class Cataloging(Strict):
    created: DateTime
    modified: DateTime
    cataloger: str | None = None
    sources: list[Text] = Field(default_factory=list, description="What the record was made from.")


class Record(Strict):
    """One archival document. It has either `pages` (a single document) or `parts` (a compound item)."""

    model_config = ConfigDict(json_schema_extra={
        # An explicit null counts as absent (as in the model). Without one, the plain oneOf of `required`s
        # decides, which is also the form catalog validate words as "has both" / "has neither".
        "if": {"anyOf": [{"required": [name], "properties": {name: {"type": "null"}}}
                         for name in ("pages", "parts")]},
        "then": {"anyOf": [_given("pages"), _given("parts")]},
        "else": {"oneOf": [{"required": ["pages"]}, {"required": ["parts"]}]},
    })

    id: str = Field(pattern=RECORD_ID_PATTERN, description="Stable, URL-safe; the file name without .json.")
    title: Text = Field(description="The title as the source heads it.")
    document_type: DocumentType
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 tag, e.g. 'en'.")
    original_language: str | None = Field(None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                          description="Language of the original, when the text is a translation.")
    translation_note: str | None = Field(None, description="Who translated, and when: 'Translation from the Russian'.")
    dates: list[DocumentDate] = Field(min_length=1, description="The first date is the document's date.")
    creators: list[Agent] = Field(default_factory=list)
    recipients: list[Agent] = Field(default_factory=list)
    persons_mentioned: list[Person] = Field(default_factory=list)
    places: list[Place] = Field(default_factory=list)
    provenance: Provenance
    description: Description = Field(default_factory=Description)
    footnotes: list[Footnote] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list, description="Enclosures, replies, the same text elsewhere.")
    annotations: list[Annotation] = Field(default_factory=list, description="Marginalia and other later hands.")
    dateline: str | None = Field(None, description="The dateline as printed: 'Moscow, November 4, 1943.'")
    signature: str | None = Field(None, description="The signature as printed: '[Harriman]'.")
    rights: Rights
    access: Access
    pages: list[Page] | None = Field(None, min_length=1)
    parts: list[Part] | None = Field(None, min_length=2)
    cataloging: Cataloging

    @model_validator(mode="after")
    def _pages_or_parts(self) -> Record:
        if (self.pages is None) == (self.parts is None):
            raise ValueError("a record has either 'pages' or 'parts', not both and not neither")
        return self

    @property
    def date(self) -> DocumentDate:
        return self.dates[0]

    def all_pages(self) -> list[tuple[Part | None, Page]]:
        """Every page in reading order, with the part it belongs to (None for a simple record)."""
        if self.parts is None:
            return [(None, page) for page in self.pages or []]
        return [(part, page) for part in self.parts for page in part.pages]

    def is_public(self, today: dt.date | None = None) -> bool:
        """Open, or restricted with a release date that has passed."""
        if self.access.status == "open":
            return True
        release = self.access.release_date
        return release is not None and release <= (today or dt.date.today())


def slugify(text: str) -> str:
    """URL slug for collection names and other facet values."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "untitled"


def record_json_schema() -> dict:
    """The published schema: generated from the model, with `$schema`, `$id` and version, and the rules only
    `catalog validate` checks listed, so a document the schema accepts is not taken for a valid record."""
    schema = Record.model_json_schema()
    rules = "\n".join(f"- {name}: {text}" for name, text in CHECKED_BY_VALIDATE.items())
    schema["description"] += (
        f"\n\nChecked only by `catalog validate` (JSON Schema cannot state them):"
        f"\n{rules}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        **schema,
        "x-checked-by-catalog-validate": list(CHECKED_BY_VALIDATE),
    }
