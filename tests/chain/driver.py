"""Drives the pure chain the way the workflow does, with the effects carried out in-process
(the same domain functions the activities call), so every path runs in milliseconds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.calendar import WorkCalendar
from domain.chain import Chain, Effect, Prepared, Step, timers
from domain.commands import BY_MODEL
from domain.models import (
    Announcement,
    AtRiskTable,
    Command,
    DeclarationInput,
    ReviewForm,
    ScreeningResult,
)
from domain.periods import at_risk_from, correction_deadline, publicity_end
from domain.states import StateName
from testing import factories as f


class Driver:
    def __init__(
        self,
        now: datetime,
        decl: DeclarationInput | None = None,
        screening: ScreeningResult | None = None,
        **campaign: Any,
    ) -> None:
        self.now = now
        self.campaign = f.campaign(now, **campaign)
        self.decl = decl or f.declaration(self.campaign)
        self.chain = Chain.start(f.start(self.campaign, self.decl, now))
        self.cal = WorkCalendar()
        self.screening = screening or ScreeningResult()
        self.effects_seen: list[Effect] = []
        self.audit: list[Any] = []
        self.notifications: list[Any] = []
        self.settle()

    @property
    def state(self) -> StateName:
        return self.chain.s.state

    def refusal(self, cmd: Command) -> str | None:
        """Why the chain refuses ``cmd`` now (its message), or None."""
        refusal = self.chain.refusal(BY_MODEL[type(cmd)], cmd, self.now)
        return refusal.message if refusal else None

    def do(self, cmd: Command) -> Step:
        """Apply ``cmd`` as the workflow does: its table entry's check, then its transition."""
        spec = BY_MODEL[type(cmd)]
        refusal = self.chain.refusal(spec, cmd, self.now)
        assert refusal is None, refusal
        screening = self.screening if spec.prepare == "screen_applicant" else None
        step = self.chain.apply(spec, cmd, self.now, Prepared(screening=screening))
        self.settle()
        return step

    def refuse(self, cmd: Command) -> str:
        """Attempt a command that must be refused; the refusal is audited as the workflow does."""
        spec = BY_MODEL[type(cmd)]
        refusal = self.chain.refusal(spec, cmd, self.now)
        assert refusal is not None, f"{spec.name} was not refused"
        self.chain.refused(cmd.actor, spec.name, refusal, self.now)
        self.settle()
        return refusal.message

    def settle(self) -> None:
        while effects := self.chain.take_effects():
            for effect in effects:
                self.effects_seen.append(effect)
                self._run(effect)
        events, notifications, _ = self.chain.drain()
        self.audit.extend(events)
        self.notifications.extend(notifications)

    def _run(self, effect: Effect) -> None:
        s, now = self.chain.s, self.now
        if effect.kind == "open_publicity":
            assert effect.publicity and effect.start
            deadline = publicity_end(effect.publicity, effect.start, s.campaign, self.cal)
            self.chain.on_deadline("publicity_ends", deadline, now)
        elif effect.kind == "compute_correction":
            assert s.returned_at is not None
            c = s.campaign.model_copy(update={"review_closes_at": s.deadlines.review_closes_at})
            self.chain.on_deadline(
                "correction", correction_deadline(s.returned_at, c, self.cal), now
            )
        elif effect.kind == "compute_at_risk":
            until = self.chain.active_declaration_deadline()
            if until is None:
                return
            instants = {
                n: instant
                for n in range(1, self.chain.max_working_days_needed() + 1)
                if (instant := at_risk_from(until, n, self.cal)) is not None
            }
            self.chain.on_at_risk_table(AtRiskTable(until=until, instants=instants), now)
        elif effect.kind == "compute_acceptance":
            ends = timers.acceptance_deadline(self.chain)
            assert ends is not None
            limits = {
                n: instant
                for n in range(1, timers.ACCEPTANCE_AT_RISK_DAYS + 1)
                if (instant := at_risk_from(ends, n, self.cal)) is not None
            }
            self.chain.on_acceptance_table(AtRiskTable(until=ends, instants=limits), now)
        elif effect.kind == "issue_review_form":
            self.chain.on_review_form(ReviewForm(form_id="RF-1", watermark_id="WM-1"), now)
        elif effect.kind == "announce":
            self.chain.on_announced(Announcement(certificate_no="C-1", announced_at=now), now)

    def advance_to(self, when: datetime) -> None:
        """Let time pass to ``when``, firing every timer on the way, as the workflow does."""
        while (nxt := self.chain.next_timer()) is not None and nxt[1] <= when:
            self.now = max(self.now, nxt[1])
            self.chain.expire(nxt[0], self.now)
            self.settle()
        self.now = max(self.now, when)

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self.now + delta)

    def actions(self) -> list[str]:
        return [e.action for e in self.audit]
