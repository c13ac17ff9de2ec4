"""The gateway to Temporal: connecting, naming a declaration's workflow, and sending it a command.

It sits below the activities (the campaign fan-out sends commands too) and above the store and the
domain, so every caller (the API, the CLI, the activities, tests) reaches a declaration the same
way and gets the workflow's own reason when it refuses.

``send`` runs a command as the workflow's update. When the workflow's validator refuses it,
nothing entered the history, so ``send`` reports the refusal back with the ``record_refusal``
signal: the audit trail then holds it in order with everything else. Either way the caller gets
:class:`DecisionRefused` carrying the workflow's own reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError

from domain.models import Command, DeclarationView, RefusalRecord
from domain.states import label
from settings import Settings

__all__ = [
    "REFUSED",
    "REFUSED_AUDITED",
    "SIGNAL_SUFFIX",
    "DecisionRefused",
    "DeclarationEnded",
    "connect",
    "handle_for",
    "refusal_code",
    "runtime_for",
    "send",
    "view",
    "workflow_id",
]

V = TypeVar("V", bound=DeclarationView)

#: Error type of an update refused by its validator: nothing entered the history, so the caller
#: reports the refusal back with the ``record_refusal`` signal.
REFUSED = "DecisionRefused"
#: Error type of a refusal found while handling (it needed the store): already audited.
REFUSED_AUDITED = "DecisionRefusedAudited"


#: A command sent as a fire-and-forget signal is named ``<command>.signal``.
SIGNAL_SUFFIX = ".signal"


class DecisionRefused(Exception):
    """The workflow refused a decision; ``reason`` is meant for the reviewer, ``code`` is the
    stable refusal code (``<command>.<rule>``, e.g. ``record_payment.wrong_amount``)."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def refusal_code(error: ApplicationError) -> str:
    """The refusal code the workflow put in the error's details."""
    details = error.details
    if details and isinstance(details[0], dict):
        return str(details[0].get("code", ""))
    return ""


class DeclarationEnded(DecisionRefused):
    """The workflow has completed: no decision can reach it any more."""


def workflow_id(declaration_id: str) -> str:
    """The workflow id derived from the declaration id."""
    return f"declaration-{declaration_id}"


_runtime: Runtime | None = None


def runtime_for(settings: Settings) -> Runtime | None:
    """One SDK runtime per process, exporting the SDK's metrics for Prometheus when asked."""
    global _runtime
    if not settings.sdk_metrics_bind_address:
        return None
    if _runtime is None:
        _runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=settings.sdk_metrics_bind_address)
            )
        )
    return _runtime


async def connect(settings: Settings) -> Client:
    """The process's one Temporal client, with the service's data converter (pydantic, and the
    payload codec when ``payload_keys`` is set: :mod:`gateway.codec`)."""
    from gateway.codec import data_converter

    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime_for(settings),
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
    report: Callable[[RefusalRecord], Awaitable[None]] | None = None,
) -> V:
    """Run one command; raise :class:`DecisionRefused` with the workflow's reason.

    ``update_id``, when given, lets Temporal recognise a repeated delivery of the same command
    to the same run (a retried fan-out) and answer it without running it again. ``report``
    records a refusal the validator answered (nothing entered the history); by default it is
    signalled to the workflow as ``record_refusal``."""
    handle = handle_for(client, declaration_id)
    try:
        return await handle.execute_update(update, cmd, id=update_id, result_type=result_type)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == REFUSED:
            record = RefusalRecord(
                actor=cmd.actor,
                action=update,
                reason=cause.message,
                code=refusal_code(cause),
                detail={"command": cmd.model_dump(mode="json", exclude={"actor"})},
            )
            if report is not None:
                await report(record)
            else:
                await handle.signal("record_refusal", record)
            raise DecisionRefused(cause.message, refusal_code(cause)) from err
        if isinstance(cause, ApplicationError) and cause.type == REFUSED_AUDITED:
            raise DecisionRefused(cause.message, refusal_code(cause)) from err
        raise
    except RPCError as err:
        if await _has_ended(handle):
            final = await view(client, declaration_id)
            raise DeclarationEnded(
                f"该申报已结束（{label(final.state)}），不能再操作 / the declaration has ended",
                f"{update}.ended",
            ) from err
        raise


async def _has_ended(handle: WorkflowHandle[Any, Any]) -> bool:
    try:
        desc = await handle.describe()
    except RPCError:
        return False
    return desc.close_time is not None
