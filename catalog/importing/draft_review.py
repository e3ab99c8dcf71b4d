"""The review list of a draft: each proposed value, `needs review`, with the text and line it came from."""

from __future__ import annotations

from catalog.importing.draft_document import Document
from catalog.importing.draft_text import line_number

NEEDS_REVIEW = "needs review"


class Review:
    """The review list: each proposed value with the text (and line) it came from."""

    def __init__(self, text: str):
        self.text = text
        self.entries: list[dict] = []

    def propose(self, path: str, value: object, source: str, offset: int | None,
                placeholder: bool = False, why: str | None = None) -> object:
        entry = {"field": path, "value": value, "status": NEEDS_REVIEW, "from": source.strip()}
        if offset is not None:
            entry["line"] = line_number(self.text, offset)
        if placeholder:
            entry["placeholder"] = True
        if why:
            entry["why"] = why
        self.entries.append(entry)
        return value

    def mark_placeholder(self, value: object, why: str) -> None:
        """Flag the entries that proposed `value` (the same object) as holding a stand-in."""
        for entry in self.entries:
            if entry["value"] is value:
                entry.update(placeholder=True, why=why)

    def take(self, document: Document, prefix: str) -> None:
        for proposal in document.proposals:
            if proposal.path.startswith("_"):
                continue
            self.propose(f"{prefix}{proposal.path}", proposal.value, proposal.source, proposal.offset)
