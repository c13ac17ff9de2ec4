"""Reopening the declarations a deadline ended, when the committee extends that deadline after
it passed (延期 on the deadline day, docs/rules.md §3: ``"reopen": true`` on a deadline change).

Each declaration the old deadline ended (its last accepted event is that deadline's timer) and
the new one lets go on continues, in a new run under the same workflow id, from the state it was
in when it ended, with its history and audit chain; the reopening is the first event of that
run. A repeated request finds those already running and leaves them alone.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from api.commands import require_client
from api.services import Services, in_session
from domain.chain.changes import REOPENABLE
from domain.models import Actor, Campaign, CampaignDeadlines, Reopening
from store.queries.history import endings
from workflows.client import reopen_declaration

__all__ = ["reopen_ended"]

log = structlog.get_logger()


async def reopen_ended(
    services: Services,
    before: Campaign,
    after: Campaign,
    actor: Actor,
    now: datetime,
    change_id: str,
) -> list[str]:
    """Reopen what ``before``'s deadlines ended and ``after``'s extend past ``now``; the ids."""
    client = require_client(services)
    ended = await in_session(
        services.store, lambda s: endings(s, before.id, list(REOPENABLE)), readonly=True
    )
    deadlines = CampaignDeadlines.of(after)
    reopened: list[str] = []
    for ending in ended:
        field = REOPENABLE[ending.action]
        old, new = getattr(before, field), getattr(after, field)
        if new is None or new <= now or (old is not None and new <= old) or not ending.stage_before:
            continue
        reopening = Reopening(
            actor=actor,
            at=now,
            change_id=change_id,
            ended_by=ending.action,
            resume=ending.stage_before,
            deadlines=deadlines,
        )
        task_queue = services.settings.task_queue
        if await reopen_declaration(client, task_queue, ending.declaration_id, reopening):
            reopened.append(ending.declaration_id)
            log.info(
                "declaration.reopened",
                declaration_id=ending.declaration_id,
                ended_by=ending.action,
                resume=ending.stage_before,
            )
    return reopened
