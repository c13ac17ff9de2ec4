"""Blind review (盲评, docs/rules.md §9, §15): what a committee member sees.

The view masks ``applicant.name``, ``applicant.id_number`` and ``applicant.unit_id``, and the unit
wherever else it appears (``unit_id``, ``pending.org``). The history is scrubbed the same way:
every string naming the applicant or the unit, and the accounts of the applicant and of the unit's
reviewers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from domain.models import DeclarationView

__all__ = ["MASK", "mask_events", "mask_view"]

MASK = "***"

V = TypeVar("V", bound=DeclarationView)


def mask_view(view: V) -> V:
    unit = view.unit_id or view.applicant.unit_id
    applicant = view.applicant.model_copy(update={"name": MASK, "id_number": MASK, "unit_id": MASK})
    pending = view.pending
    if pending is not None and unit and pending.org == unit:
        pending = pending.model_copy(update={"org": MASK})
    return view.model_copy(
        update={"applicant": applicant, "unit_id": MASK if view.unit_id else "", "pending": pending}
    )


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    return value


def mask_events(events: list[dict[str, Any]], view: DeclarationView) -> list[dict[str, Any]]:
    """History rows as a committee member under blind review reads them."""
    unit = view.unit_id or view.applicant.unit_id
    secrets = sorted(
        {s for s in (view.applicant.name, view.applicant.id_number, unit) if s},
        key=len,
        reverse=True,
    )
    out = []
    for event in events:
        event = dict(event)
        if event.get("actor_role") == "applicant" or (unit and event.get("actor_org") == unit):
            event["actor_id"] = MASK
        out.append(_scrub(event, secrets))
    return out
