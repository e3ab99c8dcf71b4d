"""A FRUS source note read as provenance: the decimal file number or the collection, and the channel.

FRUS heads each document with where its text comes from: a Department of State central decimal
file number (`740.0011 Moscow/10–3043`, kept verbatim with its en dash), a collection ("Roosevelt
Papers", "Moscow Embassy Files—710 Sino-Soviet Relations") and, after a colon, the form
("Telegram"). Where the collection tells the holding repository (CATALOGING.md, the seed records),
the repository is filled in with a note saying it was inferred; otherwise it is left for the
cataloger, and the report names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DECIMAL_FILE = re.compile(
    r"^(?:FW\s+)?\d{3}(?:\.[0-9A-Za-z]+)*(?:\s+[^/:;]+?)?/[0-9A-Za-z][0-9A-Za-z–—-]*(?:\s*[½¼¾])?")
"""A central decimal file number: class and country digits, optional subfile words, a slash and the
item (a serial number or an M–DDYY date code)."""

CHANNELS = {
    "telegram": "telegram", "circular telegram": "telegram", "airgram": None, "despatch": "dispatch",
    "dispatch": "dispatch", "memorandum": "memorandum", "letter": "letter", "note": "note",
    "minutes": "minutes", "report": "report", "cable": "cable", "message": "message",
    "memorandum of conversation": "memorandum of conversation",
}
"""The form after the colon ("…: Telegram"), and the document type it says (None: none of ours)."""

CENTRAL_FILES = "Department of State Central Decimal File"
NARA = "National Archives and Records Administration"
RG59 = "General Records of the Department of State (Record Group 59)"
RG84 = "Records of Foreign Service Posts (Record Group 84)"

REPOSITORIES = (
    (re.compile(r"\bRoosevelt Papers\b|\bHopkins Papers\b|\bMap Room\b"), "Franklin D. Roosevelt Library", None),
    (re.compile(r"\bTruman Papers\b"), "Harry S. Truman Library", None),
    (re.compile(r"\b(?:Embassy|Legation|Consulate|Consulate General|Mission) Files\b"), NARA, RG84),
    (re.compile(r"^Lot \d+"), NARA, RG59),
)
"""Collections whose holder is known (the seed records' reasoning): pattern, repository, division."""


@dataclass
class SourceNote:
    text: str
    file_number: str | None = None
    collection: str | None = None
    file: str | None = None
    channel: str | None = None

    @property
    def document_type(self) -> str | None:
        return CHANNELS.get((self.channel or "").lower())

    def collection_entry(self) -> dict | None:
        if self.file_number:
            return {"name": CENTRAL_FILES}
        if not self.collection:
            return None
        entry = {"name": self.collection}
        if self.file:
            entry["file"] = self.file
        return entry

    def repository(self) -> dict | None:
        """The holding repository, where the source note tells it; None leaves it to the cataloger."""
        why = f"Inferred from the FRUS source note “{self.text}”"
        if self.file_number:
            return {"name": NARA, "division": RG59,
                    "note": f"{why}, a Department of State central decimal file number: the central decimal "
                            "files are held by the National Archives in RG 59."}
        for pattern, name, division in REPOSITORIES:
            if self.collection and pattern.search(self.collection):
                entry = {"name": name}
                if division:
                    entry["division"] = division
                entry["note"] = f"{why}: {self.collection} is held by the {name}."
                return entry
        return None


def parse(text: str) -> SourceNote:
    """'740.0011 Moscow/10–3043: Telegram' → file number and channel; 'Moscow Embassy Files—710
    Sino-Soviet Relations: Telegram' → collection, file and channel."""
    text = " ".join(text.split())
    note = SourceNote(text)
    body = text
    head, colon, tail = text.rpartition(":")
    if colon and tail.strip().rstrip(".").lower() in CHANNELS:
        body, note.channel = head.strip(), tail.strip().rstrip(".")
    match = DECIMAL_FILE.match(body)
    if match:
        note.file_number = match.group().strip()
        return note
    name, dash, file = body.partition("—")
    note.collection = name.strip().rstrip(",") or None
    note.file = file.strip() or None if dash else None
    return note
