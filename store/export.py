"""Exporting an audit trail (docs/rules.md §8: "export a declaration's or a campaign's full trail").

A declaration's or a campaign's events, oldest first within each declaration (declarations in
``declaration_id`` order), streamed as ``str`` chunks so that a trail of any length goes out in
constant memory (the HTTP route wraps the generator in a streaming response, the CLI writes it
to a file). The columns are exactly those of the audit store (docs/rules.md §18), in order
(:data:`EXPORT_COLUMNS`):

- **CSV** (RFC 4180: comma, double quotes, CRLF line ends, UTF-8 without BOM): a header row, then
  one row per event; ``at`` in the canonical form (``2024-09-25T02:00:00.000000Z``); an empty
  ``stage_before`` / ``stage_after`` cell is ``null``; ``reasons`` and ``detail`` are their JSON
  text, exactly as stored (already canonical), so a hash can be recomputed from the cell.
  **Formula guard:** a spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and
  a tab or carriage return) as a formula, and an opinion or an actor id is whatever a caller
  typed; such a cell is written with a leading ``'``, and so is a cell that already begins with
  ``'``, so that the guard can always be undone: drop one leading ``'`` from every cell that has
  one (:func:`unguard`) to get the stored value back.
- **JSONL**: one JSON object per line, keys in the same order, ``reasons`` and ``detail`` as
  JSON values, non-ASCII written as is.

The hash also covers ``campaign_id`` (``store.audit``), which the exported columns leave out: to
recompute hashes from an export, take it from the campaign exported (or, for one declaration,
from its dossier).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, Literal

import sqlalchemy as sa

from store.audit import canonical_instant
from store.db import Store
from store.tables import AuditEvent

__all__ = [
    "EXPORT_COLUMNS",
    "FORMULA_STARTS",
    "MEDIA_TYPES",
    "ExportFormat",
    "export_csv",
    "export_jsonl",
    "export_trail",
    "guard",
    "trail_rows",
    "unguard",
]

#: The audit store's columns (docs/rules.md §18), in order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "declaration_id",
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "actor_org",
    "action",
    "stage_before",
    "stage_after",
    "outcome",
    "opinion",
    "reasons",
    "detail",
    "prev_hash",
    "hash",
)

ExportFormat = Literal["csv", "jsonl"]

MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}

#: Rows per database round trip, and rows per yielded chunk.
BATCH = 2_000

_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
_AT = EXPORT_COLUMNS.index("at")

#: What a spreadsheet may take for the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(value: Any) -> Any:
    """A CSV cell no spreadsheet runs: text that begins like a formula (or with the guard's own
    ``'``) gets a leading ``'``; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, "'")):
        return "'" + value
    return value


def unguard(cell: str) -> str:
    """The stored value of an exported CSV cell (undoes :func:`guard`)."""
    return cell[1:] if cell.startswith("'") else cell


def _scope(declaration_id: str | None, campaign_id: str | None) -> sa.ColumnElement[bool]:
    if (declaration_id is None) == (campaign_id is None):
        raise ValueError("export one declaration_id or one campaign_id")
    if declaration_id is not None:
        return _TABLE.c.declaration_id == declaration_id
    return _TABLE.c.campaign_id == campaign_id


def trail_rows(
    store: Store, *, declaration_id: str | None = None, campaign_id: str | None = None
) -> Iterator[list[Any]]:
    """The events as lists of :data:`EXPORT_COLUMNS` values (``at`` already canonical text,
    ``reasons``/``detail`` their stored JSON text), streamed from a read-only session that
    stays open while the caller iterates."""
    query = (
        sa.select(*(_TABLE.c[name] for name in EXPORT_COLUMNS))
        .where(_scope(declaration_id, campaign_id))
        .order_by(_TABLE.c.declaration_id, _TABLE.c.seq)
    )
    with store.session(readonly=True) as session:
        result = session.connection().execution_options(yield_per=BATCH).execute(query)
        try:
            for row in result:
                values = list(row)
                values[_AT] = canonical_instant(values[_AT])
                yield values
        finally:
            result.close()


def export_csv(
    store: Store, *, declaration_id: str | None = None, campaign_id: str | None = None
) -> Iterator[str]:
    """The trail as CSV text chunks, header first (see the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    pending = 0
    for values in trail_rows(store, declaration_id=declaration_id, campaign_id=campaign_id):
        writer.writerow([guard(v) for v in values])
        pending += 1
        if pending == BATCH:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def export_jsonl(
    store: Store, *, declaration_id: str | None = None, campaign_id: str | None = None
) -> Iterator[str]:
    """The trail as JSON lines, in chunks of whole lines (see the module docstring)."""
    reasons, detail = EXPORT_COLUMNS.index("reasons"), EXPORT_COLUMNS.index("detail")
    lines: list[str] = []
    for values in trail_rows(store, declaration_id=declaration_id, campaign_id=campaign_id):
        values[reasons] = json.loads(values[reasons])
        values[detail] = json.loads(values[detail])
        lines.append(json.dumps(dict(zip(EXPORT_COLUMNS, values, strict=True)), ensure_ascii=False))
        if len(lines) == BATCH:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


def export_trail(
    store: Store,
    *,
    format: ExportFormat,
    declaration_id: str | None = None,
    campaign_id: str | None = None,
) -> Iterator[str]:
    """:func:`export_csv` or :func:`export_jsonl` by name (the scope is checked at once, not on
    the first ``next``)."""
    _scope(declaration_id, campaign_id)
    if format == "csv":
        return export_csv(store, declaration_id=declaration_id, campaign_id=campaign_id)
    if format == "jsonl":
        return export_jsonl(store, declaration_id=declaration_id, campaign_id=campaign_id)
    raise ValueError(f"unknown export format {format!r}: csv or jsonl")
