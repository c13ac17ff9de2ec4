"""Reading the files an administrator hands in (campaign files, registry files): the format by
the file's suffix, UTF-8 text, and strict decoding: JSON and YAML with a key written twice in one
mapping refused instead of silently keeping the last value, and YAML with the safe loader and
without its implicit timestamp conversion (dates and instants stay text, so pydantic parses them
exactly as it parses JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

__all__ = ["StrictLoader", "decode_json", "decode_yaml", "read_file"]

F = TypeVar("F", bound=str)

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without implicit timestamps, refusing duplicate keys."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _mapping_without_duplicates(loader: StrictLoader, node: Any) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def decode_json(text: str) -> Any:
    """``text`` as JSON; a duplicate key raises :class:`ValueError` (as a syntax error does)."""
    return json.loads(text, object_pairs_hook=_object_without_duplicates)


def decode_yaml(text: str) -> Any:
    """``text`` as YAML (:class:`StrictLoader`); a duplicate key raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=StrictLoader)  # a SafeLoader subclass: safe


def read_file(path: Path, suffixes: Mapping[str, F], what: str) -> tuple[str, F]:
    """The text of the ``what`` file at ``path`` and its format, by its suffix (any case) among
    ``suffixes``; :class:`ValueError` naming the file for an unknown suffix or text not UTF-8."""
    path = Path(path)
    fmt = suffixes.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(suffixes)
        raise ValueError(f"{path}: unknown {what} file suffix {path.suffix!r}; expected {known}")
    try:
        return path.read_text(encoding="utf-8"), fmt
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text: {exc}") from exc
