"""The side effects a declaration's chain asks for, carried out as activities (workflow code:
deterministic, run inside the workflow sandbox). Their results go back to the chain, so a
deadline computed here enters the history once and is never computed again on replay."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.announcement import AnnouncementActivities
    from activities.blacklist import BlacklistActivities
    from activities.deadlines import DeadlineActivities
    from activities.messages import (
        AnnouncementRequest,
        BlacklistRequest,
        DeadlineRequest,
        PublicityCloseRequest,
        PublicityRequest,
        ReviewFormRequest,
        RevocationRequest,
    )
    from activities.publicity import PublicityActivities
    from activities.retry import local, remote
    from activities.review_form import ReviewFormActivities
    from domain.chain import Chain, Effect, timers
    from domain.models import AtRiskTable

__all__ = ["CLOSE_INTERRUPTED_PUBLICITY", "run_effect"]

#: Patch (docs/reliability.md: changing workflow code): a publicity cut short by a withdrawal,
#: misconduct or the declaration deadline is closed in the store (outcome ``interrupted``);
#: before this patch it stayed open.
CLOSE_INTERRUPTED_PUBLICITY = "close-interrupted-publicity"


async def run_effect(chain: Chain, effect: Effect) -> None:
    """Carry out one effect and hand its result to the chain."""
    s = chain.s
    now = workflow.now()
    if effect.kind == "open_publicity":
        assert effect.publicity is not None and effect.start is not None
        opened = await workflow.execute_activity_method(
            PublicityActivities.open_publicity,
            PublicityRequest(
                declaration_id=s.declaration_id,
                campaign=s.campaign,
                kind=effect.publicity,
                start=effect.start,
            ),
            **remote(PublicityActivities.open_publicity),
        )
        chain.on_deadline("publicity_ends", opened.deadline, workflow.now())
    elif effect.kind == "close_publicity":
        assert effect.publicity is not None
        if effect.interrupted and not workflow.patched(CLOSE_INTERRUPTED_PUBLICITY):
            return  # replaying a history from before the patch: it left the publicity open
        await workflow.execute_activity_method(
            PublicityActivities.close_publicity,
            PublicityCloseRequest(
                declaration_id=s.declaration_id,
                kind=effect.publicity,
                closed_at=effect.start or now,
                outcome="completed" if s.publicity_over else "interrupted",
            ),
            **remote(PublicityActivities.close_publicity),
        )
    elif effect.kind == "compute_correction":
        await _compute_correction(chain)
    elif effect.kind == "compute_at_risk":
        await _compute_at_risk(chain)
    elif effect.kind == "compute_acceptance":
        await _compute_acceptance(chain)
    elif effect.kind == "issue_review_form":
        form = await workflow.execute_activity_method(
            ReviewFormActivities.issue_review_form,
            ReviewFormRequest(
                declaration_id=s.declaration_id,
                campaign_id=s.campaign.id,
                level=s.declaration.level,
                issued_at=now,
            ),
            **remote(ReviewFormActivities.issue_review_form),
        )
        chain.on_review_form(form, workflow.now())
    elif effect.kind == "announce":
        announcement = await workflow.execute_activity_method(
            AnnouncementActivities.announce_result,
            announcement_request(chain, now),
            **remote(AnnouncementActivities.announce_result),
        )
        chain.on_announced(announcement, workflow.now())
    elif effect.kind == "blacklist":
        await workflow.execute_activity_method(
            BlacklistActivities.record_blacklist,
            BlacklistRequest(
                declaration_id=s.declaration_id,
                campaign=s.campaign,
                series=s.declaration.series,
                level=s.declaration.level,
                id_number=s.declaration.applicant.id_number,
                unit_id=s.declaration.unit_id,
                unit_at_fault=effect.unit_at_fault,
                finding=effect.finding,
                found_at=effect.found_at or now,
            ),
            **remote(BlacklistActivities.record_blacklist),
        )
    elif effect.kind == "revoke_certificate" and s.result is not None:
        await workflow.execute_activity_method(
            AnnouncementActivities.revoke_certificate,
            RevocationRequest(
                declaration_id=s.declaration_id,
                certificate_no=s.result.certificate_no,
                revoked_at=effect.found_at or now,
            ),
            **remote(AnnouncementActivities.revoke_certificate),
        )


async def _compute_correction(chain: Chain) -> None:
    s = chain.s
    if s.returned_at is None:
        return
    computed = await workflow.execute_local_activity_method(
        DeadlineActivities.compute_deadline,
        DeadlineRequest(
            declaration_id=s.declaration_id,
            kind="correction",
            start=s.returned_at,
            campaign=s.campaign.model_copy(
                update={"review_closes_at": s.deadlines.review_closes_at}
            ),
        ),
        **local(DeadlineActivities.compute_deadline),
    )
    chain.on_deadline("correction", computed, workflow.now())


async def _compute_at_risk(chain: Chain) -> None:
    until = chain.active_declaration_deadline()
    if until is not None:
        table = await _at_risk_table(chain, until, chain.max_working_days_needed())
        chain.on_at_risk_table(table, workflow.now())


async def _compute_acceptance(chain: Chain) -> None:
    """docs/rules.md §2.6: from when fewer than 1 (refused) and 3 (at risk) full working days
    remain before the fee or materials deadline, for formal acceptance."""
    until = timers.acceptance_deadline(chain)
    if until is not None:
        table = await _at_risk_table(chain, until, timers.ACCEPTANCE_AT_RISK_DAYS)
        chain.on_acceptance_table(table, workflow.now())


async def _at_risk_table(chain: Chain, until: datetime, days: int) -> AtRiskTable:
    """From when fewer than 1..``days`` full working days remain before ``until``."""
    return await workflow.execute_local_activity_method(
        DeadlineActivities.compute_at_risk_table,
        DeadlineRequest(
            declaration_id=chain.s.declaration_id,
            kind="at_risk_from",
            start=workflow.now(),
            campaign=chain.s.campaign,
            working_days_needed=days,
            until=until,
        ),
        **local(DeadlineActivities.compute_at_risk_table),
    )


def announcement_request(chain: Chain, now: datetime) -> AnnouncementRequest:
    """What the certificate states (docs/rules.md §2.10): the series and specialty the declaration
    applied for, and, where the route is 定向评价 (``scoped``), that its scope is to be printed.

    The request's fields are the activity's input only; the commands the workflow issues are the
    same as before they were added, so histories recorded earlier replay unchanged."""
    s = chain.s
    d = s.declaration
    policy = s.campaign.routes.get(d.route)
    return AnnouncementRequest(
        declaration_id=s.declaration_id,
        campaign_id=s.campaign.id,
        series=d.series_in(s.campaign),
        level=d.level,
        applicant_name=d.applicant.name,
        announced_at=now,
        specialty=d.specialty,
        scoped=policy is not None and policy.scoped,
        committee_org=s.campaign.committee_org,
        region=d.region.name if d.region is not None else None,
    )
