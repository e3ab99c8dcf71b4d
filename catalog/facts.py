"""What a record says, answered once: who, where, when, under which marking, held where, printed where.

Every surface (record pages and their JSON twins, JSON-LD, citations, IIIF metadata, OAI-PMH
formats, facets and the full-text index) reads these answers and only formats them, so they
cannot disagree. The rules live here:

- **People.** A record's creators are its own `creators` followed by those of its parts, each name
  once; likewise recipients. Which list an agent is in decides the side (creator or recipient);
  `role` (sender, signer, addressee...) only describes it. The facet value is the name.
- **Places.** The record's own places, then its parts', each (name, role) once.
- **Dates.** The first date of the record is its date; display forms are made here.
- **Classification, declassification, markings.** With where they sit: the item, or part N.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from catalog.model import Agent
from catalog.model import AuthorityLink
from catalog.model import Classification
from catalog.model import Declassification
from catalog.model import DocumentDate
from catalog.model import Edition
from catalog.model import Locator
from catalog.model import Place
from catalog.model import Record
from catalog.model import Relation
from catalog.model import slugify

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
CREATOR = "creator"
RECIPIENT = "recipient"


# -- names and dates as people read them ----------------------------------------------------------

def display_name(name: str) -> str:
    """'Harriman, W. Averell' → 'W. Averell Harriman'; names without a comma stay as they are."""
    family, comma, given = name.partition(",")
    return f"{given.strip()} {family.strip()}" if comma and given.strip() else name.strip()


def split_name(name: str) -> dict[str, str]:
    """Name parts: family and given from 'Family, Given', else a literal name (CSL's shape)."""
    family, comma, given = name.partition(",")
    if comma and family.strip() and given.strip():
        return {"family": family.strip(), "given": given.strip()}
    return {"literal": name.strip()}


def join_names(names: list[str]) -> str:
    """'A', 'A and B', 'A, B, and C'."""
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def long_date(date: dt.date) -> str:
    return f"{MONTHS[date.month - 1]} {date.day}, {date.year}"


def cited_date(date: DocumentDate) -> str:
    """The date as an archivist writes it: 'October 30, 1943', a range with an en dash, 'ca.' before
    an approximate date, brackets for an inferred one ('[June 8, 1945]'), a question mark for a
    questionable one, and the bounds where only they are known ('not after November 6, 1945')."""
    if date.not_after and not date.not_before and date.how_sure in ("inferred", "questionable"):
        return f"not after {long_date(date.not_after)}"
    text = long_date(date.date)
    if date.end_date and date.end_date != date.date:
        text += f"–{long_date(date.end_date)}"
    certainty = date.how_sure
    if certainty == "approximate":
        text = f"ca. {text}"
    elif certainty == "inferred":
        text = f"[{text}]"
    elif certainty == "questionable":
        text = f"[{text}?]"
    bounds = [f"not before {long_date(date.not_before)}" if date.not_before else "",
              f"not after {long_date(date.not_after)}" if date.not_after else ""]
    bounds = [b for b in bounds if b]
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def iso_date(date: DocumentDate) -> str:
    """The date in EDTF where the record gives one, else ISO 8601 (an interval `start/end` for a range)."""
    if date.edtf:
        return date.edtf
    return f"{date.date.isoformat()}/{date.end_date.isoformat()}" if date.end_date else date.date.isoformat()


def file_numbers(record: Record) -> list[str]:
    """Every file number the document is filed under, the principal one first."""
    prov = record.provenance
    return [n for n in [prov.file_number, *prov.other_file_numbers] if n]


def editor_names(found: Edition) -> list[str]:
    return [e if isinstance(e, str) else e.name for e in found.editors]


def editors_text(found: Edition) -> str:
    """'Ray Carey (general editor), Richardson Dougall (volume editor)'."""
    return ", ".join(e if isinstance(e, str) else f"{e.name} ({e.role})" if e.role != "editor" else e.name
                     for e in found.editors)


def locator_text(located: Locator | None) -> str:
    """'part 2, page -2-, top right' — where a marking, stamp or annotation sits; '' when unknown."""
    if located is None:
        return ""
    pieces = [f"part {located.part}" if located.part else "", f"page {located.page}" if located.page else "",
              located.position or ""]
    return ", ".join(p for p in pieces if p)


def decade(record: Record) -> str:
    return f"{record.date.date.year // 10 * 10}s"


# -- people -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """An agent of the record (or of one of its parts), on one side: creator or recipient."""

    agent: Agent
    side: str
    part: int | None = None
    """1-based index of the part that names the agent; None for the item itself."""

    @property
    def name(self) -> str:
        return self.agent.name

    @property
    def display(self) -> str:
        return display_name(self.agent.name)

    @property
    def facet(self) -> str:
        """The browse facet that finds the record under this person: the side, never the role."""
        return self.side

    def with_office(self) -> str:
        """'Smith, Walter Bedell (Ambassador)' — the normalized name with the office held."""
        return f"{self.name} ({self.agent.office})" if self.agent.office else self.name


def _people(record: Record, attr: str, side: str) -> list[Person]:
    found: dict[str, Person] = {}
    for agent in getattr(record, attr):
        found.setdefault(agent.name, Person(agent, side))
    for index, part in enumerate(record.parts or [], 1):
        for agent in getattr(part, attr):
            found.setdefault(agent.name, Person(agent, side, index))
    return list(found.values())


def creators(record: Record) -> list[Person]:
    """Who made or sent the item: its own creators, then its parts', each name once."""
    return _people(record, "creators", CREATOR)


def recipients(record: Record) -> list[Person]:
    """Who received the item: its own recipients, then its parts', each name once."""
    return _people(record, "recipients", RECIPIENT)


def creator_names(record: Record) -> list[str]:
    return [p.name for p in creators(record)]


def recipient_names(record: Record) -> list[str]:
    return [p.name for p in recipients(record)]


def agents_by_side(agents: list[Agent], side: str, part: int | None = None) -> list[Person]:
    """Agents of one list (the item's or one part's) as Persons on that list's side."""
    return [Person(agent, side, part) for agent in agents]


def correspondents(record: Record) -> str:
    """'W. Averell Harriman to Harry S. Truman'; '' when the record names no creator."""
    makers = [p.display for p in creators(record)]
    if not makers:
        return ""
    receivers = [p.display for p in recipients(record)]
    return join_names(makers) + (" to " + join_names(receivers) if receivers else "")


# -- one person across records --------------------------------------------------------------------

MENTIONED = "mentioned"
AUTHORITY_LABELS = {"viaf": "VIAF", "wikidata": "Wikidata", "snac": "SNAC", "lcnaf": "LC Name Authority File",
                    "isni": "ISNI", "orcid": "ORCID", "other": "Other authority record"}
"""How each authority scheme is named where people read it."""


def person_words(name: str) -> list[str]:
    """The name's words as the full-text index holds them: lower case, diacritics that decompose
    dropped ('Józef' → 'jozef'), other letters kept ('Mikołajczyk' → 'mikołajczyk')."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", folded.lower())


def person_slug(name: str) -> str:
    """A person page's slug: 'Harriman, W. Averell' → 'harriman-w-averell'. Names differing only in
    punctuation, case or accents share a page; '' for a name with no letter or digit."""
    return "-".join(person_words(name))


@dataclass(frozen=True)
class Appearance:
    """One way a record names a person: as a creator or recipient (an agent of the item or of a
    part, with role and office), or as mentioned."""

    name: str
    side: str
    """CREATOR, RECIPIENT or MENTIONED."""
    role: str
    office: str | None = None
    part: int | None = None


def appearances(record: Record, slug: str) -> list[Appearance]:
    """How the record names the person whose slug this is: each side once (as `creators` and
    `recipients` give them), then mentioned."""
    found = [Appearance(p.name, p.side, p.agent.role, p.agent.office, p.part)
             for p in [*creators(record), *recipients(record)] if person_slug(p.name) == slug]
    found += [Appearance(p.name, MENTIONED, MENTIONED) for p in record.persons_mentioned
              if person_slug(p.name) == slug][:1]
    return found


def authority_links(record: Record, slug: str) -> list[AuthorityLink]:
    """The authority records the record gives for the person (any agent entry, in parts too, or a
    person mentioned), each URI once."""
    agents = [*record.creators, *record.recipients]
    for part in record.parts or []:
        agents += [*part.creators, *part.recipients]
    entries = [*agents, *record.persons_mentioned]
    found: dict[str, AuthorityLink] = {}
    for entry in entries:
        if person_slug(entry.name) == slug:
            for link in entry.authority:
                found.setdefault(link.uri, link)
    return list(found.values())


# -- places ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Located:
    place: Place
    part: int | None = None


def places(record: Record) -> list[Located]:
    """The item's places, then its parts', each (name, role) once."""
    found: dict[tuple[str, str], Located] = {}
    for place in record.places:
        found.setdefault((place.name, place.role), Located(place))
    for index, part in enumerate(record.parts or [], 1):
        for place in part.places:
            found.setdefault((place.name, place.role), Located(place, index))
    return list(found.values())


def place_names(record: Record) -> list[str]:
    return list(dict.fromkeys(located.place.name for located in places(record)))


# -- what kind of document ------------------------------------------------------------------------

def document_types(record: Record) -> list[str]:
    """The item's type, then its parts' types, each once."""
    return list(dict.fromkeys([record.document_type, *(part.document_type for part in record.parts or [])]))


# -- classification and declassification ---------------------------------------------------------

def classification_label(classification: Classification) -> str:
    """'Top secret'; for an unmarked source, that nothing was printed (not that it was unclassified)."""
    level = classification.level
    return "No classification marking printed" if level == "unmarked" else level.capitalize()


def classification_text(classification: Classification) -> str:
    """One sentence: the normalized level and every marking as printed."""
    text = ("Original classification: none marked" if classification.level == "unmarked"
            else f"Original classification: {classification.level}")
    if classification.as_marked:
        text += f" (marked {', '.join(classification.as_marked)})"
    return text + "."


@dataclass(frozen=True)
class Declassified:
    """A declassification action and where it sits: the item (part None) or part N."""

    action: Declassification
    part: int | None = None

    @property
    def authority(self) -> str | None:
        return self.action.authority or self.action.authority_as_printed

    def details(self, long_dates: bool = False) -> list[str]:
        """Authority, agency letter, by whom, when: each as recorded, missing ones left out."""
        action = self.action
        when = action.date_as_printed
        if action.date:
            when = long_date(action.date) if long_dates else action.date.isoformat()
        pieces = [self.authority, action.agency_letter, f"by {action.by}" if action.by else None, when]
        return [p for p in pieces if p]


def declassifications(record: Record) -> list[Declassified]:
    """Every declassification action: the item's, then each part's."""
    out = [Declassified(action) for action in record.provenance.declassification]
    for index, part in enumerate(record.parts or [], 1):
        out += [Declassified(action, index) for action in part.declassification]
    return out


# -- where the original is ------------------------------------------------------------------------

def archival_location(record: Record) -> list[str]:
    """File number, collection (series, file), repository (division, place): most specific first."""
    prov = record.provenance
    pieces = [prov.file_number, prov.collection.file, prov.collection.series, prov.collection.name,
              prov.repository.division, prov.repository.name, prov.repository.location]
    return [p for p in dict.fromkeys(pieces) if p]


def collection_slug(record: Record) -> str:
    return slugify(record.provenance.collection.name)


# -- where it is printed --------------------------------------------------------------------------

def edition(record: Record) -> Edition | None:
    """The edition the transcription comes from (the first listed)."""
    return record.provenance.editions[0] if record.provenance.editions else None


def is_printed(found: Edition) -> bool:
    """A printed volume (FRUS) rather than an online presentation of the item."""
    return bool(found.year or found.pages or found.volume_id or found.editors)


def relations(record: Record) -> list[Relation]:
    return list(record.relations)


def edition_text(found: Edition) -> str:
    """'Office of the Historian: FRUS 1945, vol. V (frus1945v05), document 123, pp. 685–687'."""
    pieces = [found.title, found.volume_id and f"({found.volume_id})",
              found.document_number and f"document {found.document_number}",
              found.pages and f"pp. {found.pages}"]
    return f"{found.publisher}: " + ", ".join(p for p in pieces if p)


def printed_in(found: Edition) -> str:
    """'Printed in FRUS ..., doc. 123, pp. 685–687' for notes in citations."""
    text = f"Printed in {found.title}"
    if found.document_number:
        text += f", doc. {found.document_number}"
    if found.pages:
        text += f", pp. {found.pages}"
    return text
