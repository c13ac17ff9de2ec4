"""Driving a declaration workflow in tests and benchmarks: the clock of the time-skipping
server, polling the view, and :class:`Declaration`, one declaration and the commands a reviewer
would send."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.models import (
    Campaign,
    DecisionCommand,
    DeclarationInput,
    DeclarationView,
    SubmitCommand,
)
from gateway import send, view
from testing import factories as f
from testing.eventually import eventually
from workflows.client import start_declaration


def after(at: datetime | None, **delta: float) -> datetime:
    """``at`` moved by ``timedelta(**delta)``; ``at`` must be set (a deadline the view shows)."""
    assert at is not None, "the view has no such deadline"
    return at + timedelta(**delta)


async def now(env: WorkflowEnvironment) -> datetime:
    return (await env.get_current_time()).astimezone(f.BJ)


async def skip_to(env: WorkflowEnvironment, when: datetime) -> None:
    """Move the time-skipping server's clock to ``when`` (never backwards)."""
    delta = (when - await env.get_current_time()).total_seconds()
    if delta > 0:
        await env.sleep(delta)


async def wait_for(
    client: Client, declaration_id: str, predicate: Any, within: float = 15.0
) -> DeclarationView:
    """Poll the query until ``predicate(view)`` holds (the timer's task may still be running)."""
    return await eventually(
        lambda: view(client, declaration_id), predicate, within=within, what=declaration_id
    )


async def wait_state(client: Client, declaration_id: str, state: str) -> DeclarationView:
    return await wait_for(client, declaration_id, lambda v: v.state == state)


class Declaration:
    """One declaration under test: its id, handle and the commands a reviewer would send."""

    def __init__(
        self, client: Client, declaration_id: str, first_run_id: str | None = None
    ) -> None:
        self.client = client
        self.id = declaration_id
        self.first_run_id = first_run_id

    @property
    def handle(self) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(
            f"declaration-{self.id}", result_type=DeclarationView
        )

    async def view(self) -> DeclarationView:
        return await view(self.client, self.id)

    async def send(self, update: str, cmd: Any, **kw: Any) -> Any:
        return await send(self.client, self.id, update, cmd, **kw)

    async def submit(self) -> DeclarationView:
        return await self.send("submit", SubmitCommand(actor=f.APPLICANT))

    async def decide(self, actor: Any, stage: str, outcome: str, **kw: Any) -> DeclarationView:
        if outcome != "approve":
            kw.setdefault("reasons", ["missing_material"])
        return await self.send(
            "decide", DecisionCommand(actor=actor, stage=stage, outcome=outcome, **kw)
        )


async def create(
    client: Client,
    task_queue: str,
    at: datetime,
    campaign: Campaign | None = None,
    decl: DeclarationInput | None = None,
    **campaign_overrides: Any,
) -> Declaration:
    c = campaign or f.campaign(at, **campaign_overrides)
    start = f.start(c, decl or f.declaration(c), at)
    handle = await start_declaration(client, task_queue, start)
    d = Declaration(client, start.declaration_id, handle.first_execution_run_id)
    await wait_for(client, d.id, lambda v: v.version >= 1)
    return d
