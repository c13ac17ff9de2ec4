"""What a campaign looks like as a whole, read from the read model and the audit trail:

- ``GET /campaigns/{id}/defenses`` (committee): who defends, where and how (docs/rules.md §5, §2.7),
  for the declarations at or past ``defense_pending``; masked under blind review (§9);
- ``GET /campaigns/{id}/publicity-list`` (any authenticated caller): the result publicity list
  (评审结果公示名单, §2.9) with name, unit, level, series and the publicity's first and last day:
  public information, never masked;
- ``POST /campaigns/{id}/announcement`` (committee, admin): the announcement list (结果公布,
  §2.10): the certified declarations with their certificate numbers. Each declaration's workflow
  announces its own result; this returns the list, it changes nothing;
- ``GET /campaigns/{id}/report`` (committee, admin, auditor): declarations per state, and returns
  counted per reason code, per unit and per stage (§10.4).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import Allow, ServicesDep
from api.masking import mask_view
from api.policy import ALL_ROLES, sees_masked
from api.routes.campaigns import campaign_for, unknown_campaign
from api.services import Services, in_session
from domain.campaign_ops import count_returns
from domain.models import Actor, Campaign
from store.campaigns import get_campaign
from store.queries.campaigns import (
    campaign_views,
    certificates_of,
    result_publicities,
    return_events,
    routes_of,
    states_of,
)
from store.readmodel import get_view

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

Committee = Annotated[Actor, Depends(Allow("committee"))]
Anyone = Annotated[Actor, Depends(Allow(*ALL_ROLES))]
Announcer = Annotated[Actor, Depends(Allow("committee", "admin"))]
Reporter = Annotated[Actor, Depends(Allow("committee", "admin", "auditor"))]

#: States at or past the defense in the chain (§2: defense → vote → result publicity → …).
AT_OR_PAST_DEFENSE = (
    "defense_pending",
    "defense_failed",
    "committee_review",
    "not_approved",
    "result_publicity",
    "result_confirmation",
    "certified",
    "revoked",
)


async def _campaign(services: Services, campaign_id: str) -> Campaign:
    campaign = await in_session(
        services.store, lambda s: get_campaign(s, campaign_id), readonly=True
    )
    if campaign is None:
        raise unknown_campaign(campaign_id)
    return campaign


@router.get("/{campaign_id}/defenses")
async def defense_schedule(
    campaign_id: str, actor: Committee, services: ServicesDep
) -> dict[str, Any]:
    """Each declaration at or past ``defense_pending``: whether it defends, the venue (onsite or
    remote), whether it was drawn in the remote sample (None where no draw was made), its
    exemption, and the defense's mode, result and score once recorded. On-site first."""
    campaign = await campaign_for(services, actor, campaign_id, action="defense_schedule")
    views = await in_session(
        services.store,
        lambda s: campaign_views(s, campaign_id, AT_OR_PAST_DEFENSE),
        readonly=True,
    )
    if sees_masked(actor, campaign.blind_review):
        views = [mask_view(v) for v in views]
    order = {"onsite": 0, "remote": 1, None: 2}
    views.sort(key=lambda v: (order[v.defense.venue], v.level, v.id))
    items = [
        {
            "declaration_id": v.id,
            "level": v.level,
            "state": v.state,
            "applicant": {
                "name": v.applicant.name,
                "unit_id": v.applicant.unit_id,
                "affiliation": v.applicant.affiliation,
            },
            "defends": v.defense.required,
            "venue": v.defense.venue,
            "drawn": v.defense.drawn,
            "exemption": v.defense.exemption,
            "mode": v.defense.mode,
            "passed": v.defense.passed,
            "score": v.defense.score,
        }
        for v in views
    ]
    summary = {
        "onsite": sum(1 for i in items if i["venue"] == "onsite"),
        "remote": sum(1 for i in items if i["venue"] == "remote"),
        "not_defending": sum(1 for i in items if not i["defends"]),
        "drawn": sum(1 for i in items if i["drawn"] is True),
        "not_drawn": sum(1 for i in items if i["drawn"] is False),
        "awaiting_defense": sum(1 for i in items if i["state"] == "defense_pending"),
    }
    return {
        "campaign_id": campaign_id,
        "remote_selection": campaign.defense.remote_selection,
        "remote_sample_rate": campaign.defense.remote_sample_rate,
        "onsite_affiliations": campaign.defense.onsite_affiliations,
        "summary": summary,
        "declarations": items,
    }


@router.get("/{campaign_id}/publicity-list")
async def publicity_list(campaign_id: str, actor: Anyone, services: ServicesDep) -> dict[str, Any]:
    """评审结果公示名单: the declarations in result publicity, with the applicant's name and unit
    (the publicity makes them public), level, series, and the publicity's first and last day
    (公示时间从…起至…止). Never the ID number."""
    campaign = await _campaign(services, campaign_id)

    def load(session: Any) -> tuple[list[Any], dict[str, Any]]:
        views = campaign_views(session, campaign_id, ["result_publicity"])
        return views, result_publicities(session, [v.id for v in views])

    views, publicities = await in_session(services.store, load, readonly=True)
    items = []
    for v in views:
        pub = publicities.get(v.id)
        items.append(
            {
                "declaration_id": v.id,
                "name": v.applicant.name,
                "unit_id": v.unit_id or v.applicant.unit_id,
                "affiliation": v.applicant.affiliation,
                "level": v.level,
                "series": v.series,
                "first_day": pub.first_day.isoformat() if pub and pub.first_day else None,
                "last_day": pub.last_day.isoformat() if pub and pub.last_day else None,
                "ends_at": v.deadlines.publicity_ends.isoformat()
                if v.deadlines.publicity_ends
                else None,
                "open_objections": sum(
                    1 for o in v.objections if o.publicity == "result_publicity" and not o.resolved
                ),
            }
        )
    return {
        "campaign_id": campaign_id,
        "campaign_name": campaign.name,
        "count": len(items),
        "declarations": items,
    }


@router.post("/{campaign_id}/announcement")
async def announcement(campaign_id: str, actor: Announcer, services: ServicesDep) -> dict[str, Any]:
    """结果公布: the certified declarations with their certificate numbers, in the order the
    certificates were numbered (a revoked certificate is left out)."""
    campaign = await campaign_for(services, actor, campaign_id, action="announcement")

    def load(session: Any) -> list[dict[str, Any]]:
        out = []
        for cert in certificates_of(session, campaign_id):
            view = get_view(session, cert.declaration_id)
            out.append(
                {
                    "declaration_id": cert.declaration_id,
                    "certificate_no": cert.certificate_no,
                    "name": view.applicant.name if view else None,
                    "unit_id": (view.unit_id or view.applicant.unit_id) if view else None,
                    "level": cert.level,
                    "series": cert.series,
                    "issued_on": cert.issued_on.isoformat(),
                    "announced_at": cert.announced_at.isoformat(),
                    "check": f"/certificates/{cert.certificate_no}",
                }
            )
        return out

    certified = await in_session(services.store, load, readonly=True)
    return {
        "campaign_id": campaign_id,
        "campaign_name": campaign.name,
        "generated_at": (await services.clock()).isoformat(),
        "count": len(certified),
        "certified": certified,
    }


@router.get("/{campaign_id}/report")
async def campaign_report(
    campaign_id: str, actor: Reporter, services: ServicesDep
) -> dict[str, Any]:
    """Declarations per state and per route (docs/rules.md §12: every route the campaign opens has
    its row, empty or not), and returns per reason code, per unit (of the declaration) and per
    stage (§10.4); a return without a code counts as ``uncoded``, one by an upheld objection as
    ``objection_upheld``."""
    campaign = await campaign_for(services, actor, campaign_id, action="campaign_report")

    def load(session: Any) -> dict[str, Any]:
        states = states_of(session, campaign_id)
        filed = routes_of(session, campaign_id)
        empty: dict[str, Any] = {"declarations": 0, "states": {}}
        return {
            "declarations": sum(states.values()),
            "states": states,
            "routes": {r: filed.get(r, empty) for r in sorted({*campaign.routes, *filed})},
            "returns": count_returns(return_events(session, campaign_id)),
        }

    return {"campaign_id": campaign_id, **await in_session(services.store, load, readonly=True)}
