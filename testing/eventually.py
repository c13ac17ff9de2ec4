"""Waiting, in a test, for something that happens on its own (a signal landing, a timer's task, a
row written by an activity): one helper, always bounded, failing with what it waited for."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["eventually"]


async def eventually(
    probe: Callable[[], Any],
    done: Callable[[Any], object] = bool,
    *,
    within: float = 15.0,
    interval: float = 0.05,
    what: str = "the condition",
    retry_on: tuple[type[Exception], ...] = (),
) -> Any:
    """Call ``probe()`` (awaiting what it returns, if awaitable) until ``done(value)`` holds, and
    return that value. After ``within`` seconds of wall-clock time the test fails, naming ``what``
    and the last value seen. An exception of ``retry_on`` (say, a query before the workflow
    started) counts as not yet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: object = "(nothing yet)"
    while True:
        try:
            value = probe()
            if inspect.isawaitable(value):
                value = await value
        except retry_on as err:
            last = err
        else:
            if done(value):
                return value
            last = value
        if loop.time() > deadline:
            raise AssertionError(
                f"timed out after {within:g} s waiting for {what}; last: {last!r:.500}"
            )
        await asyncio.sleep(interval)
