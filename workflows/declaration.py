"""``DeclarationWorkflow``: one durable workflow per declaration (申报).

The workflow is a thin shell around :class:`domain.chain.Chain`. It

* accepts every command as a typed **update** (its validator refuses with the reviewer-facing
  reason, so a refused command never enters the history) and, for fire-and-forget producers, as
  a **signal** named ``<command>.signal``; both find their entry in :mod:`domain.commands` and go
  through :meth:`DeclarationWorkflow._handle`;
* sleeps on the nearest deadline the chain names and enforces it itself when it passes;
* carries out the side effects the chain asks for as activities (:mod:`workflows.effects`), and
  records every transition and every refusal in the audit trail before it answers.

Deadlines are computed once, by activities, and enter the history as their results; a calendar
update never changes how an existing history replays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities
    from activities.messages import RecordBatch
    from activities.retry import local, remote
    from domain.chain import HISTORY_EVENT_BUDGET, Chain, Prepared, Refusal, view
    from domain.commands import COMMANDS, CommandSpec
    from domain.models import (
        CalendarChangedCommand,
        CloseReviewCommand,
        DeadlineChangeCommand,
        DecisionCommand,
        DeclarationStart,
        DeclarationView,
        DefenseCommand,
        MaterialsReceivedCommand,
        MisconductCommand,
        ObjectionCommand,
        ObjectionLodged,
        ObjectionResolutionCommand,
        PaymentCommand,
        RefusalRecord,
        ResultConfirmationCommand,
        SubmitCommand,
        VoteCommand,
        WithdrawCommand,
    )
    from domain.states import FINAL, PENDING, PUBLICITIES
    from gateway import REFUSED, REFUSED_AUDITED, SIGNAL_SUFFIX
    from workflows import search
    from workflows.effects import run_effect
    from workflows.prepare import PatchedRules, prepare

__all__ = ["WORKFLOW_TYPE", "DeclarationWorkflow"]

WORKFLOW_TYPE = "declaration-review"


def _error(spec: CommandSpec[Any], refusal: Refusal, kind: str) -> ApplicationError:
    """The update's failure: the reviewer's message, the stable code in its details."""
    code = {"code": f"{spec.name}.{refusal.code}"}
    return ApplicationError(refusal.message, code, type=kind, non_retryable=True)


#: Each step's audit events, view and notifications are written by a regular activity whose input
#: puts them in history before anything is written; before this patch a local activity wrote them
#: inside the workflow task, so a task the server never accepted (a dead or a zombie worker) could
#: leave rows that no history holds (docs/reliability.md, bench/RESULTS.md).
AUDIT_WRITE_IN_HISTORY = "audit-write-in-history"
#: A publicity waits on no one unless an objection lodged in it is open (the view's ``pending``),
#: so the ``ReviewPendingRole`` search attribute is upserted when an objection is lodged and when
#: the last one is resolved; before this patch it named the publicity's resolver throughout.
PENDING_ROLE_ON_OBJECTION = "pending-role-on-open-objection"


@workflow.defn(name=WORKFLOW_TYPE)
class DeclarationWorkflow:
    @workflow.init
    def __init__(self, start: DeclarationStart) -> None:
        self._start = start
        self._rules = PatchedRules()
        self._chain = Chain.start(start)
        self._chain.rules = self._rules
        self._wake = False
        self._flush_lock = asyncio.Lock()
        self._indexed = self._index_key() if start.search_attributes else ("", "")

    # ------------------------------------------------------------------ main loop

    @workflow.run
    async def run(self, start: DeclarationStart) -> DeclarationView:
        # Decided before the run's first await, so its marker is the first command of the run's
        # first workflow task, whatever handlers and activities interleave later.
        self._audit_write_in_history()
        chain = self._chain
        if start.reopen is not None:
            chain.reopen(start.reopen, workflow.now())
        if start.carried is None or start.reopen is not None:
            await self._settle()
        timer: asyncio.Task[None] | None = None
        timer_for: tuple[str, datetime] | None = None
        while chain.s.state not in FINAL:
            if self._should_continue_as_new():
                if timer is not None:
                    timer.cancel()
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._flush()
                carried = chain.s.model_dump(mode="json")
                workflow.continue_as_new(
                    start.model_copy(update={"carried": carried, "reopen": None})
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

    @workflow.query(name="carried")
    def carried(self) -> dict[str, Any]:
        """Everything the declaration remembers, as continue-as-new carries it (an extension
        that reopens an ended declaration continues from it)."""
        return self._chain.s.model_dump(mode="json")

    @workflow.query(name="view")
    def view(self) -> DeclarationView:
        self._rules.read_only = True
        try:
            return self._chain.view()
        finally:
            self._rules.read_only = False

    # ------------------------------------------------------------------ one code path

    def _validate(self, spec: CommandSpec[Any], cmd: Any) -> None:
        self._rules.read_only = True
        try:
            refusal = self._chain.refusal(spec, cmd, workflow.now())
        finally:
            self._rules.read_only = False
        if refusal:
            raise _error(spec, refusal, REFUSED)

    async def _refused(
        self, spec: CommandSpec[Any], cmd: Any, refusal: Refusal, **how: str
    ) -> None:
        self._chain.refused(cmd.actor, spec.name, refusal, workflow.now(), **how)
        await self._flush()

    async def _handle(
        self, spec: CommandSpec[Any], cmd: Any, *, fired: bool = False
    ) -> DeclarationView:
        """Apply one command: check it, do what must happen first, check again, apply, carry out
        the effects, record. ``fired`` marks a signal, whose refusals are audited here."""
        chain = self._chain
        refusal = chain.refusal(spec, cmd, workflow.now())
        if refusal:
            if not fired:  # the validator passed, yet the state changed meanwhile
                raise _error(spec, refusal, REFUSED)
            await self._refused(spec, cmd, refusal, via="signal")
            return chain.view()
        prepared = await prepare(self._chain, spec, cmd, self._rules)
        # What the preparation refused, or what changed while it ran (re-checked after the await).
        late = (
            prepared if isinstance(prepared, Refusal) else chain.refusal(spec, cmd, workflow.now())
        )
        if late:
            await self._refused(spec, cmd, late)
            if fired:
                return chain.view()
            raise _error(spec, late, REFUSED_AUDITED)
        assert isinstance(prepared, Prepared)
        step = chain.apply(spec, cmd, workflow.now(), prepared)
        self._wake = True
        await self._settle()
        view = chain.view()
        if "objection_id" in step.result:
            return ObjectionLodged(**view.model_dump(), objection_id=step.result["objection_id"])
        return view

    # ------------------------------------------------------------------ effects and audit

    async def _settle(self) -> None:
        """Carry out every effect the chain asked for (effects may ask for more), then record."""
        chain = self._chain
        while effects := chain.take_effects():
            for effect in effects:
                await run_effect(chain, effect)
        self._wake = True  # effects may have set deadlines: the main loop re-arms its timer
        await self._flush()

    def _index_key(self) -> tuple[str, str]:
        """The view's state and pending role, without building the view. A run that started
        before :data:`PENDING_ROLE_ON_OBJECTION` keeps naming a publicity's resolver while no
        objection is open, as it did (asked only there, so other runs record no marker)."""
        state = self._chain.s.state
        who = view.pending(self._chain)
        if who is None and state in PUBLICITIES and not workflow.patched(PENDING_ROLE_ON_OBJECTION):
            who = PENDING[state]
        return str(state), who[0] if who else ""

    def _reindex(self) -> None:
        """Keep the state and pending-role search attributes current."""
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
                recorded = await workflow.execute_activity_method(
                    AuditActivities.record_audit_event,
                    batch,
                    **remote(AuditActivities.record_audit_event),
                )
            else:  # a run from before the patch, or one that asked for the old way
                recorded = await workflow.execute_local_activity_method(
                    AuditActivities.record_audit_event,
                    batch,
                    **local(AuditActivities.record_audit_event),
                )
            # Only a local write can move (a regular one's batch is in history before it runs):
            # the store kept the rows of a task that never completed and put these after them
            # (store.audit_tail). Deterministic: the result is in history.
            self._chain.shift_seq(recorded.shift)

    def _audit_write_in_history(self) -> bool:
        """Whether this run writes its audit trail with a regular activity (``patched`` answers
        once per run; :meth:`run` asks first). Never asks ``patched`` for a declaration started
        with ``audit_write="local_activity"``, so such a run records no marker and replays on the
        old path."""
        if self._start.audit_write == "local_activity":
            return False
        return workflow.patched(AUDIT_WRITE_IN_HISTORY)

    # ------------------------------------------------------------------ updates (domain.commands)

    @workflow.update(name="submit")
    async def submit(self, cmd: SubmitCommand) -> DeclarationView:
        return await self._handle(COMMANDS["submit"], cmd)

    @submit.validator
    def _v_submit(self, cmd: SubmitCommand) -> None:
        self._validate(COMMANDS["submit"], cmd)

    @workflow.update(name="withdraw")
    async def withdraw(self, cmd: WithdrawCommand) -> DeclarationView:
        return await self._handle(COMMANDS["withdraw"], cmd)

    @withdraw.validator
    def _v_withdraw(self, cmd: WithdrawCommand) -> None:
        self._validate(COMMANDS["withdraw"], cmd)

    @workflow.update(name="decide")
    async def decide(self, cmd: DecisionCommand) -> DeclarationView:
        return await self._handle(COMMANDS["decide"], cmd)

    @decide.validator
    def _v_decide(self, cmd: DecisionCommand) -> None:
        self._validate(COMMANDS["decide"], cmd)

    @workflow.update(name="lodge_objection")
    async def lodge_objection(self, cmd: ObjectionCommand) -> ObjectionLodged:
        view = await self._handle(COMMANDS["lodge_objection"], cmd)
        assert isinstance(view, ObjectionLodged)
        return view

    @lodge_objection.validator
    def _v_lodge_objection(self, cmd: ObjectionCommand) -> None:
        self._validate(COMMANDS["lodge_objection"], cmd)

    @workflow.update(name="resolve_objection")
    async def resolve_objection(self, cmd: ObjectionResolutionCommand) -> DeclarationView:
        return await self._handle(COMMANDS["resolve_objection"], cmd)

    @resolve_objection.validator
    def _v_resolve_objection(self, cmd: ObjectionResolutionCommand) -> None:
        self._validate(COMMANDS["resolve_objection"], cmd)

    @workflow.update(name="record_payment")
    async def record_payment(self, cmd: PaymentCommand) -> DeclarationView:
        return await self._handle(COMMANDS["record_payment"], cmd)

    @record_payment.validator
    def _v_record_payment(self, cmd: PaymentCommand) -> None:
        self._validate(COMMANDS["record_payment"], cmd)

    @workflow.update(name="record_materials_received")
    async def record_materials_received(self, cmd: MaterialsReceivedCommand) -> DeclarationView:
        return await self._handle(COMMANDS["record_materials_received"], cmd)

    @record_materials_received.validator
    def _v_record_materials_received(self, cmd: MaterialsReceivedCommand) -> None:
        self._validate(COMMANDS["record_materials_received"], cmd)

    @workflow.update(name="record_defense")
    async def record_defense(self, cmd: DefenseCommand) -> DeclarationView:
        return await self._handle(COMMANDS["record_defense"], cmd)

    @record_defense.validator
    def _v_record_defense(self, cmd: DefenseCommand) -> None:
        self._validate(COMMANDS["record_defense"], cmd)

    @workflow.update(name="record_vote")
    async def record_vote(self, cmd: VoteCommand) -> DeclarationView:
        return await self._handle(COMMANDS["record_vote"], cmd)

    @record_vote.validator
    def _v_record_vote(self, cmd: VoteCommand) -> None:
        self._validate(COMMANDS["record_vote"], cmd)

    @workflow.update(name="record_misconduct")
    async def record_misconduct(self, cmd: MisconductCommand) -> DeclarationView:
        return await self._handle(COMMANDS["record_misconduct"], cmd)

    @record_misconduct.validator
    def _v_record_misconduct(self, cmd: MisconductCommand) -> None:
        self._validate(COMMANDS["record_misconduct"], cmd)

    @workflow.update(name="confirm_result")
    async def confirm_result(self, cmd: ResultConfirmationCommand) -> DeclarationView:
        return await self._handle(COMMANDS["confirm_result"], cmd)

    @confirm_result.validator
    def _v_confirm_result(self, cmd: ResultConfirmationCommand) -> None:
        self._validate(COMMANDS["confirm_result"], cmd)

    @workflow.update(name="change_deadlines")
    async def change_deadlines(self, cmd: DeadlineChangeCommand) -> DeclarationView:
        return await self._handle(COMMANDS["change_deadlines"], cmd)

    @change_deadlines.validator
    def _v_change_deadlines(self, cmd: DeadlineChangeCommand) -> None:
        self._validate(COMMANDS["change_deadlines"], cmd)

    @workflow.update(name="close_review")
    async def close_review(self, cmd: CloseReviewCommand) -> DeclarationView:
        return await self._handle(COMMANDS["close_review"], cmd)

    @close_review.validator
    def _v_close_review(self, cmd: CloseReviewCommand) -> None:
        self._validate(COMMANDS["close_review"], cmd)

    @workflow.update(name="calendar_changed")
    async def calendar_changed(self, cmd: CalendarChangedCommand) -> DeclarationView:
        return await self._handle(COMMANDS["calendar_changed"], cmd)

    # ------------------------------------------------------------------ signals

    @workflow.signal(dynamic=True)
    async def command_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """``<command>.signal``: the same command for fire-and-forget producers. A signal that
        names no command, or whose payload is not that command's model, is dropped with a
        warning (raising here would fail the workflow task again and again)."""
        spec = (
            COMMANDS.get(name.removesuffix(SIGNAL_SUFFIX)) if name.endswith(SIGNAL_SUFFIX) else None
        )
        if spec is None or len(args) != 1:
            workflow.logger.warning("signal %s names no command: dropped", name)
            return
        try:
            cmd = workflow.payload_converter().from_payload(args[0].payload, spec.model)
        except Exception as err:
            workflow.logger.warning(
                "signal %s does not carry a %s: dropped (%s)",
                name,
                spec.model.__name__,
                str(err)[:200],
            )
            return
        await self._handle(spec, cmd, fired=True)

    @workflow.signal(name="record_refusal")
    async def record_refusal(self, rec: RefusalRecord) -> None:
        """A caller whose update the validator refused reports it here for the audit trail."""
        self._chain.record_refusal(rec, workflow.now())
        await self._flush()
