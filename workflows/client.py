"""Calling a declaration workflow from outside (the API, the CLI, tests).

``send`` runs a decision as an update. When the workflow's validator refuses it, nothing entered
the history, so ``send`` reports the refusal back with the ``record_refusal`` signal: the audit
trail then holds it in order with everything else. Either way the caller gets
:class:`DecisionRefused` carrying the workflow's own reason.
"""

from __future__ import annotations

from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from domain.chain import Chain, label
from domain.models import Command, DeclarationStart, DeclarationView, RefusalRecord
from workflows import search
from workflows.declaration import (
    REFUSED,
    REFUSED_AUDITED,
    WORKFLOW_TYPE,
    DeclarationWorkflow,
    workflow_id,
)

V = TypeVar("V", bound=DeclarationView)


class DecisionRefused(Exception):
    """The workflow refused a decision; ``reason`` is meant for the reviewer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DeclarationEnded(DecisionRefused):
    """The workflow has completed: no decision can reach it any more."""


async def start_declaration(
    client: Client, task_queue: str, start: DeclarationStart
) -> WorkflowHandle[Any, DeclarationView]:
    indexed = await search.ensure_registered(client)
    start = start.model_copy(update={"search_attributes": indexed})
    return await client.start_workflow(
        DeclarationWorkflow.run,
        start,
        id=workflow_id(start.declaration_id),
        task_queue=task_queue,
        search_attributes=search.attributes(Chain.start(start).view()) if indexed else None,
    )


def handle_for(client: Client, declaration_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(workflow_id(declaration_id))


async def view(client: Client, declaration_id: str) -> DeclarationView:
    return await handle_for(client, declaration_id).query("view", result_type=DeclarationView)


async def send(
    client: Client,
    declaration_id: str,
    update: str,
    cmd: Command,
    result_type: type[V] = DeclarationView,  # type: ignore[assignment]
    *,
    update_id: str | None = None,
) -> V:
    """Run one decision; raise :class:`DecisionRefused` with the workflow's reason.

    ``update_id``, when given, lets Temporal recognise a repeated delivery of the same decision
    to the same run (a retried fan-out) and answer it without running it again."""
    handle = handle_for(client, declaration_id)
    try:
        return await handle.execute_update(update, cmd, id=update_id, result_type=result_type)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == REFUSED:
            await handle.signal(
                "record_refusal",
                RefusalRecord(actor=cmd.actor, action=update, reason=cause.message,
                              detail={"command": cmd.model_dump(mode="json", exclude={"actor"})}),
            )  # fmt: skip
            raise DecisionRefused(cause.message) from err
        if isinstance(cause, ApplicationError) and cause.type == REFUSED_AUDITED:
            raise DecisionRefused(cause.message) from err
        raise
    except RPCError as err:
        if await _has_ended(handle):
            final = await view(client, declaration_id)
            raise DeclarationEnded(
                f"该申报已结束（{label(final.state)}），不能再操作 / the declaration has ended"
            ) from err
        raise


async def _has_ended(handle: WorkflowHandle[Any, Any]) -> bool:
    try:
        desc = await handle.describe()
    except RPCError:
        return False
    return desc.close_time is not None


__all__ = [
    "WORKFLOW_TYPE",
    "DecisionRefused",
    "DeclarationEnded",
    "handle_for",
    "send",
    "start_declaration",
    "view",
]
