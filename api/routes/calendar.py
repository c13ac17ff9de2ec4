"""``PUT /calendar/{year}``: an administrator loads a year's official holidays and adjusted
working days (domain.md §7); open declarations whose deadlines were provisional recompute them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.deps import Allow, ServicesDep
from api.fanout import fan_out
from api.queries import provisional_in_year
from api.schemas import CalendarBody
from api.services import in_session
from domain.calendar import CalendarYear
from domain.models import Actor, CalendarChangedCommand
from store.calendar import put_calendar_year

router = APIRouter(prefix="/calendar", tags=["calendar"])

Admin = Annotated[Actor, Depends(Allow("admin"))]


@router.put("/{year}")
async def put_calendar(
    year: Annotated[int, Path(ge=2000, le=2100)],
    body: CalendarBody,
    actor: Admin,
    services: ServicesDep,
) -> dict[str, Any]:
    try:
        data = CalendarYear(
            year=year, version=body.version, holidays=body.holidays, workdays=body.workdays
        )
    except ValidationError as err:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])}
             for e in err.errors(include_url=False, include_context=False)]
        ) from err  # fmt: skip
    now = await services.clock()
    changed = await in_session(services.store, lambda s: put_calendar_year(s, data, loaded_at=now))
    ids = await in_session(services.store, lambda s: provisional_in_year(s, year), readonly=True)
    cmd = CalendarChangedCommand(actor=actor, year=year, version=body.version)
    result = await fan_out(services, actor, ids, "calendar_changed", cmd)
    return {"year": year, "version": body.version, "changed": changed, **result.model_dump()}
