"""Starting a declaration's workflow, and reopening one an extension (延期) brings back.
Sending it commands goes through :mod:`gateway`."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.chain import Chain, ChainState
from domain.models import DeclarationStart, DeclarationView, Reopening
from gateway import handle_for, workflow_id
from workflows import search
from workflows.declaration import DeclarationWorkflow

__all__ = ["reopen_declaration", "start_declaration"]


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


async def reopen_declaration(
    client: Client, task_queue: str, declaration_id: str, reopening: Reopening
) -> bool:
    """Continue an ended declaration in a new run under its workflow id, from its last state
    (docs/rules.md §3 延期 reopening). False when it runs already (reopened before: a repeated
    request changes nothing)."""
    handle = handle_for(client, declaration_id)
    carried = await handle.query("carried", result_type=dict)
    state = ChainState.model_validate(carried)
    start = DeclarationStart(
        declaration_id=declaration_id,
        campaign=state.campaign,
        declaration=state.declaration,
        filed_by=state.filed_by,
        created_at=state.created_at,
        carried=carried,
        reopen=reopening,
    )
    indexed = await search.ensure_registered(client)
    start = start.model_copy(update={"search_attributes": indexed})
    try:
        await client.start_workflow(
            DeclarationWorkflow.run,
            start,
            id=workflow_id(declaration_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        return False
    return True
