"""Dotted field paths (`provenance.repository.name`, `creators.0.role`) read and written in record dicts.

The CSV importer names fields this way and the batch writer merges updates by them, so both share
one reading of a path: dict keys, with whole numbers as list indexes.
"""

from __future__ import annotations

import itertools

_MISSING = object()


def split(path: str) -> list[str | int]:
    """'creators.0.name' → ['creators', 0, 'name']."""
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def get(data: object, path: str, default: object = None) -> object:
    node = data
    for part in split(path):
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        if in_list or (isinstance(part, str) and isinstance(node, dict) and part in node):
            node = node[part]
        else:
            return default
    return node


def put(data: dict, path: str, value: object) -> None:
    """Set `value` at `path`, making the dicts and lists on the way (a list grows to the index named)."""
    parts = split(path)
    node: object = data
    for part, following in itertools.pairwise(parts):
        empty = [] if isinstance(following, int) else {}
        node = _child(node, part, empty)
    last = parts[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def _child(node, part, empty):
    if isinstance(part, int):
        while len(node) <= part:
            node.append(None)
        if node[part] is None:
            node[part] = empty
        return node[part]
    if part not in node or node[part] is None:
        node[part] = empty
    return node[part]


def remove(data: dict, path: str) -> None:
    """Drop the field at `path` (dict keys only) if it is there."""
    *parents, last = split(path)
    node = get(data, ".".join(map(str, parents))) if parents else data
    if isinstance(node, dict):
        node.pop(last, None)


def present(data: dict, path: str) -> bool:
    return get(data, path, _MISSING) is not _MISSING
