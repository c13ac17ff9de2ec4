"""The worker's guard on what reaches a workflow's handlers (registered by ``worker.py``).

Every signal and update of the review chain takes exactly one model. The SDK already drops a
signal, and rejects an update, whose argument cannot be converted (which is what becomes of a
payload the codec could not authenticate: ``gateway.codec``). What it does not catch is a
signal or update sent with **no** argument, or with a ``null`` one: those need no conversion, so
the handler itself would fail on them, and an exception escaping a signal handler fails the
workflow task at every retry, wedging the declaration for good. Anyone who can reach Temporal
could send one. The guard drops such a signal (with a warning in the worker's log) and rejects
such an update, before any handler runs; nothing enters the workflow's state.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

__all__ = ["REJECTED", "CommandGuard"]

#: Error type of an update refused by the guard.
REJECTED = "MalformedCommand"


def _well_formed(args: Any) -> bool:
    """One command: one argument, not null. A dynamic handler (the declaration's
    ``<command>.signal``) receives the signal's name and its raw values: then one raw value,
    which the handler itself converts (and drops if it is not that command's model)."""
    if len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], list | tuple):
        return len(args[1]) == 1 and all(isinstance(v, RawValue) for v in args[1])
    return len(args) == 1 and args[0] is not None


class _GuardInbound(WorkflowInboundInterceptor):
    async def handle_signal(self, input: HandleSignalInput) -> None:
        if not _well_formed(input.args):
            workflow.logger.warning(
                "dropping signal %s: it carries %d argument(s), one command is expected",
                input.signal,
                len(input.args),
            )
            return
        await self.next.handle_signal(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        self._check(input)
        self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        self._check(input)  # also for an update without a validator
        return await self.next.handle_update_handler(input)

    @staticmethod
    def _check(input: HandleUpdateInput) -> None:
        if not _well_formed(input.args):
            raise ApplicationError(
                f"{input.update}: one command is expected / 指令格式错误",
                type=REJECTED,
                non_retryable=True,
            )


class CommandGuard(Interceptor):
    """Register with ``Worker(interceptors=[CommandGuard()])``."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _GuardInbound
