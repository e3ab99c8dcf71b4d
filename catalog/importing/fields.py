"""Values for fields named by path, typed as the record model needs them.

A spreadsheet cell and a `--set PATH=VALUE` option are text; the model says which fields are lists
(texts separated by `;`), whole numbers or true/false. Anything that does not convert is left as
text, so the validation report names the field and what it wants.
"""

from __future__ import annotations

import typing
from types import NoneType
from types import UnionType

from pydantic import BaseModel

from catalog.importing import paths
from catalog.model import Record


class SettingError(ValueError):
    """A `--set` option that is not FIELD=VALUE."""


def parse_settings(settings: list[str]) -> dict[str, str]:
    """`--set PATH=VALUE` options: values every record gets where it has none of its own."""
    found = {}
    for setting in settings:
        field_path, equals, value = setting.partition("=")
        if not equals or not field_path.strip():
            raise SettingError(f"--set {setting!r}: write it as FIELD=VALUE, e.g. --set access.status=open")
        found[field_path.strip()] = value.strip()
    return found


def apply_settings(record: dict, settings: dict[str, str]) -> None:
    """Fill each set field the record leaves empty (a setting never replaces what the source says).
    A setting inside a list entry (`creators.0.role`) fills it only where that entry exists."""
    for field_path, text in settings.items():
        parts = field_path.split(".")
        entries = [".".join(parts[:i + 1]) for i, part in enumerate(parts) if part.isdigit()]
        if all(paths.present(record, entry) for entry in entries) and not paths.present(record, field_path):
            try:
                paths.put(record, field_path, typed(field_path, text))
            except (TypeError, AttributeError, IndexError) as error:
                raise SettingError(f"--set {field_path}: the record already has a value of another kind "
                                   "on the way to this field") from error


def typed(field_path: str, text: str) -> object:
    """The text as its field needs it: a list of texts split at ';', a whole number, true/false."""
    kind = field_kind(field_path)
    text = text.strip()
    if kind == "list":
        return [item.strip() for item in text.split(";") if item.strip()]
    if kind == "int" and text.lstrip("-").isdigit():
        return int(text)
    if kind == "bool" and text.lower() in _BOOLEANS:
        return _BOOLEANS[text.lower()]
    return text


_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def field_kind(field_path: str) -> str:
    """'list', 'int', 'bool', 'text' or 'unknown', read from the record model along the path."""
    annotation: object = Record
    for part in paths.split(field_path):
        annotation = _plain(annotation)
        if isinstance(part, int):
            if typing.get_origin(annotation) is not list:
                return "unknown"
            annotation = typing.get_args(annotation)[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel) and part in annotation.model_fields:
            annotation = annotation.model_fields[part].annotation
        else:
            return "unknown"
    annotation = _plain(annotation)
    if typing.get_origin(annotation) is list:
        return "list"
    return {int: "int", bool: "bool"}.get(annotation, "text")


def _plain(annotation: object) -> object:
    """Without Annotated[...] and without None in an optional type."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, UnionType):
        options = [a for a in typing.get_args(annotation) if a is not NoneType]
        if len(options) == 1:
            return _plain(options[0])
    return annotation
