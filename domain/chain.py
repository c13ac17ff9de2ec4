"""The review chain as a pure state machine (domain.md §2-§3).

``Chain`` holds one declaration's state and answers two questions for every command: may it be
applied now (``refusal``), and what happens when it is (``apply_*``). Applying mutates the state
synchronously and returns the side effects the workflow must carry out (publicity, review form,
announcement …); their results come back through ``on_*`` methods. Timers are the same: the
workflow asks ``next_timer`` which deadline to sleep on and calls ``expire`` when it passes.

Nothing here imports Temporal, a database or the network, so every transition is unit-testable,
and the workflow stays a thin shell that sequences effects and records history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from domain import defense as defense_rules
from domain import eligibility, fees, submissions, vote
from domain.deadline_changes import effective_deadlines
from domain.models import (
    SYSTEM,
    Actor,
    Announcement,
    ApplicantView,
    AtRiskTable,
    AuditEventIn,
    CalendarChangedCommand,
    Campaign,
    CampaignDeadlines,
    ComputedDeadline,
    DeadlineChangeCommand,
    Deadlines,
    DecisionCommand,
    DeclarationInput,
    DeclarationStart,
    DeclarationView,
    DefenseCommand,
    DefenseView,
    FeeView,
    MaterialsReceivedCommand,
    MaterialsView,
    MisconductCommand,
    Model,
    Notification,
    ObjectionCommand,
    ObjectionResolutionCommand,
    ObjectionView,
    PaymentCommand,
    PendingAction,
    RefusalRecord,
    ResultConfirmationCommand,
    ResultView,
    ReviewForm,
    ScreeningResult,
    SubmitCommand,
    VoteCommand,
    VoteRecord,
    WithdrawCommand,
    as_of,
)
from domain.periods import working_days_needed
from domain.states import BEFORE_COMMITTEE, FINAL, PENDING, TERMINAL, StateName, label

S = StateName

#: Continue-as-new once the history holds this many events (Temporal's own hint comes later).
HISTORY_EVENT_BUDGET = 250

REMINDER_LEAD = timedelta(hours=24)


def explain(computed: ComputedDeadline) -> str:
    """One line an auditor can defend a date with: result, rule source, calendar used (§10.1)."""
    e = computed.explanation
    return f"{e.text} [{e.source}; calendar {e.calendar_version}]"


EffectKind = Literal[
    "open_publicity",
    "close_publicity",
    "compute_correction",
    "compute_at_risk",
    "issue_review_form",
    "announce",
    "blacklist",
    "revoke_certificate",
]


class Effect(Model):
    """A side effect the workflow carries out after a transition, as an activity."""

    kind: EffectKind
    publicity: Literal["unit_publicity", "result_publicity"] | None = None
    start: AwareDatetime | None = None
    finding: str = ""
    unit_at_fault: bool = False
    found_at: AwareDatetime | None = None
    #: ``close_publicity`` of a publicity cut short by a withdrawal, misconduct or the
    #: declaration deadline (the workflow carries it out under a ``workflow.patched`` guard).
    interrupted: bool = False


class ChainState(Model):
    """Everything the workflow remembers; carried whole across continue-as-new."""

    declaration_id: str
    campaign: Campaign
    declaration: DeclarationInput
    filed_by: Actor
    created_at: AwareDatetime
    state: StateName = S.draft
    deadlines: CampaignDeadlines
    authority_index: int = 0
    returned_from: str | None = None
    returned_index: int | None = None
    returned_at: AwareDatetime | None = None
    committee_submissions: int = 0
    applicant_submissions: int = 0
    reached_committee: bool = False
    computed: dict[str, ComputedDeadline] = Field(default_factory=dict)
    publicity_started_at: AwareDatetime | None = None
    publicity_over: bool = False
    fee_due: int
    fee_paid: bool = False
    receipt_no: str | None = None
    fee_late: bool = False
    materials_required: bool
    form_id: str | None = None
    watermark_id: str | None = None
    materials_received: bool = False
    materials_late: bool = False
    defense: DefenseView
    vote: VoteRecord | None = None
    objections: list[ObjectionView] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    unit_barred_until: AwareDatetime | None = None
    result: ResultView | None = None
    at_risk: bool = False
    recommendation_ref: str | None = None
    at_risk_table: AtRiskTable | None = None
    #: Set when a calendar change asked for a new at-risk table: the recomputed at-risk instant
    #: is then explained in the audit trail (§7, §10.1) even when the flag itself does not flip.
    explain_at_risk: bool = False
    seq: int = 0
    last_event_at: AwareDatetime | None = None


class Step(Model):
    """What one applied command answers beyond the view (e.g. a new objection's id)."""

    result: dict[str, Any] = Field(default_factory=dict)


class Chain:
    """One declaration's chain. Methods take ``now`` from the caller (``workflow.now()``)."""

    def __init__(self, state: ChainState) -> None:
        self.s = state
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
            campaign, start.declaration_id, decl.level, decl.applicant
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
            defense=DefenseView(
                required=plan.required,
                exemption=plan.exemption,
                drawn=plan.drawn,
            ),
            flags=eligibility.eligibility_flags(campaign, decl.level, decl.route, decl.applicant),
        )
        chain = cls(state)
        chain._refresh_at_risk(start.created_at)
        chain._event(
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

    # ------------------------------------------------------------------ view

    @property
    def authority_chain(self) -> list[str]:
        return self.s.declaration.authority_chain

    def pending_org(self) -> str:
        st = self.s.state
        if st in (S.unit_review, S.unit_publicity, S.unit_recommendation):
            return self.s.declaration.unit_id
        if st == S.authority_review:
            return self.authority_chain[self.s.authority_index]
        if st in (S.draft, S.returned):
            return self.s.filed_by.org
        if st == S.fee_pending:
            return ""
        return ""

    def due_at(self) -> datetime | None:
        st, c = self.s.state, self.s.computed
        if st == S.returned:
            correction = c.get("correction")
            declaration = self.active_declaration_deadline()
            candidates = [d for d in (correction.at if correction else None, declaration) if d]
            return min(candidates) if candidates else None
        if st in (S.unit_publicity, S.result_publicity):
            pub = c.get("publicity_ends")
            return pub.at if pub else None
        if st == S.fee_pending:
            return self.s.deadlines.fee_deadline if not self.s.fee_late else None
        if st == S.materials_pending:
            return self.s.deadlines.materials_deadline if not self.s.materials_late else None
        return self.active_declaration_deadline()

    def view(self) -> DeclarationView:
        s, d = self.s, self.s.declaration
        pending = None
        if s.state in PENDING:
            role, action = PENDING[s.state]
            pending = PendingAction(
                role=role,
                org=self.pending_org(),
                action=action,
                due_at=self.due_at(),
            )
        correction = s.computed.get("correction") if s.state == S.returned else None
        publicity = (
            s.computed.get("publicity_ends")
            if s.state in (S.unit_publicity, S.result_publicity)
            else None
        )
        explanations = {"declaration": self._declaration_explanation()}
        provisional = []
        at_risk = s.computed.get("at_risk_from") if s.state in BEFORE_COMMITTEE else None
        if at_risk is not None and at_risk.explanation.provisional:
            provisional.append("at_risk_from")
        for key, computed in (("correction", correction), ("publicity_ends", publicity)):
            if computed is not None:
                explanations[key] = explain(computed)
                if computed.explanation.provisional:
                    provisional.append(key)
        if s.deadlines.fee_deadline:
            explanations["fee"] = "campaign fee_deadline (缴费截止时间)"
        if s.deadlines.materials_deadline:
            explanations["materials"] = "campaign materials_deadline (材料报送时间)"
        return DeclarationView(
            id=s.declaration_id,
            campaign_id=s.campaign.id,
            level=d.level,
            route=d.route,
            series=s.campaign.series,
            state=s.state.value,
            applicant=ApplicantView(
                name=d.applicant.name,
                id_number=d.applicant.id_number,
                unit_id=d.unit_id,
                affiliation=d.applicant.affiliation,
            ),
            unit_id=d.unit_id,
            authority_chain=list(d.authority_chain),
            authority_index=s.authority_index,
            pending=pending,
            committee_submissions=s.committee_submissions,
            applicant_submissions=s.applicant_submissions,
            returned_from=s.returned_from if s.state == S.returned else None,
            deadlines=Deadlines(
                declaration=s.deadlines.declaration_closes_at,
                correction=correction.at if correction else None,
                publicity_ends=publicity.at if publicity else None,
                fee=s.deadlines.fee_deadline,
                materials=s.deadlines.materials_deadline,
            ),
            deadline_explanations=explanations,
            provisional_deadlines=provisional,
            fee=FeeView(due=s.fee_due, paid=s.fee_paid, receipt_no=s.receipt_no, late=s.fee_late),
            materials=MaterialsView(
                required=s.materials_required,
                form_id=s.form_id,
                received=s.materials_received,
                late=s.materials_late,
            ),
            defense=s.defense,
            vote=s.vote,
            objections=list(s.objections),
            flags=list(s.flags),
            at_risk=s.at_risk,
            at_risk_from=s.computed["at_risk_from"].at if "at_risk_from" in s.computed else None,
            masked_items=list(d.masked_items),
            result=s.result,
            version=s.seq,
            updated_at=s.last_event_at,
        )

    def _declaration_explanation(self) -> str:
        c = self.s.campaign
        text = (
            f"申报截止 {as_of(self.s.deadlines.declaration_closes_at)}：截止时未提交至评审委员会"
            "进行第一次审核的视为放弃，退回后超过申报时限的不予受理 (001 一(一), 四(一)1) / "
            "campaign declaration_closes_at"
        )
        if self.s.deadlines.declaration_closes_at != c.declaration_closes_at:
            text += f"; moved from {as_of(c.declaration_closes_at)} by a deadline change (延期)"
        return text

    # ------------------------------------------------------------------ audit buffer

    def _event(
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

    def _effect(self, effect: Effect) -> None:
        if effect not in self._effects:
            self._effects.append(effect)

    def _effects_extend(self, effects: list[Effect]) -> None:
        for effect in effects:
            self._effect(effect)

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

    def refused(self, actor: Actor, action: str, reason: str, now: datetime, **detail: Any) -> None:
        """Record a refused attempt (§8: every refused decision is an audit event)."""
        st = self.s.state.value
        self._event(actor, action, st, st, now, outcome="refused", opinion=reason, detail=detail)

    def record_refusal(self, rec: RefusalRecord, now: datetime) -> None:
        self.refused(rec.actor, rec.action, rec.reason, now, **rec.detail)

    def _move(
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
        before = self.s.state
        self.s.state = to
        if to not in (S.unit_publicity, S.result_publicity):
            self.s.computed.pop("publicity_ends", None)
        if to != S.returned:
            self.s.computed.pop("correction", None)
        self._event(
            actor, action, before.value, to.value, now,
            opinion=opinion, reasons=reasons, detail=detail,
        )  # fmt: skip
        self._refresh_at_risk(now)
        self._notify_transition(now)

    # ------------------------------------------------------------------ notifications

    def _notify_transition(self, now: datetime) -> None:
        """Tell whoever must act now, remind them 24 h before the due time, and tell the
        applicant of every outcome. Keys derive from the sequence number: a retry is a no-op."""
        s = self.s
        group = f"{s.declaration_id}:reminder"
        self._cancel.append(group)
        key = f"{s.declaration_id}:{s.seq}"
        if s.state in PENDING:
            role, action = PENDING[s.state]
            due = self.due_at()
            due_text = f", due {as_of(due)}" if due else ""
            self._notifications.append(
                Notification(
                    key=f"{key}:act",
                    declaration_id=s.declaration_id,
                    recipient_role=role,
                    recipient_org=self.pending_org(),
                    recipient_id=s.filed_by.id if role == "applicant" else "",
                    kind="action_required",
                    text=f"申报 {s.declaration_id} 待处理：{label(s.state)}，{action}{due_text}",
                    send_after=now,
                )
            )
            if due is not None and due - REMINDER_LEAD > now:
                self._notifications.append(
                    Notification(
                        key=f"{key}:reminder:{as_of(due)}",
                        declaration_id=s.declaration_id,
                        recipient_role=role,
                        recipient_org=self.pending_org(),
                        recipient_id=s.filed_by.id if role == "applicant" else "",
                        kind="deadline_reminder",
                        text=f"提醒：申报 {s.declaration_id} 的{label(s.state)}将于 "
                        f"{as_of(due)} 截止 / deadline in 24 hours",
                        send_after=due - REMINDER_LEAD,
                        supersedes=group,
                    )
                )
        if s.state in (S.returned, *TERMINAL):
            self._notifications.append(
                Notification(
                    key=f"{key}:applicant",
                    declaration_id=s.declaration_id,
                    recipient_role="applicant",
                    recipient_org=s.filed_by.org,
                    recipient_id=s.filed_by.id,
                    kind="outcome",
                    text=f"您的申报 {s.declaration_id} 现为：{label(s.state)}",
                    send_after=now,
                )
            )

    # ------------------------------------------------------------------ timers

    def active_declaration_deadline(self) -> datetime | None:
        """§3 declaration deadline: ends a declaration not yet at the committee for the first
        time (004's ``applicant_submit``: only one never submitted)."""
        s = self.s
        if s.campaign.deadline_applies_to == "applicant_submit":
            return s.deadlines.declaration_closes_at if s.state == S.draft else None
        if s.reached_committee or s.state not in BEFORE_COMMITTEE:
            return None
        return s.deadlines.declaration_closes_at

    def timers(self) -> dict[str, datetime]:
        """Every deadline the workflow must sleep on now, by kind."""
        s, out = self.s, {}
        declaration = self.active_declaration_deadline()
        if declaration is not None:
            out["declaration"] = declaration
        if s.state == S.returned and "correction" in s.computed:
            out["correction"] = s.computed["correction"].at
        if (
            s.state in (S.unit_publicity, S.result_publicity)
            and not s.publicity_over
            and "publicity_ends" in s.computed
        ):
            out["publicity_ends"] = s.computed["publicity_ends"].at
        if s.state in (S.fee_pending, S.materials_pending):
            if not s.fee_paid and not s.fee_late and s.deadlines.fee_deadline:
                out["fee"] = s.deadlines.fee_deadline
            if (
                s.materials_required
                and not s.materials_received
                and not s.materials_late
                and s.deadlines.materials_deadline
            ):
                out["materials"] = s.deadlines.materials_deadline
        if not s.at_risk and s.state in BEFORE_COMMITTEE and "at_risk_from" in s.computed:
            out["at_risk_from"] = s.computed["at_risk_from"].at
        return out

    def next_timer(self) -> tuple[str, datetime] | None:
        timers = self.timers()
        if not timers:
            return None
        kind = min(timers, key=lambda k: (timers[k], k))
        return kind, timers[kind]

    def expire(self, kind: str, now: datetime) -> Step:
        """A deadline passed: the workflow enforces it itself (§3), as the system actor."""
        s, step = self.s, Step()
        if kind == "declaration":
            before = s.state
            to = S.not_accepted if before == S.returned else S.abandoned
            self._interrupt_publicity(before, now)
            self._move(
                SYSTEM, "timer.declaration_deadline", to, now,
                detail={"deadline": as_of(s.deadlines.declaration_closes_at),
                        "explanation": self._declaration_explanation(),
                        "rule": "001 一(一) 视为放弃 / 四(一)1 退回后超过申报时限的不予受理"},
            )  # fmt: skip
        elif kind == "correction":
            deadline = s.computed["correction"]
            self._move(
                SYSTEM, "timer.correction_window", S.not_accepted, now,
                detail={"deadline": as_of(deadline.at),
                        "explanation": deadline.explanation.model_dump(mode="json")},
            )  # fmt: skip
        elif kind == "publicity_ends":
            deadline = s.computed["publicity_ends"]
            s.publicity_over = True
            publicity = s.state.value
            self._event(
                SYSTEM, f"timer.{publicity}_ended", publicity, publicity, now,
                detail={"deadline": as_of(deadline.at),
                        "explanation": deadline.explanation.model_dump(mode="json"),
                        "open_objections": self._open_objections()},
            )  # fmt: skip
            self._effect(Effect(kind="close_publicity", publicity=publicity, start=now))
            self._effects_extend(self._after_publicity(now))
        elif kind in ("fee", "materials"):
            policy = s.campaign.late_payment if kind == "fee" else s.campaign.late_materials
            instant = s.deadlines.fee_deadline if kind == "fee" else s.deadlines.materials_deadline
            detail = {"deadline": as_of(instant) if instant else None, "policy": policy}
            if policy == "abandon":
                self._move(SYSTEM, f"timer.{kind}_deadline", S.abandoned, now, detail=detail)
            else:
                if kind == "fee":
                    s.fee_late = True
                else:
                    s.materials_late = True
                flag = f"{kind}_late"
                if flag not in s.flags:
                    s.flags.append(flag)
                st = s.state.value
                self._event(SYSTEM, f"timer.{kind}_deadline", st, st, now, detail=detail)
        elif kind == "at_risk_from":
            s.at_risk = True
            st = s.state.value
            deadline = s.computed["at_risk_from"]
            self._event(
                SYSTEM, "timer.at_risk", st, st, now,
                detail={"explanation": deadline.explanation.model_dump(mode="json")},
            )  # fmt: skip
            self._notify_transition(now)
        else:  # pragma: no cover - the workflow only passes kinds from timers()
            raise ValueError(f"unknown timer {kind}")
        return step

    # ------------------------------------------------------------------ validation

    def refusal(self, name: str, cmd: Any, now: datetime) -> str | None:
        """Why ``cmd`` cannot be applied now, in words a reviewer understands; None if it can."""
        if self.s.state in FINAL:
            return f"该申报已结束（{label(self.s.state)}），不能再操作 / the declaration has ended"
        if self.s.state == S.certified and name not in ("misconduct",):
            return "该申报已发证，只能因弄虚作假撤销 / certified: only misconduct can revoke it"
        check = getattr(self, f"_refuse_{name}")
        reason: str | None = check(cmd, now)
        return reason

    def _wrong_state(self, wanted: str) -> str:
        return (
            f"该申报当前处于「{label(self.s.state)}」阶段，不能{wanted} / "
            f"the declaration is at {self.s.state.value}"
        )

    def _is_filer(self, actor: Actor) -> bool:
        return actor.role == "applicant" and actor.id == self.s.filed_by.id

    def _refuse_submit(self, cmd: SubmitCommand, now: datetime) -> str | None:
        s = self.s
        if not self._is_filer(cmd.actor):
            return "只有申报人本人可以提交 / only the applicant who filed it may submit"
        block = eligibility.blocking_reason(s.campaign, s.declaration.applicant)
        if block:
            return block
        if s.campaign.submission_cap_scope == "applicant":
            cap = submissions.committee_submission_refusal(
                s.applicant_submissions, s.campaign.max_committee_submissions
            )
            if cap:
                return cap
        if s.state == S.draft:
            if now < s.campaign.declaration_opens_at:
                return (
                    f"申报尚未开始，申报时间自 {as_of(s.campaign.declaration_opens_at)} 起 / "
                    "the declaration window is not open yet"
                )
            if now >= s.deadlines.declaration_closes_at:
                return (
                    f"申报已于 {as_of(s.deadlines.declaration_closes_at)} 截止 / "
                    "the declaration window has closed"
                )
            return None
        if s.state == S.returned:
            correction = s.computed.get("correction")
            if correction is not None and now >= correction.at:
                return "退回修改期限已过 / the correction window has closed"
            if self._resubmission_target() == S.committee_formal_review:
                return submissions.committee_submission_refusal(
                    s.committee_submissions, s.campaign.max_committee_submissions
                )
            return None
        return self._wrong_state("提交 / submit")

    def _refuse_withdraw(self, cmd: WithdrawCommand, now: datetime) -> str | None:
        if not self._is_filer(cmd.actor):
            return "只有申报人本人可以撤回 / only the applicant who filed it may withdraw"
        return None

    def _refuse_decide(self, cmd: DecisionCommand, now: datetime) -> str | None:
        s = self.s
        if cmd.stage != s.state.value:
            return self._wrong_state(f"作出「{cmd.stage}」决定 / decide at {cmd.stage}")
        who = self._decider_refusal(cmd.actor, cmd.stage)
        if who:
            return who
        if cmd.outcome in ("return", "reject") and not (cmd.opinion.strip() or cmd.reasons):
            return "退回或不通过须写明意见或理由代码 / a return or rejection needs an opinion or reasons"
        if cmd.stage in ("fee_pending", "materials_pending"):
            late = s.fee_late if cmd.stage == "fee_pending" else s.materials_late
            if cmd.outcome != "reject" or not late:
                return (
                    "逾期未缴费或未报送材料且由评审委员会决定时，才能在此阶段作出不予受理决定 / "
                    "only a late fee or late materials can be decided here, by rejection"
                )
            return None
        if cmd.outcome == "approve" and cmd.stage in ("unit_review", "unit_recommendation"):
            until = s.unit_barred_until
            if until is not None and now < until:
                return (
                    f"推荐单位因弄虚作假被限制推荐至 {as_of(until)} / the unit may not "
                    "recommend until then (§2 blacklist)"
                )
        if (
            cmd.stage == "unit_recommendation"
            and cmd.outcome == "approve"
            and not (cmd.publicity_result_ref and cmd.publicity_result_ref.strip())
        ):
            return "推荐意见须附公示结果证明 / the recommendation needs publicity_result_ref"
        return None

    def _decider_refusal(self, actor: Actor, stage: str) -> str | None:
        s = self.s
        if stage in ("unit_review", "unit_recommendation"):
            if actor.role != "unit_reviewer" or actor.org != s.declaration.unit_id:
                return "只有申报人所在单位的审核人可以作出此决定 / only the applicant's unit decides here"
        elif stage == "authority_review":
            body = self.authority_chain[s.authority_index]
            if actor.role != "authority_reviewer" or actor.org != body:
                return f"此阶段由主管部门 {body} 审核 / only authority {body} decides here"
        elif actor.role != "committee":
            return "只有评审委员会可以作出此决定 / only the committee decides here"
        return None

    def _refuse_objection(self, cmd: ObjectionCommand, now: datetime) -> str | None:
        s = self.s
        if s.state not in (S.unit_publicity, S.result_publicity):
            return self._wrong_state(
                "提出异议（仅在公示期内） / lodge an objection outside publicity"
            )
        ends = s.computed.get("publicity_ends")
        if s.publicity_over or (ends is not None and now >= ends.at):
            return "公示期已结束，不能再提出异议 / the publicity period has ended"
        return None

    def _refuse_resolve(self, cmd: ObjectionResolutionCommand, now: datetime) -> str | None:
        s = self.s
        if s.state not in (S.unit_publicity, S.result_publicity):
            return self._wrong_state("处理异议 / resolve an objection")
        objection = next((o for o in s.objections if o.id == cmd.objection_id), None)
        if objection is None or objection.publicity != s.state.value:
            return f"没有编号为 {cmd.objection_id} 的异议 / no such objection in this publicity"
        if objection.resolved:
            return f"异议 {cmd.objection_id} 已处理 / the objection is already resolved"
        if s.state == S.unit_publicity:
            if cmd.actor.role != "unit_reviewer" or cmd.actor.org != s.declaration.unit_id:
                return "单位内部公示的异议由申报人所在单位处理 / the applicant's unit resolves it"
            if cmd.upheld and cmd.outcome is None:
                return "异议成立时须选择退回或不予推荐 / an upheld objection needs outcome return or reject"
        elif cmd.actor.role != "committee":
            return "评审结果公示的异议由评审委员会处理 / the committee resolves it"
        return None

    def _refuse_pay(self, cmd: PaymentCommand, now: datetime) -> str | None:
        s = self.s
        if s.fee_paid:
            if cmd.receipt_no == s.receipt_no and cmd.amount == s.fee_due:
                return None  # the same receipt again: accepted, no second effect
            return f"评审费已按票据 {s.receipt_no} 缴清 / the fee is already paid"
        if s.state != S.fee_pending:
            return self._wrong_state("缴费（须通过形式审核后） / record a payment")
        if cmd.actor.role != "finance":
            return "只有财务可以登记缴费 / only finance records payments"
        return fees.payment_refusal(s.fee_due, cmd.amount)

    def _refuse_materials(self, cmd: MaterialsReceivedCommand, now: datetime) -> str | None:
        s = self.s
        if not s.materials_required:
            return "本次评审不需要报送纸质材料 / this campaign needs no paper materials"
        if s.materials_received:
            if cmd.form_id == s.form_id:
                return None
            return "纸质材料已登记接收 / the materials are already recorded as received"
        if s.state not in (S.fee_pending, S.materials_pending):
            return self._wrong_state("登记接收纸质材料 / record materials received")
        if cmd.actor.role != "committee":
            return (
                "只有评审委员会办公室可以登记接收材料 / only the committee office records receipt"
            )
        if s.form_id is None:
            return "评审表尚未生成 / the review form has not been issued yet"
        if cmd.form_id != s.form_id:
            return f"评审表编号不符，应为 {s.form_id} / the form id does not match the issued form"
        return None

    def _refuse_defense(self, cmd: DefenseCommand, now: datetime) -> str | None:
        s = self.s
        if s.state != S.defense_pending:
            return self._wrong_state("登记答辩结果 / record a defense")
        if cmd.actor.role != "committee":
            return "只有评审委员会可以登记答辩结果 / only the committee records defenses"
        if s.defense.venue == "onsite" and cmd.mode != "onsite":
            return "该申报人应参加现场答辩 / this applicant defends on site"
        if s.defense.venue == "remote" and cmd.mode == "onsite":
            return "该申报人采用视频或电话答辩 / this applicant defends by video or phone"
        if s.campaign.defense.scored and cmd.score is None:
            return "本次答辩实行量化赋分，须填写分数 / this campaign scores defenses: give a score"
        return None

    def _refuse_vote(self, cmd: VoteCommand, now: datetime) -> str | None:
        if self.s.state != S.committee_review:
            return self._wrong_state("登记评审会议表决 / record a vote")
        if cmd.actor.role != "committee":
            return "只有评审委员会可以登记表决结果 / only the committee records votes"
        outcome = vote.assess_vote(
            self.s.campaign.committee_members,
            cmd.attending,
            cmd.in_favor,
            cmd.against,
            cmd.abstain,
            cmd.recused,
        )
        return outcome.refusal

    def _refuse_misconduct(self, cmd: MisconductCommand, now: datetime) -> str | None:
        if cmd.actor.role not in ("committee", "authority_reviewer"):
            return "只有评审委员会或主管部门可以认定弄虚作假 / only the committee or an authority"
        return None

    def _refuse_confirm_result(self, cmd: ResultConfirmationCommand, now: datetime) -> str | None:
        if self.s.state != S.result_confirmation:
            return self._wrong_state("审核确认评审结果 / confirm the result")
        if cmd.actor.role not in ("committee", "admin"):
            return "只有组建评审委员会的部门可以审核确认 / only the body that set up the committee"
        return None

    def _refuse_change_deadlines(self, cmd: DeadlineChangeCommand, now: datetime) -> str | None:
        if cmd.actor.role not in ("committee", "admin"):
            return "只有评审委员会或管理员可以调整截止时间 / only the committee or an admin"
        return None

    def _refuse_calendar_changed(self, cmd: CalendarChangedCommand, now: datetime) -> str | None:
        return None

    # ------------------------------------------------------------------ application

    def _resubmission_target(self) -> StateName:
        s = self.s
        if s.campaign.resubmit_to == "unit" or s.returned_from is None:
            return S.unit_review
        return StateName(s.returned_from)

    def apply_submit(self, cmd: SubmitCommand, screening: ScreeningResult, now: datetime) -> Step:
        s, step = self.s, Step()
        s.unit_barred_until = screening.unit_barred_until
        if cmd.materials is not None:
            s.declaration.materials = cmd.materials
        if cmd.masked_items is not None:
            s.declaration.masked_items = cmd.masked_items
        s.applicant_submissions += 1
        detail: dict[str, Any] = {
            "materials_sha256": [m.sha256 for m in s.declaration.materials],
            "masked_items": list(s.declaration.masked_items),
            "applicant_submissions": s.applicant_submissions,
        }
        if s.state == S.draft:
            self._move(cmd.actor, "submit", S.unit_review, now, detail=detail)
        else:
            target = self._resubmission_target()
            if target == S.authority_review:
                s.authority_index = s.returned_index or 0
            s.returned_from = s.returned_index = s.returned_at = None
            if target == S.committee_formal_review:
                self._arrive_committee(cmd.actor, "resubmit", now, detail)
            else:
                self._move(cmd.actor, "resubmit", target, now, detail=detail)
        return step

    def _arrive_committee(
        self, actor: Actor, action: str, now: datetime, detail: dict[str, Any] | None = None
    ) -> None:
        """§2.5: each arrival at formal review counts as a submission to the committee."""
        s = self.s
        s.committee_submissions += 1
        s.reached_committee = True
        detail = dict(detail or {})
        detail["committee_submissions"] = s.committee_submissions
        self._move(actor, action, S.committee_formal_review, now, detail=detail)

    def apply_withdraw(self, cmd: WithdrawCommand, now: datetime) -> Step:
        before = self.s.state
        self._move(cmd.actor, "withdraw", S.withdrawn, now, opinion=cmd.reason)
        self._interrupt_publicity(before, now)
        return Step()

    def _interrupt_publicity(self, before: StateName, now: datetime) -> None:
        """A publicity still running when the declaration ends (withdrawal, misconduct, the
        declaration deadline) is closed as interrupted, so none stays open for an ended one."""
        if before in (S.unit_publicity, S.result_publicity) and not self.s.publicity_over:
            self._effect(
                Effect(kind="close_publicity", publicity=before.value, start=now, interrupted=True)
            )

    def apply_decide(self, cmd: DecisionCommand, now: datetime) -> Step:
        s, step = self.s, Step()
        stage = cmd.stage
        action = f"{stage}.{cmd.outcome}"
        kw: dict[str, Any] = {"opinion": cmd.opinion, "reasons": cmd.reasons}
        if cmd.outcome == "return":
            self._return(cmd.actor, action, stage, now, **kw)
        elif cmd.outcome == "reject":
            if stage == "committee_formal_review":
                to = S.not_accepted
            elif stage in ("fee_pending", "materials_pending"):
                to = S.abandoned
            else:
                to = S.rejected
            self._move(cmd.actor, action, to, now, **kw)
        elif stage == "unit_review":
            s.publicity_over = False
            s.publicity_started_at = now
            self._move(cmd.actor, action, S.unit_publicity, now, **kw)
            self._effect(Effect(kind="open_publicity", publicity="unit_publicity", start=now))
        elif stage == "unit_recommendation":
            s.recommendation_ref = cmd.publicity_result_ref
            kw["detail"] = {"publicity_result_ref": cmd.publicity_result_ref}
            self._advance_from_unit(cmd.actor, action, now, **kw)
        elif stage == "authority_review":
            kw["detail"] = {"authority": self.authority_chain[s.authority_index]}
            s.authority_index += 1
            if s.authority_index < len(self.authority_chain):
                self._move(cmd.actor, action, S.authority_review, now, **kw)
            else:
                self._arrive_committee(cmd.actor, action, now, kw.pop("detail"))
                return step
        elif stage == "committee_formal_review":
            self._move(cmd.actor, action, S.fee_pending, now, **kw)
            if s.materials_required and s.form_id is None:
                self._effect(Effect(kind="issue_review_form"))
        return step

    def _advance_from_unit(self, actor: Actor, action: str, now: datetime, **kw: Any) -> None:
        self.s.authority_index = 0
        if self.authority_chain:
            self._move(actor, action, S.authority_review, now, **kw)
        else:
            self._arrive_committee(actor, action, now, kw.get("detail"))

    def _return(self, actor: Actor, action: str, stage: str, now: datetime, **kw: Any) -> None:
        """A return opens the correction window, unless it ends the declaration (§2.5 cap)."""
        s = self.s
        cap = s.campaign.max_committee_submissions
        if s.campaign.submission_cap_scope == "applicant":
            ends = submissions.return_ends_declaration(s.applicant_submissions, cap)
        else:
            ends = stage == "committee_formal_review" and submissions.return_ends_declaration(
                s.committee_submissions, cap
            )
        if ends:
            kw.setdefault("detail", {})["rule"] = (
                "001 四(一)1 第3次提交后申报材料仍不符合要求的不予受理 / last allowed submission"
            )
            self._move(actor, action, S.not_accepted, now, **kw)
            return
        s.returned_from = stage
        s.returned_index = s.authority_index if stage == "authority_review" else None
        s.returned_at = now
        self._move(actor, action, S.returned, now, **kw)
        self._effect(Effect(kind="compute_correction"))

    def apply_objection(self, cmd: ObjectionCommand, now: datetime) -> Step:
        s = self.s
        objection = ObjectionView(
            id=f"obj-{s.seq + 1}",
            publicity=s.state.value,
            lodged_at=now,
            lodged_by=cmd.actor.id,
            text=cmd.text,
        )
        s.objections.append(objection)
        st = s.state.value
        self._event(
            cmd.actor, "objection.lodged", st, st, now,
            opinion=cmd.text, detail={"objection_id": objection.id},
        )  # fmt: skip
        return Step(result={"objection_id": objection.id})

    def _open_objections(self) -> int:
        st = self.s.state.value
        return sum(1 for o in self.s.objections if o.publicity == st and not o.resolved)

    def apply_resolve(self, cmd: ObjectionResolutionCommand, now: datetime) -> Step:
        s, step = self.s, Step()
        objection = next(o for o in s.objections if o.id == cmd.objection_id)
        objection.resolved, objection.upheld = True, cmd.upheld
        detail = {"objection_id": objection.id, "upheld": cmd.upheld, "outcome": cmd.outcome}
        action = "objection.upheld" if cmd.upheld else "objection.dismissed"
        if cmd.upheld and s.state == S.unit_publicity:
            if cmd.outcome == "return":
                self._return(cmd.actor, action, "unit_review", now, opinion=cmd.opinion,
                             detail=detail)  # fmt: skip
            else:
                self._move(cmd.actor, action, S.rejected, now, opinion=cmd.opinion, detail=detail)
            self._effect(Effect(kind="close_publicity", publicity="unit_publicity",
                                       start=now))  # fmt: skip
        elif cmd.upheld:
            self._move(cmd.actor, action, S.not_approved, now, opinion=cmd.opinion, detail=detail)
            self._effect(Effect(kind="close_publicity", publicity="result_publicity",
                                       start=now))  # fmt: skip
        else:
            st = s.state.value
            self._event(cmd.actor, action, st, st, now, opinion=cmd.opinion, detail=detail)
            self._effects_extend(self._after_publicity(now))
        return step

    def _after_publicity(self, now: datetime) -> list[Effect]:
        """Move on once the publicity has ended and no objection is open (§2.3, §2.9)."""
        s = self.s
        if not s.publicity_over or self._open_objections():
            return []
        if s.state == S.unit_publicity:
            self._move(SYSTEM, "unit_publicity.completed", S.unit_recommendation, now)
            return []
        if s.state == S.result_publicity:
            if s.campaign.result_confirmation_required:
                self._move(SYSTEM, "result_publicity.completed", S.result_confirmation, now)
                return []
            return [Effect(kind="announce")]
        return []

    def apply_pay(self, cmd: PaymentCommand, now: datetime) -> Step:
        s = self.s
        if s.fee_paid:  # the same receipt again: no second effect
            return Step(result={"duplicate": True})
        s.fee_paid, s.receipt_no = True, cmd.receipt_no
        detail = {"receipt_no": cmd.receipt_no, "amount": cmd.amount, "payer_org": cmd.payer_org}
        if s.materials_required and not s.materials_received:
            self._move(cmd.actor, "payment.recorded", S.materials_pending, now, detail=detail)
            return Step()
        return self._after_fee_and_materials(cmd.actor, "payment.recorded", now, detail)

    def apply_materials(self, cmd: MaterialsReceivedCommand, now: datetime) -> Step:
        s = self.s
        if s.materials_received:
            return Step(result={"duplicate": True})
        s.materials_received = True
        detail = {"form_id": cmd.form_id, "watermark_id": s.watermark_id}
        if s.state == S.materials_pending:
            return self._after_fee_and_materials(cmd.actor, "materials.received", now, detail)
        st = s.state.value
        self._event(cmd.actor, "materials.received", st, st, now, detail=detail)
        return Step()

    def _after_fee_and_materials(
        self, actor: Actor, action: str, now: datetime, detail: dict[str, Any]
    ) -> Step:
        """§2.7: defense where required (venue decided on arrival), else the meeting."""
        s = self.s
        plan = defense_rules.plan_defense(
            s.campaign, s.declaration_id, s.declaration.level, s.declaration.applicant
        )
        # §5: the draw is reproducible and audited: its result, the rate and the seed it used.
        draw = self._draw_detail(plan.drawn)
        if s.defense.required:
            s.defense.venue = plan.venue
            detail = {**detail, "defense_venue": plan.venue, "defense_reason": plan.reason, **draw}
            self._move(actor, action, S.defense_pending, now, detail=detail)
        else:
            detail = {**detail, "defense": "not required", "exemption": s.defense.exemption,
                      "defense_reason": plan.reason, **draw}  # fmt: skip
            self._move(actor, action, S.committee_review, now, detail=detail)
        return Step()

    def _draw_detail(self, drawn: bool | None) -> dict[str, Any]:
        """``drawn`` always; where a sample was drawn, its rate and seed so it can be redone
        (``domain.defense.remote_sample_drawn(campaign_id, declaration_id, rate)``)."""
        if drawn is None:
            return {"drawn": None}
        s = self.s
        return {
            "drawn": drawn,
            "draw": {
                "rate": s.campaign.defense.remote_sample_rate,
                "seed": f"{s.campaign.id}:{s.declaration_id}",
                "rule": "§5 随机抽取: sha256(seed) first 8 bytes / 2**64 < rate",
            },
        }

    def apply_defense(self, cmd: DefenseCommand, now: datetime) -> Step:
        s = self.s
        s.defense.mode, s.defense.passed, s.defense.score = cmd.mode, cmd.passed, cmd.score
        to = S.committee_review if cmd.passed else S.defense_failed
        self._move(
            cmd.actor, "defense.recorded", to, now, opinion=cmd.opinion,
            detail={"passed": cmd.passed, "mode": cmd.mode, "score": cmd.score},
        )  # fmt: skip
        return Step()

    def apply_vote(self, cmd: VoteCommand, now: datetime) -> Step:
        s = self.s
        outcome = vote.assess_vote(
            s.campaign.committee_members, cmd.attending, cmd.in_favor, cmd.against,
            cmd.abstain, cmd.recused,
        )  # fmt: skip
        s.vote = VoteRecord(
            members=s.campaign.committee_members,
            attending=cmd.attending,
            in_favor=cmd.in_favor,
            against=cmd.against,
            abstain=cmd.abstain,
            recused=list(cmd.recused),
            quorum_met=outcome.quorum_met,
            passed=outcome.passed,
        )
        detail = s.vote.model_dump(mode="json")
        if cmd.meeting_id:
            detail["meeting_id"] = cmd.meeting_id
        if not outcome.passed:
            self._move(cmd.actor, "vote.recorded", S.not_approved, now, detail=detail)
            return Step()
        s.publicity_over = False
        s.publicity_started_at = now
        self._move(cmd.actor, "vote.recorded", S.result_publicity, now, detail=detail)
        self._effect(Effect(kind="open_publicity", publicity="result_publicity", start=now))
        return Step()

    def apply_confirm_result(self, cmd: ResultConfirmationCommand, now: datetime) -> Step:
        if not cmd.confirmed:
            self._move(cmd.actor, "result.not_confirmed", S.not_approved, now, opinion=cmd.opinion)
            return Step()
        st = self.s.state.value
        self._event(cmd.actor, "result.confirmed", st, st, now, opinion=cmd.opinion)
        self._effect(Effect(kind="announce"))
        return Step()

    def apply_misconduct(self, cmd: MisconductCommand, now: datetime) -> Step:
        s = self.s
        before = s.state
        certified = before == S.certified
        to = S.revoked if certified else S.disqualified
        self._interrupt_publicity(before, now)
        self._move(
            cmd.actor, "misconduct.recorded", to, now, opinion=cmd.finding,
            detail={"unit_at_fault": cmd.unit_at_fault,
                    "rule": "弄虚作假、营私舞弊 (000, 002, 003, 004; 40号令)"},
        )  # fmt: skip
        self._effect(
            Effect(kind="blacklist", finding=cmd.finding, unit_at_fault=cmd.unit_at_fault,
                   found_at=now)
        )  # fmt: skip
        if certified:
            self._effect(Effect(kind="revoke_certificate", found_at=now))
        return Step()

    def apply_change_deadlines(
        self, cmd: DeadlineChangeCommand, now: datetime, *, noop_if_unchanged: bool = True
    ) -> Step:
        """§3 延期. A change whose effective deadlines equal the current ones is a no-op (no
        event, nothing re-armed), so a change delivered twice (a retried fan-out) is applied
        once; ``noop_if_unchanged=False`` is the behaviour before that rule, for replaying older
        histories."""
        s, step = self.s, Step()
        old = s.deadlines
        effective = effective_deadlines(old, cmd.deadlines, cmd.changed_at)
        if noop_if_unchanged and effective == old:
            return Step(result={"unchanged": True})
        s.deadlines = effective
        st = s.state.value
        self._event(
            cmd.actor, "deadlines.changed", st, st, now,
            detail={"requested": cmd.deadlines.model_dump(mode="json"),
                    "before": old.model_dump(mode="json"),
                    "effective": s.deadlines.model_dump(mode="json"),
                    "rule": "§3 延期: moved earlier takes effect no earlier than 24 h later"},
        )  # fmt: skip
        if s.state == S.returned and s.returned_at is not None:
            self._effect(Effect(kind="compute_correction"))
        self._refresh_at_risk(now)
        return step

    def apply_calendar_changed(
        self, cmd: CalendarChangedCommand, now: datetime, *, explain: bool = True
    ) -> Step:
        """§7: loading a year's official data recomputes the provisional deadlines.

        With ``explain`` (the default; False replays histories from before it), a declaration
        that has provisional deadlines records ``calendar.changed`` naming the year, version and
        the deadlines it recomputes; each recomputed deadline then records
        ``deadline.<kind>.recomputed`` (moved) or ``.confirmed`` (same instant, now official),
        the at-risk instant included."""
        s, step = self.s, Step()
        recomputing: list[str] = []
        for kind, computed in list(s.computed.items()):
            if not computed.explanation.provisional:
                continue
            if kind == "correction" and s.state == S.returned:
                self._effect(Effect(kind="compute_correction"))
                recomputing.append(kind)
            elif kind == "publicity_ends" and not s.publicity_over:
                publicity = s.state.value
                if publicity in ("unit_publicity", "result_publicity"):
                    self._effect(
                        Effect(kind="open_publicity", publicity=publicity,
                               start=s.publicity_started_at)
                    )  # fmt: skip
                    recomputing.append(kind)
        table = s.at_risk_table
        stale_table = table is not None and any(
            c.explanation.provisional for c in table.instants.values()
        )
        # The at-risk instant only matters while the declaration deadline still applies.
        at_risk_recomputed = stale_table and self.active_declaration_deadline() is not None
        if at_risk_recomputed:
            recomputing.append("at_risk_from")
        if explain and recomputing:
            st = s.state.value
            self._event(
                cmd.actor, "calendar.changed", st, st, now,
                detail={"year": cmd.year, "version": cmd.version,
                        "recomputing": sorted(recomputing),
                        "rule": "§7 loading a year's official data recomputes provisional "
                                "deadlines"},
            )  # fmt: skip
        if stale_table:
            s.at_risk_table = None
            s.explain_at_risk = explain and at_risk_recomputed
            self._refresh_at_risk(now)
        return step

    # ------------------------------------------------------------------ effect results

    def max_working_days_needed(self) -> int:
        """The most the chain can ever need before the committee: the size of the table."""
        s = self.s
        return s.campaign.unit_publicity_working_days + 1 + len(self.authority_chain)

    def _refresh_at_risk(self, now: datetime) -> None:
        """§10.2 after every transition: pick the at-risk instant for what the chain still needs
        from the table; ask for the table when the declaration deadline has none yet."""
        s = self.s
        until = self.active_declaration_deadline()
        if until is None:
            s.at_risk = False
            s.computed.pop("at_risk_from", None)
            return
        table = s.at_risk_table
        if table is None or table.until != until:
            self._effect(Effect(kind="compute_at_risk"))
            return
        computed = table.instants.get(self.needed_working_days())
        if computed is None:
            s.at_risk = False
            s.computed.pop("at_risk_from", None)
            return
        self.on_deadline("at_risk_from", computed, now)

    def on_at_risk_table(self, table: AtRiskTable, now: datetime) -> None:
        self.s.at_risk_table = table
        self._refresh_at_risk(now)
        self.s.explain_at_risk = False

    def needed_working_days(self) -> int:
        s = self.s
        left = len(self.authority_chain) - s.authority_index
        return working_days_needed(
            s.state.value,
            authority_levels_left=left,
            publicity_started=s.state != S.unit_review and s.publicity_started_at is not None,
            campaign=s.campaign,
        )

    def on_deadline(self, kind: str, computed: ComputedDeadline, now: datetime) -> None:
        """A deadline computed by an activity enters the state (and so the history) once."""
        s = self.s
        previous = s.computed.get(kind)
        if kind == "correction" and s.state != S.returned:
            return
        if kind == "publicity_ends" and s.state not in (S.unit_publicity, S.result_publicity):
            return
        s.computed[kind] = computed
        st = s.state.value
        if kind == "at_risk_from":
            was, s.at_risk = s.at_risk, now >= computed.at
            if s.explain_at_risk:
                self._explain_recomputed(kind, previous, computed, now)
            if s.at_risk != was:
                self._event(
                    SYSTEM, "at_risk.changed", st, st, now,
                    detail={"at_risk": s.at_risk,
                            "explanation": computed.explanation.model_dump(mode="json")},
                )  # fmt: skip
                self._notify_transition(now)
            return
        if previous is not None and previous.at == computed.at:
            if previous.explanation.provisional and not computed.explanation.provisional:
                self._event(
                    SYSTEM, f"deadline.{kind}.confirmed", st, st, now,
                    detail={"at": as_of(computed.at),
                            "explanation": computed.explanation.model_dump(mode="json")},
                )  # fmt: skip
        elif previous is not None:
            self._event(
                SYSTEM, f"deadline.{kind}.recomputed", st, st, now,
                detail={"before": as_of(previous.at), "after": as_of(computed.at),
                        "explanation": computed.explanation.model_dump(mode="json")},
            )  # fmt: skip
            self._notify_transition(now)
        elif previous is None:
            self._event(
                SYSTEM, f"deadline.{kind}.set", st, st, now,
                detail={"at": as_of(computed.at),
                        "first_day": computed.first_day.isoformat() if computed.first_day else None,
                        "last_day": computed.last_day.isoformat() if computed.last_day else None,
                        "explanation": computed.explanation.model_dump(mode="json")},
            )  # fmt: skip
            self._notify_transition(now)

    def _explain_recomputed(
        self, kind: str, previous: ComputedDeadline | None, computed: ComputedDeadline,
        now: datetime,
    ) -> None:  # fmt: skip
        """Audit a deadline recomputed after a calendar change: moved, or confirmed."""
        st = self.s.state.value
        explanation = computed.explanation.model_dump(mode="json")
        if previous is None or previous.at != computed.at:
            before = as_of(previous.at) if previous is not None else None
            self._event(
                SYSTEM, f"deadline.{kind}.recomputed", st, st, now,
                detail={"before": before, "after": as_of(computed.at),
                        "explanation": explanation},
            )  # fmt: skip
        elif previous.explanation.provisional and not computed.explanation.provisional:
            self._event(
                SYSTEM, f"deadline.{kind}.confirmed", st, st, now,
                detail={"at": as_of(computed.at), "explanation": explanation},
            )  # fmt: skip

    def on_review_form(self, form: ReviewForm, now: datetime) -> None:
        s = self.s
        s.form_id, s.watermark_id = form.form_id, form.watermark_id
        st = s.state.value
        self._event(
            SYSTEM, "review_form.issued", st, st, now,
            detail={"form_id": form.form_id, "watermark_id": form.watermark_id},
        )  # fmt: skip

    def on_announced(self, announcement: Announcement, now: datetime) -> None:
        s = self.s
        if s.state not in (S.result_publicity, S.result_confirmation):
            return
        s.result = ResultView(
            certificate_no=announcement.certificate_no, announced_at=announcement.announced_at
        )
        self._move(
            SYSTEM, "result.announced", S.certified, now,
            detail={"certificate_no": announcement.certificate_no,
                    "rule": "结果公布 / 电子证书 (003 §九)"},
        )  # fmt: skip
