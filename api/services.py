"""What every request shares: the one settings object, the one Temporal client, the store and
the clock. Built once by :func:`api.app.create_app` and kept on ``app.state.services``."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session
from temporalio.client import Client

from api.auth import Identity
from api.metrics import Metrics
from settings import Settings
from store.db import Store
from store.materials.objects import ObjectStore

if TYPE_CHECKING:
    from api.refusals import RefusalWindows

__all__ = ["Clock", "Services", "in_session", "wall_clock"]

T = TypeVar("T")

Clock = Callable[[], Awaitable[datetime]]


async def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    store: Store
    metrics: Metrics
    client: Client | None = None
    #: Where "now" comes from: the wall clock, or (in tests) the Temporal test server's clock, so
    #: that instants the API stamps agree with the workflows' time.
    clock: Clock = field(default=wall_clock)
    owns_client: bool = False
    #: What never changes about a declaration once recorded (campaign, unit, authority chain,
    #: who filed it), by declaration id, newest use last (``api.subjects.load_facts``).
    facts: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    #: Where uploaded materials' bytes live (``REVIEWCHAIN_STORAGE_URL``, docs/rules.md §19).
    objects: ObjectStore | None = None
    #: Checks callers' tokens (keys, claims, revocations); built from ``settings`` and ``store``.
    identity: Identity = field(init=False)
    #: Repeated refusals of one caller on one target, counted (``api.refusals``).
    refusal_windows: RefusalWindows = field(init=False)

    def __post_init__(self) -> None:
        from api.refusals import RefusalWindows  # api.refusals builds on this module

        self.identity = Identity(self.settings, self.store)
        self.refusal_windows = RefusalWindows(self.settings.refusal_window_seconds)


async def in_session(store: Store, work: Callable[[Session], T], *, readonly: bool = False) -> T:
    """Run blocking store code in one transaction, off the event loop."""

    def run() -> T:
        with store.session(readonly=readonly) as session:
            return work(session)

    return await asyncio.to_thread(run)
