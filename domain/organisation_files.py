"""Registry files: the organisations of docs/rules.md §11 written as CSV, JSON or YAML (see
``examples/organisations/``), read into :class:`domain.models.Organisation` with the place of each
row, so that every problem names its row (CSV: the line; YAML: the line of the list item; JSON:
the index in the list).

- **CSV** (UTF-8, a byte-order mark is allowed): a header line naming the columns ``id``,
  ``kind``, ``name``, ``region_code``, ``region_name``, ``parent_id``, ``members``, ``email`` (in any
  order; ``id``, ``kind`` and ``name`` are required), then one organisation per line. An empty cell
  is an absent value.
- **JSON**: a list of objects in the shape of ``PUT /organisations/{id}``'s body plus ``id``.
- **YAML**: the same list, or a mapping whose ``organisations`` key holds it (so a file can carry
  other keys for its readers). Read with the safe loader; a key written twice is refused.

A file that cannot be read as its format at all raises :class:`ValueError`; a readable file gives a
:class:`ParsedRegistry` whose ``problems`` name every row that is not a valid organisation. Whether
the rows fit together and with what is registered already is
:func:`registry_row_problems` (``domain.organisations.registry_problems``, with each row's place).
Pure apart from reading the one file :func:`load_registry_file` is given.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import ValidationError

from domain.file_formats import StrictLoader, decode_json, decode_yaml, read_file

if TYPE_CHECKING:
    from domain.organisations import RegistryProblem
from domain.models import Organisation
from domain.organisations import registry_problems

__all__ = [
    "CSV_COLUMNS",
    "MAX_ROWS",
    "REGISTRY_RULE",
    "SUFFIXES",
    "ParsedRegistry",
    "RegistryFormat",
    "RowProblem",
    "load_registry_file",
    "parse_registry",
    "registry_row_problems",
]

RegistryFormat = Literal["csv", "json", "yaml"]

#: File suffixes (lower case) and the format each one means.
SUFFIXES: dict[str, RegistryFormat] = {
    ".csv": "csv",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
}

#: The columns of a registry CSV file, in the order an export writes them.
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "name",
    "region_code",
    "region_name",
    "parent_id",
    "members",
    "email",
)
_REQUIRED_COLUMNS = ("id", "kind", "name")

#: The rule code of a row that does not fit the registry (docs/rules.md §11).
REGISTRY_RULE = "organisation.registry"

#: The most organisations one import holds (a prefecture's units fit many times over).
MAX_ROWS = 20_000


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row: its place (``index`` in the input, 0-based; ``line`` in the
    file where known), the organisation's id as written, the field at fault and why."""

    index: int
    line: int | None
    org_id: str
    field: str
    message: str
    #: The kind of problem: pydantic's error type for a row that is not an organisation, a rule
    #: code (``organisation.registry``) for one that does not fit the registry.
    kind: str = "value_error"

    @property
    def where(self) -> str:
        """``第 3 行 / line 3`` or ``第 2 项 / item 2`` (1-based, as people count)."""
        if self.line is not None:
            return f"第 {self.line} 行 / line {self.line}"
        return f"第 {self.index + 1} 项 / item {self.index + 1}"

    def __str__(self) -> str:
        who = f" {self.org_id}" if self.org_id else ""
        return f"{self.where}{who} ({self.field}): {self.message}"


@dataclass(frozen=True)
class ParsedRegistry:
    """The valid organisations of a file with the line of each (None where unknown), and the
    rows that are not valid organisations. Nothing may be imported while ``problems`` is not
    empty (all or nothing)."""

    organisations: list[Organisation] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    #: For each organisation, its index among the rows read (invalid rows included).
    indexes: list[int] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0

    def at_rows(self, problems: Iterable[RegistryProblem]) -> list[RowProblem]:
        """Problems with the registry as a whole (a missing parent, a cycle …), each at the row
        of the organisation it names."""
        return [
            RowProblem(
                self.indexes[p.index],
                self.lines[p.index],
                p.org_id,
                p.field,
                p.message,
                REGISTRY_RULE,
            )
            for p in problems
        ]


# --------------------------------------------------------------------------- reading rows


def _csv_rows(text: str) -> list[tuple[int | None, Any]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise ValueError("the CSV file is empty: its first line must name the columns")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [h for h in _REQUIRED_COLUMNS if h not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise ValueError(
            f"CSV 表头须为 {', '.join(CSV_COLUMNS)} 中的列 / the header must name columns among "
            f"{', '.join(CSV_COLUMNS)} (id, kind and name required, each once); "
            f"unknown: {unknown or '-'}, missing: {missing or '-'}"
        )
    reader.fieldnames = header
    rows: list[tuple[int | None, Any]] = []
    for raw in reader:
        cells = [v for v in raw.values() if isinstance(v, str)] + list(raw.get(None) or [])
        # The row ends on line_num; a quoted cell spanning lines moves its start up.
        start = reader.line_num - sum(cell.count("\n") for cell in cells)
        if None in raw:  # more cells than columns
            raw = {**raw, "_extra": raw.pop(None)}
        if any(cell.strip() for cell in cells):
            rows.append((start, raw))
    return rows


def _csv_object(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One CSV row as the object the API takes: empty cells left out, the region assembled."""
    if "_extra" in raw:
        raise ValueError("该行的列数多于表头 / more cells than the header names")
    cells = {k: v.strip() for k, v in raw.items() if isinstance(v, str) and v.strip()}
    data: dict[str, Any] = {k: v for k, v in cells.items() if not k.startswith("region_")}
    if "region_code" in cells or "region_name" in cells:
        data["region"] = {
            "code": cells.get("region_code", ""),
            "name": cells.get("region_name", ""),
        }
    return data


def _yaml_lines(text: str) -> list[int | None]:
    """The line of each item of the registry's list (1-based), from YAML's node tree."""
    node = yaml.compose(text, Loader=StrictLoader)  # a SafeLoader subclass: safe
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "organisations":
                node = value
                break
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def _structured_rows(text: str, fmt: RegistryFormat) -> list[tuple[int | None, Any]]:
    if fmt == "json":
        data = decode_json(text)
        lines: list[int | None] = []
    else:
        data = decode_yaml(text)
        lines = _yaml_lines(text)
    if isinstance(data, dict) and fmt == "yaml":
        if "organisations" not in data:
            raise ValueError("a YAML registry is a list, or a mapping with an 'organisations' list")
        data = data["organisations"]
    if not isinstance(data, list):
        kind = "empty" if data is None else type(data).__name__
        raise ValueError(f"a registry is a {fmt.upper()} list of organisations, got {kind}")
    return [(lines[i] if i < len(lines) else None, item) for i, item in enumerate(data)]


def _rows(text: str, fmt: RegistryFormat) -> list[tuple[int | None, Any]]:
    if fmt == "csv":
        return _csv_rows(text)
    if fmt in ("json", "yaml"):
        return _structured_rows(text, fmt)
    raise ValueError(f"unknown registry format {fmt!r}: expected csv, json or yaml")


def _field_of(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "(row)"


def parse_registry(
    text: str, fmt: RegistryFormat, *, source: str = "<registry text>"
) -> ParsedRegistry:
    """Read ``text`` as a registry in ``fmt``; every row that is not a valid organisation is a
    :class:`RowProblem`. Raises :class:`ValueError` naming ``source`` when the text is not that
    format at all, is not a list, or holds more than :data:`MAX_ROWS` rows."""
    try:
        rows = _rows(text, fmt)
    except (ValueError, yaml.YAMLError, csv.Error) as exc:
        raise ValueError(f"{source}: not a readable {fmt.upper()} registry: {exc}") from exc
    if len(rows) > MAX_ROWS:
        raise ValueError(f"{source}: {len(rows)} rows; one import holds at most {MAX_ROWS}")
    parsed = ParsedRegistry(rows=len(rows))
    for index, (line, raw) in enumerate(rows):
        org_id = str(raw.get("id", "")) if isinstance(raw, Mapping) else ""
        try:
            data = _csv_object(raw) if fmt == "csv" else raw
            if not isinstance(data, Mapping):
                raise ValueError(
                    f"每项须为一个对象 / each row is an object, got {type(data).__name__}"
                )
            org = Organisation.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_context=False):
                parsed.problems.append(
                    RowProblem(
                        index, line, org_id, _field_of(error["loc"]), error["msg"], error["type"]
                    )
                )
            continue
        except ValueError as exc:
            parsed.problems.append(RowProblem(index, line, org_id, "(row)", str(exc)))
            continue
        parsed.organisations.append(org)
        parsed.lines.append(line)
        parsed.indexes.append(index)
    return parsed


def registry_row_problems(
    parsed: ParsedRegistry, existing: Mapping[str, Organisation] | None = None
) -> list[RowProblem]:
    """Every problem of an import, each with its row's place: the rows that are not valid
    organisations, then what :func:`domain.organisations.registry_problems` finds in the valid
    ones laid over ``existing`` (an id given twice, a parent that is not registered or not an
    authority, a circle of parents). Empty: the import may be applied as a whole."""
    problems = list(parsed.problems)
    for problem in registry_problems(parsed.organisations, existing):
        at = problem.index
        problems.append(
            RowProblem(
                parsed.indexes[at],
                parsed.lines[at],
                problem.org_id,
                problem.field,
                problem.message,
                REGISTRY_RULE,
            )
        )
    return sorted(problems, key=lambda p: (p.index, p.field))


def load_registry_file(path: Path) -> ParsedRegistry:
    """Read one registry file: ``.csv``, ``.json``, ``.yaml`` / ``.yml`` (any case), UTF-8."""
    text, fmt = read_file(path, SUFFIXES, "registry")
    return parse_registry(text, fmt, source=str(path))
