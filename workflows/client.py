"""Starting a declaration's workflow. Sending it commands goes through :mod:`gateway`."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowHandle

from domain.chain import Chain
from domain.models import DeclarationStart, DeclarationView
from gateway import workflow_id
from workflows import search
from workflows.declaration import DeclarationWorkflow

__all__ = ["start_declaration"]


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
