"""``DeclarationWorkflow``: one durable workflow per declaration (申报).

The workflow is a thin shell around :class:`domain.chain.Chain`. It

* accepts every decision as an **update** (its validator refuses with the reviewer-facing reason)
  and as a **signal** for fire-and-forget producers; both go through :meth:`_handle`;
* sleeps on the nearest deadline the chain names and enforces it itself when it passes;
* carries out the side effects the chain asks for as activities, and records every transition
  and every refusal in the audit trail before it answers.

Deadlines are computed once, by activities, and enter the history as their results; a calendar
update never changes how an existing history replays.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.retry import LOCAL_OPTIONS, REMOTE_OPTIONS
    from domain.chain import HISTORY_EVENT_BUDGET, Chain, Effect
    from domain.models import (
        Announcement,
        AnnouncementRequest,
        AtRiskTable,
        BlacklistRequest,
        CalendarChangedCommand,
        ComputedDeadline,
        DeadlineChangeCommand,
        DeadlineRequest,
        DecisionCommand,
        DeclarationStart,
        DeclarationView,
        DefenseCommand,
        FeeBatch,
        FeeConfirmation,
        FeeReceipt,
        MaterialsReceivedCommand,
        MisconductCommand,
        ObjectionCommand,
        ObjectionLodged,
        ObjectionResolutionCommand,
        PaymentCommand,
        PublicityClosed,
        PublicityCloseRequest,
        PublicityOpened,
        PublicityRequest,
        RecordBatch,
        RecordResult,
        RefusalRecord,
        ResultConfirmationCommand,
        ReviewForm,
        ReviewFormRequest,
        RevocationRequest,
        ScreeningRequest,
        ScreeningResult,
        SubmitCommand,
        VoteCommand,
        WithdrawCommand,
    )
    from domain.states import FINAL, PENDING
    from gateway import REFUSED, REFUSED_AUDITED
    from workflows import search

WORKFLOW_TYPE = "declaration-review"

#: Behaviour changes for running declarations (``workflow.patched``): histories recorded before
#: them replay on the old path. A deadline change already in force is a no-op (so a retried
#: fan-out changes a declaration once); a calendar change is explained in the audit trail.
PATCH_DEADLINE_CHANGE_NOOP = "deadline-change-noop-if-unchanged"
PATCH_CALENDAR_EXPLAINED = "calendar-change-explained"

#: Patches (docs/reliability.md: changing workflow code). Each guards new commands so that
#: histories recorded before it replay unchanged.
#:
#: A publicity cut short by a withdrawal, misconduct or the declaration deadline is closed in
#: the store (outcome ``interrupted``); before this patch it stayed open.
CLOSE_INTERRUPTED_PUBLICITY = "close-interrupted-publicity"
#:
#: Each step's audit events, view and notifications are written by a regular activity whose input
#: puts them in history before anything is written; before this patch a local activity wrote them
#: inside the workflow task, so a task the server never accepted (a dead or a zombie worker) could
#: leave rows that no history holds (docs/reliability.md, bench/RESULTS.md §7).
AUDIT_WRITE_IN_HISTORY = "audit-write-in-history"


@workflow.defn(name=WORKFLOW_TYPE)
class DeclarationWorkflow:
    @workflow.init
    def __init__(self, start: DeclarationStart) -> None:
        self._start = start
        self._chain = Chain.start(start)
        self._wake = False
        self._flush_lock = asyncio.Lock()
        self._indexed = self._index_key()

    # ------------------------------------------------------------------ main loop

    @workflow.run
    async def run(self, start: DeclarationStart) -> DeclarationView:
        chain = self._chain
        if start.carried is None:
            await self._settle()
        timer: asyncio.Task[None] | None = None
        timer_for: tuple[str, datetime] | None = None
        while chain.s.state not in FINAL:
            if self._should_continue_as_new():
                if timer is not None:
                    timer.cancel()
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._flush()
                workflow.continue_as_new(
                    DeclarationStart(
                        declaration_id=start.declaration_id,
                        campaign=start.campaign,
                        declaration=start.declaration,
                        filed_by=start.filed_by,
                        created_at=start.created_at,
                        carried=chain.s.model_dump(mode="json"),
                        audit_write=start.audit_write,
                    )
                )
            self._wake = False
            nxt = chain.next_timer()
            if nxt != timer_for:  # re-arm only when the nearest deadline changed
                if timer is not None:
                    timer.cancel()
                timer, timer_for = None, nxt
                if nxt is not None:
                    delay = (nxt[1] - workflow.now()).total_seconds()
                    if delay <= 0:
                        timer_for = None
                        await self._expire(nxt)
                        continue
                    timer = asyncio.create_task(asyncio.sleep(delay))
            woken = asyncio.create_task(workflow.wait_condition(lambda: self._wake))
            waiting: list[asyncio.Task[None]] = [woken] if timer is None else [woken, timer]
            done, _ = await workflow.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not woken.done():
                woken.cancel()
            if timer is not None and timer in done:
                fired, timer, timer_for = timer_for, None, None
                if fired is not None:
                    await self._expire(fired)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush()
        return chain.view()

    async def _expire(self, fired: tuple[str, datetime]) -> None:
        """A deadline passed: enforce it, unless a handler already moved things on."""
        if self._chain.next_timer() != fired:
            return
        self._chain.expire(fired[0], workflow.now())
        await self._settle()

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > HISTORY_EVENT_BUDGET
        )

    # ------------------------------------------------------------------ query

    @workflow.query(name="view")
    def view(self) -> DeclarationView:
        return self._chain.view()

    # ------------------------------------------------------------------ one code path

    def _validate(self, name: str, cmd: Any) -> None:
        reason = self._chain.refusal(name, cmd, workflow.now())
        if reason:
            raise ApplicationError(reason, type=REFUSED, non_retryable=True)

    async def _handle(self, name: str, cmd: Any, *, fired: bool = False) -> DeclarationView:
        """Apply one command: validate, do what must happen first, apply, carry out the
        effects, record. ``fired`` marks a signal, whose refusals are audited here."""
        chain = self._chain
        reason = chain.refusal(name, cmd, workflow.now())
        if reason:
            if not fired:  # the validator passed, yet the state changed meanwhile
                raise ApplicationError(reason, type=REFUSED, non_retryable=True)
            chain.refused(cmd.actor, name, reason, workflow.now(), via="signal")
            await self._flush()
            return chain.view()
        prepared = await self._prepare(name, cmd)
        if isinstance(prepared, str):
            chain.refused(cmd.actor, name, prepared, workflow.now())
            await self._flush()
            if fired:
                return chain.view()
            raise ApplicationError(prepared, type=REFUSED_AUDITED, non_retryable=True)
        late = chain.refusal(name, cmd, workflow.now())  # re-check after the await
        if late:
            chain.refused(cmd.actor, name, late, workflow.now())
            await self._flush()
            if fired:
                return chain.view()
            raise ApplicationError(late, type=REFUSED_AUDITED, non_retryable=True)
        apply = getattr(chain, f"apply_{name}")
        if name == "submit":
            step = apply(cmd, prepared, workflow.now())
        elif name == "change_deadlines":
            noop = workflow.patched(PATCH_DEADLINE_CHANGE_NOOP)
            step = chain.apply_change_deadlines(cmd, workflow.now(), noop_if_unchanged=noop)
        elif name == "calendar_changed":
            explain = workflow.patched(PATCH_CALENDAR_EXPLAINED)
            step = chain.apply_calendar_changed(cmd, workflow.now(), explain=explain)
        else:
            step = apply(cmd, workflow.now())
        self._wake = True
        await self._settle()
        view = chain.view()
        if "objection_id" in step.result:
            return ObjectionLodged(**view.model_dump(), objection_id=step.result["objection_id"])
        return view

    async def _prepare(self, name: str, cmd: Any) -> Any:
        """What must happen before a command may apply: screening a submission against the
        store (blacklists, other live declarations), confirming a payment in the ledger."""
        chain, s = self._chain, self._chain.s
        if name == "submit":
            screening: ScreeningResult = await workflow.execute_local_activity(
                "screen_applicant",
                ScreeningRequest(
                    declaration_id=s.declaration_id,
                    campaign=s.campaign,
                    declaration=s.declaration,
                    at=workflow.now(),
                ),
                **LOCAL_OPTIONS["screen_applicant"],
                result_type=ScreeningResult,
            )
            return screening.refusal or screening
        if name == "pay" and not s.fee_paid and not cmd.confirmed_in_batch:
            confirmation = FeeConfirmation(
                declaration_id=s.declaration_id,
                campaign_id=s.campaign.id,
                receipt_no=cmd.receipt_no,
                amount=cmd.amount,
                due=s.fee_due,
                payer_org=cmd.payer_org,
                confirmed_by=cmd.actor.id,
                at=workflow.now(),
            )
            try:
                await workflow.execute_activity(
                    "confirm_fee",
                    FeeBatch(
                        receipt_no=cmd.receipt_no,
                        payer_org=cmd.payer_org,
                        confirmed_by=cmd.actor.id,
                        at=confirmation.at,
                        items=[confirmation],
                    ),
                    **REMOTE_OPTIONS["confirm_fee"],
                    result_type=FeeReceipt,
                )
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.non_retryable:
                    return cause.message
                raise
        del chain
        return None

    # ------------------------------------------------------------------ effects and audit

    async def _settle(self) -> None:
        """Carry out every effect the chain asked for (effects may ask for more), then record."""
        chain = self._chain
        while effects := chain.take_effects():
            for effect in effects:
                await self._run_effect(effect)
        self._wake = True  # effects may have set deadlines: the main loop re-arms its timer
        await self._flush()

    async def _run_effect(self, effect: Effect) -> None:
        chain, s = self._chain, self._chain.s
        now = workflow.now()
        if effect.kind == "open_publicity":
            assert effect.publicity is not None and effect.start is not None
            opened = await workflow.execute_activity(
                "open_publicity",
                PublicityRequest(
                    declaration_id=s.declaration_id,
                    campaign=s.campaign,
                    kind=effect.publicity,
                    start=effect.start,
                ),
                **REMOTE_OPTIONS["open_publicity"],
                result_type=PublicityOpened,
            )
            chain.on_deadline("publicity_ends", opened.deadline, workflow.now())
        elif effect.kind == "close_publicity":
            assert effect.publicity is not None
            if effect.interrupted and not workflow.patched(CLOSE_INTERRUPTED_PUBLICITY):
                return  # replaying a history from before the patch: it left the publicity open
            await workflow.execute_activity(
                "close_publicity",
                PublicityCloseRequest(
                    declaration_id=s.declaration_id,
                    kind=effect.publicity,
                    closed_at=effect.start or now,
                    outcome="completed" if s.publicity_over else "interrupted",
                ),
                **REMOTE_OPTIONS["close_publicity"],
                result_type=PublicityClosed,
            )
        elif effect.kind in ("compute_correction", "compute_at_risk"):
            await self._compute(effect.kind)
        elif effect.kind == "issue_review_form":
            form = await workflow.execute_activity(
                "issue_review_form",
                ReviewFormRequest(
                    declaration_id=s.declaration_id,
                    campaign_id=s.campaign.id,
                    level=s.declaration.level,
                    issued_at=now,
                ),
                **REMOTE_OPTIONS["issue_review_form"],
                result_type=ReviewForm,
            )
            chain.on_review_form(form, workflow.now())
        elif effect.kind == "announce":
            announcement = await workflow.execute_activity(
                "announce_result",
                AnnouncementRequest(
                    declaration_id=s.declaration_id,
                    campaign_id=s.campaign.id,
                    series=s.campaign.series,
                    level=s.declaration.level,
                    applicant_name=s.declaration.applicant.name,
                    announced_at=now,
                ),
                **REMOTE_OPTIONS["announce_result"],
                result_type=Announcement,
            )
            chain.on_announced(announcement, workflow.now())
        elif effect.kind == "blacklist":
            await workflow.execute_activity(
                "record_blacklist",
                BlacklistRequest(
                    declaration_id=s.declaration_id,
                    campaign=s.campaign,
                    level=s.declaration.level,
                    id_number=s.declaration.applicant.id_number,
                    unit_id=s.declaration.unit_id,
                    unit_at_fault=effect.unit_at_fault,
                    finding=effect.finding,
                    found_at=effect.found_at or now,
                ),
                **REMOTE_OPTIONS["record_blacklist"],
            )
        elif effect.kind == "revoke_certificate" and s.result is not None:
            await workflow.execute_activity(
                "revoke_certificate",
                RevocationRequest(
                    declaration_id=s.declaration_id,
                    certificate_no=s.result.certificate_no,
                    revoked_at=effect.found_at or now,
                ),
                **REMOTE_OPTIONS["revoke_certificate"],
            )

    async def _compute(self, kind: str) -> None:
        chain, s = self._chain, self._chain.s
        if kind == "compute_correction" and s.returned_at is not None:
            computed = await workflow.execute_local_activity(
                "compute_deadline",
                DeadlineRequest(
                    declaration_id=s.declaration_id,
                    kind="correction",
                    start=s.returned_at,
                    campaign=s.campaign.model_copy(
                        update={"review_closes_at": s.deadlines.review_closes_at}
                    ),
                ),
                **LOCAL_OPTIONS["compute_deadline"],
                result_type=ComputedDeadline,
            )
            chain.on_deadline("correction", computed, workflow.now())
        elif kind == "compute_at_risk" and (until := chain.active_declaration_deadline()):
            table = await workflow.execute_local_activity(
                "compute_at_risk_table",
                DeadlineRequest(
                    declaration_id=s.declaration_id,
                    kind="at_risk_from",
                    start=workflow.now(),
                    campaign=s.campaign,
                    working_days_needed=chain.max_working_days_needed(),
                    until=until,
                ),
                **LOCAL_OPTIONS["compute_at_risk_table"],
                result_type=AtRiskTable,
            )
            chain.on_at_risk_table(table, workflow.now())

    def _index_key(self) -> tuple[str, str]:
        """The view's state and pending role, without building the view."""
        state = self._chain.s.state
        pending = PENDING.get(state)
        return str(state), str(pending[0]) if pending else ""

    def _reindex(self) -> None:
        """Keep the state and pending-role search attributes current (issue: search them)."""
        if not self._start.search_attributes:
            return
        key = self._index_key()
        if key != self._indexed:
            self._indexed = key
            workflow.upsert_search_attributes(
                [search.STATE.value_set(key[0]), search.PENDING_ROLE.value_set(key[1])]
            )

    async def _flush(self) -> None:
        """Write the new audit events, the view and the notifications in one idempotent step.
        A lock keeps batches in sequence order, so the hash chain always grows at its end."""
        self._reindex()
        async with self._flush_lock:
            events, notifications, cancel = self._chain.drain()
            if not events:
                return
            batch = RecordBatch(
                events=events,
                view=self._chain.view(),
                notifications=notifications,
                cancel_reminders=sorted(set(cancel)),
            )
            if self._audit_write_in_history():
                recorded = await workflow.execute_activity(
                    "record_audit_event",
                    batch,
                    **REMOTE_OPTIONS["record_audit_event"],
                    result_type=RecordResult,
                )
            else:  # a run from before the patch, or one that asked for the old way
                recorded = await workflow.execute_local_activity(
                    "record_audit_event",
                    batch,
                    **LOCAL_OPTIONS["record_audit_event"],
                    result_type=RecordResult,
                )
            # Only a local write can move (a regular one's batch is in history before it runs):
            # the store kept the rows of a task that never completed and put these after them
            # (store.audit_tail). Deterministic: the result is in history.
            self._chain.shift_seq(recorded.shift)

    def _audit_write_in_history(self) -> bool:
        """Whether this run writes its audit trail with a regular activity. Never asks
        ``patched`` for a declaration started with ``audit_write="local_activity"``, so such a run
        records no marker and replays on the old path."""
        if self._start.audit_write == "local_activity":
            return False
        return workflow.patched(AUDIT_WRITE_IN_HISTORY)

    # ------------------------------------------------------------------ updates

    @workflow.update(name="submit")
    async def submit(self, cmd: SubmitCommand) -> DeclarationView:
        return await self._handle("submit", cmd)

    @submit.validator
    def _v_submit(self, cmd: SubmitCommand) -> None:
        self._validate("submit", cmd)

    @workflow.update(name="withdraw")
    async def withdraw(self, cmd: WithdrawCommand) -> DeclarationView:
        return await self._handle("withdraw", cmd)

    @withdraw.validator
    def _v_withdraw(self, cmd: WithdrawCommand) -> None:
        self._validate("withdraw", cmd)

    @workflow.update(name="decide")
    async def decide(self, cmd: DecisionCommand) -> DeclarationView:
        return await self._handle("decide", cmd)

    @decide.validator
    def _v_decide(self, cmd: DecisionCommand) -> None:
        self._validate("decide", cmd)

    @workflow.update(name="lodge_objection")
    async def lodge_objection(self, cmd: ObjectionCommand) -> ObjectionLodged:
        view = await self._handle("objection", cmd)
        assert isinstance(view, ObjectionLodged)
        return view

    @lodge_objection.validator
    def _v_lodge_objection(self, cmd: ObjectionCommand) -> None:
        self._validate("objection", cmd)

    @workflow.update(name="resolve_objection")
    async def resolve_objection(self, cmd: ObjectionResolutionCommand) -> DeclarationView:
        return await self._handle("resolve", cmd)

    @resolve_objection.validator
    def _v_resolve_objection(self, cmd: ObjectionResolutionCommand) -> None:
        self._validate("resolve", cmd)

    @workflow.update(name="record_payment")
    async def record_payment(self, cmd: PaymentCommand) -> DeclarationView:
        return await self._handle("pay", cmd)

    @record_payment.validator
    def _v_record_payment(self, cmd: PaymentCommand) -> None:
        self._validate("pay", cmd)

    @workflow.update(name="record_materials_received")
    async def record_materials_received(self, cmd: MaterialsReceivedCommand) -> DeclarationView:
        return await self._handle("materials", cmd)

    @record_materials_received.validator
    def _v_record_materials_received(self, cmd: MaterialsReceivedCommand) -> None:
        self._validate("materials", cmd)

    @workflow.update(name="record_defense")
    async def record_defense(self, cmd: DefenseCommand) -> DeclarationView:
        return await self._handle("defense", cmd)

    @record_defense.validator
    def _v_record_defense(self, cmd: DefenseCommand) -> None:
        self._validate("defense", cmd)

    @workflow.update(name="record_vote")
    async def record_vote(self, cmd: VoteCommand) -> DeclarationView:
        return await self._handle("vote", cmd)

    @record_vote.validator
    def _v_record_vote(self, cmd: VoteCommand) -> None:
        self._validate("vote", cmd)

    @workflow.update(name="record_misconduct")
    async def record_misconduct(self, cmd: MisconductCommand) -> DeclarationView:
        return await self._handle("misconduct", cmd)

    @record_misconduct.validator
    def _v_record_misconduct(self, cmd: MisconductCommand) -> None:
        self._validate("misconduct", cmd)

    @workflow.update(name="confirm_result")
    async def confirm_result(self, cmd: ResultConfirmationCommand) -> DeclarationView:
        return await self._handle("confirm_result", cmd)

    @confirm_result.validator
    def _v_confirm_result(self, cmd: ResultConfirmationCommand) -> None:
        self._validate("confirm_result", cmd)

    @workflow.update(name="change_deadlines")
    async def change_deadlines(self, cmd: DeadlineChangeCommand) -> DeclarationView:
        return await self._handle("change_deadlines", cmd)

    @change_deadlines.validator
    def _v_change_deadlines(self, cmd: DeadlineChangeCommand) -> None:
        self._validate("change_deadlines", cmd)

    @workflow.update(name="calendar_changed")
    async def calendar_changed(self, cmd: CalendarChangedCommand) -> DeclarationView:
        return await self._handle("calendar_changed", cmd)

    # ------------------------------------------------------------------ signals

    @workflow.signal(name="submit.signal")
    async def submit_signal(self, cmd: SubmitCommand) -> None:
        await self._handle("submit", cmd, fired=True)

    @workflow.signal(name="withdraw.signal")
    async def withdraw_signal(self, cmd: WithdrawCommand) -> None:
        await self._handle("withdraw", cmd, fired=True)

    @workflow.signal(name="decide.signal")
    async def decide_signal(self, cmd: DecisionCommand) -> None:
        await self._handle("decide", cmd, fired=True)

    @workflow.signal(name="lodge_objection.signal")
    async def lodge_objection_signal(self, cmd: ObjectionCommand) -> None:
        await self._handle("objection", cmd, fired=True)

    @workflow.signal(name="resolve_objection.signal")
    async def resolve_objection_signal(self, cmd: ObjectionResolutionCommand) -> None:
        await self._handle("resolve", cmd, fired=True)

    @workflow.signal(name="record_payment.signal")
    async def record_payment_signal(self, cmd: PaymentCommand) -> None:
        await self._handle("pay", cmd, fired=True)

    @workflow.signal(name="record_materials_received.signal")
    async def record_materials_received_signal(self, cmd: MaterialsReceivedCommand) -> None:
        await self._handle("materials", cmd, fired=True)

    @workflow.signal(name="record_defense.signal")
    async def record_defense_signal(self, cmd: DefenseCommand) -> None:
        await self._handle("defense", cmd, fired=True)

    @workflow.signal(name="record_vote.signal")
    async def record_vote_signal(self, cmd: VoteCommand) -> None:
        await self._handle("vote", cmd, fired=True)

    @workflow.signal(name="record_misconduct.signal")
    async def record_misconduct_signal(self, cmd: MisconductCommand) -> None:
        await self._handle("misconduct", cmd, fired=True)

    @workflow.signal(name="confirm_result.signal")
    async def confirm_result_signal(self, cmd: ResultConfirmationCommand) -> None:
        await self._handle("confirm_result", cmd, fired=True)

    @workflow.signal(name="change_deadlines.signal")
    async def change_deadlines_signal(self, cmd: DeadlineChangeCommand) -> None:
        await self._handle("change_deadlines", cmd, fired=True)

    @workflow.signal(name="calendar_changed.signal")
    async def calendar_changed_signal(self, cmd: CalendarChangedCommand) -> None:
        await self._handle("calendar_changed", cmd, fired=True)

    @workflow.signal(name="record_refusal")
    async def record_refusal(self, rec: RefusalRecord) -> None:
        """A caller whose update the validator refused reports it here for the audit trail."""
        self._chain.record_refusal(rec, workflow.now())
        await self._flush()
