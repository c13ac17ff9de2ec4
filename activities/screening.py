"""Screening a declaration against what only the store knows (docs/rules.md §2.1, §2 end; 001):
blacklists, the person's other live declarations, and the uploaded materials the campaign's
catalogue requires (docs/rules.md §19; 001 四(一)1 "因漏传、错传、未传导致的后果，由申报人承担")."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity

from activities.messages import ScreeningRequest, UnitBarRequest
from activities.support import log, run_blocking
from domain.blacklist import bar_refusal
from domain.calendar import BEIJING
from domain.materials import applicable, missing_refusal
from domain.models import ScreeningResult
from store import registry
from store.db import Store
from store.materials.records import missing_materials


def duplicate_refusal(year: int, series: str, level: str, rival: str, state: str) -> str:
    return (
        f"申报人在 {year} 年度已有同系列、同级别的有效申报 {rival}（{state}），同一年度只能选择"
        f"一种途径申报 (001) / the applicant already has a live declaration {rival} for "
        f"{series} {level} in {year}"
    )


class ScreeningActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="screen_applicant")
    async def screen_applicant(self, request: ScreeningRequest) -> ScreeningResult:
        """Register the declaration (once), then refuse when the person is barred from this
        title at ``at``, has a live declaration registered earlier in the same campaign year,
        series and level (any route, any campaign of that year), or lacks a required material
        of the campaign's catalogue (under blind review: its masked copy). ``unit_barred_until``
        is the end of the unit's bar from recommending, if any."""
        return await run_blocking(self._screen, request, declaration_id=request.declaration_id)

    def _screen(self, request: ScreeningRequest) -> ScreeningResult:
        campaign, declaration = request.campaign, request.declaration
        id_number = declaration.applicant.id_number
        title = (campaign.year, declaration.series_in(campaign), declaration.level)
        with self._store.session() as session:
            registry.person_lock(session, *title, id_number)
            known = registry.person_registrations(session, *title, id_number)
            me = registry.register(
                session,
                declaration_id=request.declaration_id,
                campaign=campaign,
                declaration=declaration,
                at=request.at,
                known=known,
            )
            applicant, unit = ("applicant", id_number), ("unit", declaration.unit_id)
            bars = registry.bars_at(session, [applicant, unit], request.at)
            refusal = None
            bar = registry.applicant_bar_at(
                session, id_number, title[1], declaration.level, request.at, bars[applicant]
            )
            if bar is not None:
                refusal = bar_refusal(bar)
            else:
                rivals = registry.live_rivals(session, me, among=known)
                if rivals:
                    refusal = duplicate_refusal(
                        campaign.year,
                        title[1],
                        declaration.level,
                        rivals[0].declaration_id,
                        rivals[0].state,
                    )
            if refusal is None:
                refusal = _missing_materials(session, request)
            unit_bar = registry.unit_bar_at(session, declaration.unit_id, request.at, bars[unit])
        until = unit_bar.until.astimezone(BEIJING) if unit_bar is not None else None
        log.info("applicant.screened", refused=refusal is not None, unit_barred_until=until)
        return ScreeningResult(refusal=refusal, unit_barred_until=until)

    @activity.defn(name="check_unit_bar")
    async def check_unit_bar(self, request: UnitBarRequest) -> ScreeningResult:
        """docs/rules.md §2 (end): the unit's bar from recommending, read when the unit decides
        (its approvals at ``unit_review`` and ``unit_recommendation``); read-only."""
        return await run_blocking(self._unit_bar, request, declaration_id=request.declaration_id)

    def _unit_bar(self, request: UnitBarRequest) -> ScreeningResult:
        with self._store.session(readonly=True) as session:
            bar = registry.unit_bar_at(session, request.unit_id, request.at)
        if bar is None:
            return ScreeningResult()
        log.info("unit.barred", unit_id=request.unit_id, until=bar.until.isoformat())
        return ScreeningResult(
            refusal=bar_refusal(bar), unit_barred_until=bar.until.astimezone(BEIJING)
        )


def _missing_materials(session: Session, request: ScreeningRequest) -> str | None:
    """Why the submission is refused for its materials: a required kind the applicant uploads
    has no current file (docs/rules.md §19)."""
    campaign, declaration = request.campaign, request.declaration
    if not campaign.materials_catalogue:
        return None
    blind = campaign.blind_review
    missing = missing_materials(
        session, request.declaration_id, campaign, declaration.level, declaration.route, blind
    )
    if not missing:
        return None
    kinds = applicable(campaign, declaration.level, declaration.route)
    return missing_refusal(missing, kinds, blind=blind)
