"""``Chain``: one declaration's state machine (docs/rules.md §2-§3).

For every command the chain answers two questions: may it be applied now (:meth:`Chain.refusal`,
which checks what every command shares and then asks the command's own rule), and what happens
when it is (:meth:`Chain.apply`). Applying mutates the state synchronously, records the audit
events, and returns; the side effects the workflow must carry out (publicity, review form,
announcement …) are collected as :class:`~domain.chain.state.Effect` and their results come back
through the ``on_*`` methods. Timers are the same: the workflow asks :meth:`next_timer` which
deadline to sleep on and calls :meth:`expire` when it passes.

Which code answers which command is the command table, :mod:`domain.commands`. Nothing here
imports Temporal, a database or the network.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from domain import defense as defense_rules
from domain import eligibility, fees
from domain.chain import changes, committee, notifications, timers, view
from domain.chain.state import ChainState, CurrentRules, Effect, Prepared, Refusal, Rules, Step
from domain.models import (
    Actor,
    Announcement,
    AtRiskTable,
    AuditEventIn,
    CampaignDeadlines,
    ComputedDeadline,
    DeclarationStart,
    DeclarationView,
    DefenseView,
    Notification,
    RefusalRecord,
    Reopening,
    ReviewForm,
)
from domain.organisations import campaign_scope_refusal
from domain.routes import PATHS
from domain.states import FINAL, StateName, label

if TYPE_CHECKING:
    from domain.commands import CommandSpec

__all__ = ["Chain"]

S = StateName


class Chain:
    """One declaration's chain. Methods take ``now`` from the caller (``workflow.now()``)."""

    def __init__(self, state: ChainState, rules: Rules | None = None) -> None:
        self.s = state
        #: Which rule changes apply (the workflow answers with ``workflow.patched``).
        self.rules: Rules = rules or CurrentRules()
        self._events: list[AuditEventIn] = []
        self._notifications: list[Notification] = []
        self._cancel: list[str] = []
        self._effects: list[Effect] = []

    # ------------------------------------------------------------------ construction

    @classmethod
    def start(cls, start: DeclarationStart) -> Chain:
        if start.carried is not None:
            return cls(ChainState.model_validate(start.carried))
        campaign, decl = start.campaign, start.declaration
        plan = defense_rules.plan_defense(
            campaign, start.declaration_id, decl.level, decl.applicant, region=decl.region
        )
        if not PATHS[decl.route].defense_and_vote:
            plan = defense_rules.DefensePlan(
                required=False, reason=f"route {decl.route}: no defense (docs/rules.md §12)"
            )
        state = ChainState(
            declaration_id=start.declaration_id,
            campaign=campaign,
            declaration=decl,
            filed_by=start.filed_by,
            created_at=start.created_at,
            deadlines=CampaignDeadlines.of(campaign),
            fee_due=fees.fee_due(campaign, decl.level, decl.route),
            materials_required=campaign.paper_materials_required,
            defense=DefenseView(required=plan.required, exemption=plan.exemption, drawn=plan.drawn),
            flags=eligibility.eligibility_flags(
                campaign, decl.level, decl.route, decl.applicant, decl.service_years
            ),
        )
        chain = cls(state)
        timers.refresh_at_risk(chain, start.created_at)
        chain.record(
            start.filed_by,
            "created",
            None,
            S.draft,
            start.created_at,
            detail={
                "level": decl.level,
                "route": decl.route,
                "unit_id": decl.unit_id,
                "authority_chain": decl.authority_chain,
                "flags": state.flags,
                "defense": plan.model_dump(mode="json"),
                "fee_due": state.fee_due,
                "materials": [m.model_dump() for m in decl.materials],
            },
        )
        return chain

    # ------------------------------------------------------------------ commands

    def refusal(self, spec: CommandSpec[Any], cmd: Any, now: datetime) -> Refusal | None:
        """Why ``cmd`` cannot be applied now, in words a reviewer understands; None if it can.
        What every command shares is checked here: the declaration has ended, a certified one
        only takes a misconduct finding, the sender's role is one the table admits."""
        if self.s.state in FINAL:
            return Refusal(
                "ended",
                f"该申报已结束（{label(self.s.state)}），不能再操作 / the declaration has ended",
            )
        if self.s.state == S.certified and not spec.after_certification:
            return Refusal(
                "certified",
                "该申报已发证，只能因弄虚作假撤销 / certified: only misconduct can revoke it",
            )
        if cmd.actor.role not in spec.roles:
            return Refusal(
                "role",
                f"角色 {cmd.actor.role} 不能执行「{spec.label}」/ role {cmd.actor.role} may not "
                f"send {spec.name}",
            )
        scope = self._scope_refusal(cmd.actor)
        if scope is not None:
            return scope
        refusal: Refusal | None = spec.refuse(self, cmd, now)
        return refusal

    def _scope_refusal(self, actor: Actor) -> Refusal | None:
        """docs/rules.md §11: committee staff act for their committee's campaigns, finance for
        the campaigns that name their office (campaigns made before the registry name neither)."""
        c = self.s.campaign
        found = campaign_scope_refusal(actor.role, actor.org, c.committee_org, c.fee_offices())
        return Refusal(*found) if found else None

    def apply(self, spec: CommandSpec[Any], cmd: Any, now: datetime, prepared: Prepared) -> Step:
        """Apply a command that :meth:`refusal` admitted."""
        step: Step = spec.apply(self, cmd, now, prepared)
        return step

    def refused(
        self, actor: Actor, action: str, refusal: Refusal, now: datetime, **detail: Any
    ) -> None:
        """Record a refused attempt (docs/rules.md §8: every refused decision is an audit event);
        its reason is the refusal's code, as the API's problem answers it: ``<action>.<code>``."""
        st = self.s.state.value
        self.record(
            actor,
            action,
            st,
            st,
            now,
            outcome="refused",
            opinion=refusal.message,
            reasons=[f"{action}.{refusal.code}"],
            detail=detail,
        )

    def record_refusal(self, rec: RefusalRecord, now: datetime) -> None:
        """A refusal the caller saw (an update its validator refused), reported back."""
        st = self.s.state.value
        reasons = [rec.code] if rec.code else []
        self.record(
            rec.actor,
            rec.action,
            st,
            st,
            now,
            outcome="refused",
            opinion=rec.reason,
            reasons=reasons,
            detail=rec.detail,
        )

    # ------------------------------------------------------------------ view and timers

    @property
    def authority_chain(self) -> list[str]:
        return self.s.declaration.authority_chain

    def view(self) -> DeclarationView:
        return view.build(self)

    def next_timer(self) -> tuple[str, datetime] | None:
        return timers.next_timer(self)

    def expire(self, kind: str, now: datetime) -> Step:
        """A deadline passed: the workflow enforces it itself (docs/rules.md §3)."""
        return timers.expire(self, kind, now)

    def active_declaration_deadline(self) -> datetime | None:
        return timers.active_declaration_deadline(self)

    def max_working_days_needed(self) -> int:
        return timers.max_working_days_needed(self)

    # ------------------------------------------------------------------ effect results

    def on_deadline(self, kind: str, computed: ComputedDeadline, now: datetime) -> None:
        timers.on_deadline(self, kind, computed, now)

    def on_at_risk_table(self, table: AtRiskTable, now: datetime) -> None:
        timers.on_at_risk_table(self, table, now)

    def on_acceptance_table(self, table: AtRiskTable, now: datetime) -> None:
        timers.on_acceptance_table(self, table, now)

    def reopen(self, reopening: Reopening, now: datetime) -> None:
        changes.reopen(self, reopening, now)

    def on_review_form(self, form: ReviewForm, now: datetime) -> None:
        committee.review_form_issued(self, form, now)

    def on_announced(self, announcement: Announcement, now: datetime) -> None:
        committee.announced(self, announcement, now)

    # ------------------------------------------------------------------ recording

    def record(
        self,
        actor: Actor,
        action: str,
        before: str | None,
        after: str | None,
        now: datetime,
        *,
        outcome: Literal["accepted", "refused"] = "accepted",
        opinion: str = "",
        reasons: list[str] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one audit event (it is written when the workflow drains the chain)."""
        self.s.seq += 1
        self.s.last_event_at = now
        self._events.append(
            AuditEventIn(
                declaration_id=self.s.declaration_id,
                campaign_id=self.s.campaign.id,
                seq=self.s.seq,
                at=now,
                actor_id=actor.id,
                actor_role=actor.role,
                actor_org=actor.org,
                action=action,
                stage_before=before,
                stage_after=after,
                outcome=outcome,
                opinion=opinion,
                reasons=list(reasons or []),
                detail=detail or {},
            )
        )

    def move(
        self,
        actor: Actor,
        action: str,
        to: StateName,
        now: datetime,
        *,
        opinion: str = "",
        reasons: list[str] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Move to ``to``, record it, re-evaluate the at-risk warning and tell whoever must act."""
        before = self.s.state
        self.s.state = to
        if to not in (S.unit_publicity, S.result_publicity):
            self.s.computed.pop("publicity_ends", None)
        if to != S.returned:
            self.s.computed.pop("correction", None)
        self.record(
            actor,
            action,
            before.value,
            to.value,
            now,
            opinion=opinion,
            reasons=reasons,
            detail=detail,
        )
        timers.refresh_at_risk(self, now)
        notifications.notify_transition(self, now)

    def notify(self, notification: Notification) -> None:
        self._notifications.append(notification)

    def cancel_reminders(self, group: str) -> None:
        self._cancel.append(group)

    def effect(self, effect: Effect) -> None:
        if effect not in self._effects:
            self._effects.append(effect)

    def effects(self, effects: list[Effect]) -> None:
        for effect in effects:
            self.effect(effect)

    def take_effects(self) -> list[Effect]:
        """Hand over the side effects the last transitions asked for, in order."""
        out, self._effects = self._effects, []
        return out

    def shift_seq(self, shift: int) -> None:
        """The store put the last batch ``shift`` places further on (after events a workflow
        task that never completed had written, ``store.audit_tail``): count on from there, and
        move the events and notification keys not recorded yet as far."""
        if not shift:
            return
        self.s.seq += shift
        self._events = [e.model_copy(update={"seq": e.seq + shift}) for e in self._events]
        prefix = f"{self.s.declaration_id}:"
        moved = []
        for n in self._notifications:
            seq, _, tail = n.key.removeprefix(prefix).partition(":")
            if n.key.startswith(prefix) and seq.isdigit():
                n = n.model_copy(update={"key": f"{prefix}{int(seq) + shift}:{tail}"})
            moved.append(n)
        self._notifications = moved

    def drain(self) -> tuple[list[AuditEventIn], list[Notification], list[str]]:
        """Hand over the events and notifications produced since the last drain."""
        out = (self._events, self._notifications, self._cancel)
        self._events, self._notifications, self._cancel = [], [], []
        return out
