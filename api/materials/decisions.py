"""What the unit's decisions must agree with about the materials before they are sent
(docs/rules.md §19)."""

from __future__ import annotations

from fastapi import HTTPException, status

from api.materials.target import (
    KIND_RULE,
    REFERENCE_RULE,
    target_of,
    unprocessable,
)
from api.refusals import Refusals
from api.services import Services, in_session
from api.subjects import DeclarationFacts
from domain.materials import (
    is_material_id,
    missing_refusal,
    reason_kinds,
    unit_kinds_missing_refusal,
)
from domain.models import Actor, DecisionCommand
from store.materials.records import (
    current_files,
    missing_materials,
)


async def check_decision(
    services: Services, actor: Actor, facts: DeclarationFacts, cmd: DecisionCommand
) -> None:
    """What the unit's decisions must agree with before they are sent (docs/rules.md §19):

    - a return's ``material:<kind>`` reason codes name kinds of the campaign's catalogue (422);
    - a ``publicity_result_ref`` that looks like a material id (``M-…``) names a current file of
      this declaration that the unit uploaded (422);
    - the unit approves at ``unit_review`` only when no required applicant material is missing
      (masked copies too under blind review), and signs its recommendation at
      ``unit_recommendation`` only once its own required material is uploaded: otherwise 409,
      naming the missing kinds, audited.
    """
    named = reason_kinds(cmd.reasons)
    ref = (cmd.publicity_result_ref or "").strip()
    approving_unit = cmd.outcome == "approve" and cmd.stage in (
        "unit_review",
        "unit_recommendation",
    )
    if not named and not ref.startswith("M-") and not approving_unit:
        return
    target = await target_of(services, facts.id)
    catalogue = target.campaign.materials_catalogue
    unknown = [k for k in named if k not in catalogue]
    if unknown:
        raise unprocessable(
            "reasons",
            f"理由代码中的材料类别不存在 / unknown material kinds in reasons: {', '.join(unknown)}",
            unknown,
            rule=KIND_RULE,
        )
    if ref.startswith("M-") and cmd.stage == "unit_recommendation":
        files = await in_session(
            services.store, lambda s: current_files(s, facts.id), readonly=True
        )
        mine = {m.id: m for m in files}
        found = mine.get(ref) if is_material_id(ref) else None
        kind = catalogue.get(found.kind) if found is not None else None
        if found is None or kind is None or kind.uploader != "unit":
            raise unprocessable(
                "publicity_result_ref",
                f"{ref} 不是该申报由单位上传的现行材料 / {ref} is not a current file the unit "
                "uploaded for this declaration",
                ref,
                rule=REFERENCE_RULE,
            )
    if not approving_unit or target.subject.state != cmd.stage:
        return  # a stage that is not the current one: the workflow answers that
    kinds = target.kinds
    blind = target.campaign.blind_review
    if cmd.stage == "unit_review":
        missing = await in_session(
            services.store,
            lambda s: missing_materials(
                s, facts.id, target.campaign, target.subject.level, target.subject.route, blind
            ),
            readonly=True,
        )
        reason = missing_refusal(missing, kinds, blind=blind) if missing else ""
    else:
        missing = await in_session(
            services.store,
            lambda s: missing_materials(
                s,
                facts.id,
                target.campaign,
                target.subject.level,
                target.subject.route,
                blind,
                uploaders=("unit",),
            ),
            readonly=True,
        )
        reason = unit_kinds_missing_refusal(missing, kinds) if missing else ""
    if missing:
        await Refusals(services).on_declaration(
            actor,
            facts,
            action="decide",
            reason=reason,
            status=409,
            detail={"code": "decide.materials_missing", "missing": missing, "stage": cmd.stage},
        )
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
