"""What a reader may not see of a declaration (docs/rules.md §9, §10.8, §15).

Blind review (盲评): a committee member sees everything that identifies the person masked: the
applicant's name, ID number and unit, the unit wherever else it appears (``unit_id``,
``pending.org``), the region, the authority bodies of the chain, the places of the service
years claimed for 直接认定, and the text and authors of objections. The history is scrubbed the same way: every string naming the applicant, the unit,
the region or an authority body, and the accounts of the applicant, of the unit's and the
authorities' reviewers and of objectors.

Objectors: who lodged an objection is shown to those who resolve it and to auditors, never to
the applicant (:func:`without_objectors`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from domain.models import DeclarationView

__all__ = ["MASK", "mask_events", "mask_view", "without_objectors"]

MASK = "***"

V = TypeVar("V", bound=DeclarationView)


def mask_view(view: V) -> V:
    unit = view.unit_id or view.applicant.unit_id
    applicant = view.applicant.model_copy(
        update={"name": MASK, "id_number": MASK, "unit_id": MASK, "affiliation": MASK}
    )
    pending = view.pending
    hidden = {unit, *view.authority_chain} - {""}
    if pending is not None and pending.org in hidden:
        pending = pending.model_copy(update={"org": MASK})
    objections = [o.model_copy(update={"text": MASK, "lodged_by": MASK}) for o in view.objections]
    service_years = [y.model_copy(update={"place": MASK}) for y in view.service_years]
    return view.model_copy(
        update={
            "applicant": applicant,
            "unit_id": MASK if view.unit_id else "",
            "pending": pending,
            "region": None,
            "authority_chain": [MASK for _ in view.authority_chain],
            "objections": objections,
            "service_years": service_years,
        }
    )


def without_objectors(view: V) -> V:
    """The view with no objector named (the applicant's own view, docs/rules.md §10.8)."""
    objections = [o.model_copy(update={"lodged_by": ""}) for o in view.objections]
    return view.model_copy(update={"objections": objections})


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
    region = view.region.name if view.region is not None else ""
    named = (view.applicant.name, view.applicant.id_number, unit, region, *view.authority_chain)
    secrets = sorted({s for s in named if s}, key=len, reverse=True)
    bodies = {unit, *view.authority_chain} - {""}
    out = []
    for event in events:
        event = dict(event)
        if event.get("actor_role") == "applicant" or event.get("actor_org") in bodies:
            event["actor_id"] = MASK
        if event.get("action") == "objection.lodged":
            event["actor_id"], event["opinion"] = MASK, MASK
        out.append(_scrub(event, secrets))
    return out
