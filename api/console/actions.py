"""The forms of the declaration page. Each posts here and is sent down the API's own path:

- the role gate is the API route's (``ConsoleAllow.like``), audited under the same action name;
- the fields are validated by the API's body model (``api.schemas``): 422 for what the API calls
  malformed;
- the decision runs through the JSON route's own function (``api.routes.decisions``), which finds
  the declaration, checks the organisation (403, audited), builds the domain command and sends it
  as the workflow's update (``api.commands``).

Success redirects to the declaration page (post/redirect/get). A refusal re-renders the page with
the API's status and the workflow's own reason; the workflow has audited it already.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, get_args
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import RedirectResponse, Response

from api.console.auth import ConsoleAllow
from api.console.forms import Form, PostedForm
from api.console.render import console_router, validation_messages
from api.console.reviewer import declaration_page
from api.deps import ServicesDep
from api.routes import decisions
from api.schemas import (
    DecisionBody,
    DefenseBody,
    MaterialsReceivedBody,
    MisconductBody,
    ObjectionBody,
    PaymentBody,
    ResolutionBody,
    VoteBody,
    WithdrawBody,
)
from api.services import Services
from domain.models import Actor

__all__ = ["body_of", "router"]

router = console_router()

B = TypeVar("B", bound=BaseModel)

#: Free-text fields kept on the page when a form is refused, so nothing typed is lost.
KEPT_FIELDS = ("opinion", "text", "finding", "reason", "receipt_no", "publicity_result_ref")


Submitter = Annotated[Actor, Depends(ConsoleAllow.like(decisions.Applicant, action="submit"))]
Withdrawer = Annotated[Actor, Depends(ConsoleAllow.like(decisions.Applicant, action="withdraw"))]
Decider = Annotated[Actor, Depends(ConsoleAllow.like(decisions.Reviewer, action="decide"))]
Objector = Annotated[Actor, Depends(ConsoleAllow.like(decisions.Anyone, action="lodge_objection"))]
Resolver = Annotated[
    Actor, Depends(ConsoleAllow.like(decisions.Resolver, action="resolve_objection"))
]
Payer = Annotated[Actor, Depends(ConsoleAllow.like(decisions.Finance, action="record_payment"))]
Receiver = Annotated[
    Actor, Depends(ConsoleAllow.like(decisions.Committee, action="record_materials_received"))
]
Examiner = Annotated[
    Actor, Depends(ConsoleAllow.like(decisions.Committee, action="record_defense"))
]
Voter = Annotated[Actor, Depends(ConsoleAllow.like(decisions.Committee, action="record_vote"))]
Finder = Annotated[
    Actor, Depends(ConsoleAllow.like(decisions.MisconductFinder, action="record_misconduct"))
]


def _scalar_type(annotation: Any) -> Any:
    """``int`` for ``int``, ``StrictInt`` or ``int | None``; likewise bool and float."""
    options = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    return options[0] if len(options) == 1 else None


def _typed(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Form fields are text; the JSON API takes numbers and booleans only. Turn the text of a
    number or yes/no field into its JSON value and leave the rest for the model to judge."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        field = model.model_fields.get(name)
        kind = _scalar_type(field.annotation) if field is not None else None
        if isinstance(value, str) and kind in (int, float, bool):
            text = value.strip()
            if kind is bool and text.lower() in ("true", "on", "1", "false", "off", "0"):
                value = text.lower() in ("true", "on", "1")
            elif kind is int and re.fullmatch(r"[+-]?\d+", text):
                value = int(text)
            elif kind is float and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
                value = float(text)
        out[name] = value
    return out


def body_of(model: type[B], data: dict[str, Any]) -> B:
    """The API's body model from form fields, or 422 with its messages."""
    try:
        return model.model_validate(_typed(model, data))
    except ValidationError as err:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])}
             for e in err.errors(include_url=False, include_context=False)]
        ) from err  # fmt: skip


async def act(
    request: Request,
    services: Services,
    actor: Actor,
    declaration_id: str,
    form: Form,
    action: str,
    call: Callable[[], Awaitable[Any]],
) -> Response:
    """Run one decision; redirect on success, else show the page with the reason."""
    kept = {name: form.get(name) for name in KEPT_FIELDS if form.get(name)}
    try:
        await call()
    except RequestValidationError as err:
        return await declaration_page(request, actor, services, declaration_id, status_code=422,
                                      errors=validation_messages(err.errors()), kept=kept)  # fmt: skip
    except HTTPException as err:
        if err.status_code in (401, 404):
            raise
        return await declaration_page(request, actor, services, declaration_id,
                                      status_code=err.status_code, refusal=str(err.detail),
                                      kept=kept)  # fmt: skip
    return RedirectResponse(
        f"/console/declarations/{quote(declaration_id, safe='')}?done={action}", 303
    )


@router.post("/declarations/{declaration_id}/submit")
async def submit(
    request: Request, declaration_id: str, form: PostedForm, actor: Submitter,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        return await decisions.submit(declaration_id, actor, services, None)

    return await act(request, services, actor, declaration_id, form, "submit", call)


@router.post("/declarations/{declaration_id}/withdraw")
async def withdraw(
    request: Request, declaration_id: str, form: PostedForm, actor: Withdrawer,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(WithdrawBody, {"reason": form.get("reason")})
        return await decisions.withdraw(declaration_id, actor, services, body)

    return await act(request, services, actor, declaration_id, form, "withdraw", call)


@router.post("/declarations/{declaration_id}/decisions")
async def decide(
    request: Request, declaration_id: str, form: PostedForm, actor: Decider,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(DecisionBody, {
            "stage": form.get("stage"), "outcome": form.get("outcome"),
            "opinion": form.get("opinion"), "reasons": form.codes("reasons"),
            "publicity_result_ref": form.optional("publicity_result_ref"),
        })  # fmt: skip
        return await decisions.decide(declaration_id, body, actor, services)

    return await act(request, services, actor, declaration_id, form, "decide", call)


@router.post("/declarations/{declaration_id}/objections")
async def lodge_objection(
    request: Request, declaration_id: str, form: PostedForm, actor: Objector,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(ObjectionBody, {"text": form.get("text")})
        return await decisions.lodge_objection(declaration_id, body, actor, services)

    return await act(request, services, actor, declaration_id, form, "lodge_objection", call)


@router.post("/declarations/{declaration_id}/objections/{objection_id}/resolution")
async def resolve_objection(
    request: Request, declaration_id: str, objection_id: str, form: PostedForm,
    actor: Resolver, services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(ResolutionBody, {
            "upheld": form.get("upheld"), "opinion": form.get("opinion"),
            "outcome": form.optional("outcome"),
        })  # fmt: skip
        return await decisions.resolve_objection(
            declaration_id, objection_id, body, actor, services
        )

    return await act(request, services, actor, declaration_id, form, "resolve_objection", call)


@router.post("/declarations/{declaration_id}/payments")
async def record_payment(
    request: Request, declaration_id: str, form: PostedForm, actor: Payer,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(PaymentBody, {"amount": form.get("amount"),
                                     "receipt_no": form.get("receipt_no")})  # fmt: skip
        return await decisions.record_payment(declaration_id, body, actor, services)

    return await act(request, services, actor, declaration_id, form, "record_payment", call)


@router.post("/declarations/{declaration_id}/materials-received")
async def record_materials_received(
    request: Request, declaration_id: str, form: PostedForm, actor: Receiver,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(MaterialsReceivedBody, {"form_id": form.get("form_id")})
        return await decisions.record_materials_received(declaration_id, body, actor, services)

    return await act(request, services, actor, declaration_id, form,
                     "record_materials_received", call)  # fmt: skip


@router.post("/declarations/{declaration_id}/defense")
async def record_defense(
    request: Request, declaration_id: str, form: PostedForm, actor: Examiner,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(DefenseBody, {
            "passed": form.get("passed"), "mode": form.get("mode"),
            "score": form.optional("score"), "opinion": form.get("opinion"),
        })  # fmt: skip
        return await decisions.record_defense(declaration_id, body, actor, services)

    return await act(request, services, actor, declaration_id, form, "record_defense", call)


def vote_fields(form: Form, suffix: str = "") -> dict[str, Any]:
    """The tally fields of a vote form (``suffix`` tells a meeting row apart)."""
    return {
        "attending": form.get(f"attending{suffix}"),
        "in_favor": form.get(f"in_favor{suffix}"),
        "against": form.get(f"against{suffix}"),
        "abstain": form.get(f"abstain{suffix}"),
        "recused": form.codes(f"recused{suffix}"),
    }


@router.post("/declarations/{declaration_id}/vote")
async def record_vote(
    request: Request, declaration_id: str, form: PostedForm, actor: Voter,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(VoteBody, vote_fields(form))
        return await decisions.record_vote(declaration_id, body, actor, services)

    return await act(request, services, actor, declaration_id, form, "record_vote", call)


@router.post("/declarations/{declaration_id}/misconduct")
async def record_misconduct(
    request: Request, declaration_id: str, form: PostedForm, actor: Finder,
    services: ServicesDep,
) -> Response:  # fmt: skip
    async def call() -> Any:
        body = body_of(MisconductBody, {"finding": form.get("finding"),
                                        "unit_at_fault": form.get("unit_at_fault") == "true"})  # fmt: skip
        return await decisions.record_misconduct(declaration_id, body, actor, services)

    return await act(request, services, actor, declaration_id, form, "record_misconduct", call)
