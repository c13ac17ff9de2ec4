"""``PUT /calendar/{year}``: an administrator loads a year's official holidays and adjusted
working days (docs/rules.md §7); open declarations whose deadlines were provisional recompute them.

The recompute is durable: the ``calendar-recompute`` workflow (:mod:`workflows.campaign_ops`)
sends the change to each declaration concerned, which records ``calendar.changed`` and, per
deadline, ``deadline.<kind>.recomputed`` or ``.confirmed`` with its new explanation. The call waits
for it (provisional declarations are few) and answers 200 with the summary; should it take longer
than :data:`WAIT_SECONDS`, it answers 202 with the change's id, and loading the same data again
follows the same run.

Both answers carry ``difference``: the holidays and adjusted working days the load adds and
removes against the year in force before it (loaded, packaged or provisional). A load that
would remove official holidays is refused with 409 and that difference, writing nothing, unless
the body says ``"replace": true`` (an empty list must not silently undo the official year).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from api.answers import JSONAnswer
from api.commands import require_client
from api.deps import Allow, ServicesDep
from api.openapi import problems
from api.problems import problem_response
from api.refusals import Refusals
from api.schemas import CalendarBody
from api.services import in_session
from domain.calendar import CalendarYear
from domain.campaign_ops import CalendarRecomputeRun, calendar_change_id
from domain.models import Actor, CalendarChangedCommand
from store.calendar import HolidaysDropped, put_calendar_year
from store.queries.declarations import provisional_in_year
from workflows.campaign_client import finished_within, start_calendar_recompute
from workflows.campaign_ops import calendar_recompute_workflow_id

router = APIRouter(prefix="/calendar", tags=["calendar"])

Admin = Annotated[Actor, Depends(Allow("admin"))]

#: How long the call waits for the recompute before answering 202.
WAIT_SECONDS = 60.0
#: Declarations addressed at once: the recompute of a publicity end runs an activity in each
#: declaration, so the fan-out leaves most of the worker's activity slots to them.
BATCH = 20


@router.put(
    "/{year}",
    response_model=None,
    responses={
        202: {"description": "loaded; the recompute is still under way"},
        **problems(409, s409="the load would remove official holidays: send replace: true"),
    },
)
async def put_calendar(
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: CalendarBody,
    actor: Admin,
    services: ServicesDep,
) -> dict[str, Any] | JSONResponse:
    try:
        data = CalendarYear(
            year=year, version=body.version, holidays=body.holidays, workdays=body.workdays
        )
    except ValidationError as err:
        raise RequestValidationError(
            [
                {**e, "loc": ("body", *e["loc"])}
                for e in err.errors(include_url=False, include_context=False)
            ]
        ) from err
    client = require_client(services)  # before anything is written
    now = await services.clock()
    try:
        loaded = await in_session(
            services.store,
            lambda s: put_calendar_year(s, data, loaded_at=now, replace=body.replace),
        )
    except HolidaysDropped as refused:
        difference = refused.difference.model_dump(mode="json")
        await Refusals(services).on_access(
            actor,
            action="put_calendar",
            reason=str(refused),
            status=409,
            detail={"year": year, "version": body.version, "difference": difference},
        )
        return problem_response(
            409,
            str(refused),
            code="put_calendar.holidays_dropped",
            extra={"year": year, "difference": difference},
        )
    ids = await in_session(services.store, lambda s: provisional_in_year(s, year), readonly=True)
    change_id = calendar_change_id(year, body.version, body.holidays, body.workdays)
    cmd = CalendarChangedCommand(actor=actor, year=year, version=body.version)
    run = CalendarRecomputeRun(
        change_id=change_id, year=year, command=cmd, declaration_ids=ids, batch_size=BATCH
    )
    await start_calendar_recompute(client, services.settings.task_queue, run)
    done = await finished_within(
        client, calendar_recompute_workflow_id(year, change_id), WAIT_SECONDS
    )
    answer: dict[str, Any] = {
        "year": year,
        "version": body.version,
        "changed": loaded.changed,
        "change_id": change_id,
        "difference": loaded.difference.model_dump(mode="json"),
    }
    if done is None or not done.finished:
        answer.update(declarations=len(ids), finished=False, done=done.done if done else 0)
        return JSONAnswer(answer, status_code=202)
    failed = [x.model_dump() for x in done.failed]
    return {
        **answer,
        "declarations": done.total,
        "updated": done.updated,
        "ended": done.ended,
        "failed": failed,
        "finished": True,
    }
