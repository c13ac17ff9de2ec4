"""What every activity shares: running the blocking store code off the event loop, and turning
the store's business refusals into non-retryable ``ApplicationError``s of the same type."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from store.errors import Refusal

__all__ = ["MAX_MESSAGE", "log", "refused", "run_blocking"]

T = TypeVar("T")
A = TypeVar("A")

#: Error text is bounded before it enters a payload (and the workflow's history).
MAX_MESSAGE = 2000

log = structlog.get_logger()


def refused(err: Refusal) -> ApplicationError:
    """The non-retryable error the workflow sees for a business refusal."""
    message = str(err)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return ApplicationError(message, type=err.type, non_retryable=True)


async def run_blocking(fn: Callable[[A], T], request: A, *, declaration_id: str) -> T:
    """Run ``fn(request)`` (store code, blocking) in a worker thread, with the declaration id
    bound to every log line; a :class:`Refusal` becomes a non-retryable ``ApplicationError``."""
    info = activity.info()
    with structlog.contextvars.bound_contextvars(
        declaration_id=declaration_id, activity=info.activity_type, attempt=info.attempt
    ):
        try:
            return await asyncio.to_thread(fn, request)
        except Refusal as err:
            log.warning("activity.refused", error_type=err.type, reason=str(err)[:MAX_MESSAGE])
            raise refused(err) from err
