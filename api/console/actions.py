"""The forms of the declaration page: one per entry of the command table, each posting to the
same path below ``/console`` that the JSON API serves (``api.routes.decisions.BINDINGS``) and
sent down the API's own path:

- the role gate is the command's table entry (:func:`api.routes.decisions.gate`), audited under
  the command's name;
- the fields are validated by the API's body model (``api.schemas``): 422 for what the API calls
  malformed;
- the command runs through :func:`api.routes.decisions.run`, which finds the declaration, checks
  the organisation (403, audited), builds the domain command and sends it as the workflow's update.

Success redirects to the declaration page (post/redirect/get). A refusal re-renders the page with
the API's status and the workflow's own reason; the workflow has audited it already.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar, get_args, get_origin
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.responses import RedirectResponse, Response

from api.console.auth import ConsoleAllow
from api.console.forms import Form, PostedForm
from api.console.render import attempt, console_router
from api.console.reviewer import declaration_page
from api.deps import ServicesDep
from api.routes.decisions import BINDINGS, PREFIX, Binding, gate, run
from api.services import Services
from domain.commands import COMMANDS, CommandSpec
from domain.models import Actor

__all__ = ["body_of", "form_fields", "router", "vote_fields"]

router = console_router()

B = TypeVar("B", bound=BaseModel)

#: Free-text fields kept on the page when a form is refused, so nothing typed is lost.
KEPT_FIELDS = ("opinion", "text", "finding", "reason", "receipt_no", "publicity_result_ref")


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
            [
                {**e, "loc": ("body", *e["loc"])}
                for e in err.errors(include_url=False, include_context=False)
            ]
        ) from err


def _is_list(annotation: Any) -> bool:
    options = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    return any(get_origin(option) is list for option in options)


def form_fields(model: type[BaseModel], form: Form) -> dict[str, Any]:
    """The fields of ``model`` as the form sent them: repeated fields (when the form has them)
    as lists of codes, a required field as its text (blank included, for the model to refuse),
    an optional one only when filled in."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if _is_list(info.annotation):
            if name in form.fields:
                out[name] = form.codes(name)
        elif info.is_required():
            out[name] = form.get(name)
        elif (value := form.optional(name)) is not None:
            out[name] = value
    return out


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
    page = partial(declaration_page, request, actor, services, declaration_id, kept=kept)
    shown, _ = await attempt(call, page)
    if shown is not None:
        return shown
    return RedirectResponse(
        f"/console/declarations/{quote(declaration_id, safe='')}?done={action}", 303
    )


def vote_fields(form: Form, suffix: str = "") -> dict[str, Any]:
    """The tally fields of a vote form (``suffix`` tells a meeting row apart)."""
    return {
        "attending": form.get(f"attending{suffix}"),
        "in_favor": form.get(f"in_favor{suffix}"),
        "against": form.get(f"against{suffix}"),
        "abstain": form.get(f"abstain{suffix}"),
        "recused": form.codes(f"recused{suffix}"),
    }


def _console_endpoint(spec: CommandSpec[Any], binding: Binding) -> Callable[..., Any]:
    async def endpoint(**kwargs: Any) -> Response:
        request: Request = kwargs["request"]
        form: Form = kwargs["form"]
        actor: Actor = kwargs["actor"]
        services: Services = kwargs["services"]
        params = {name: kwargs[name] for name in ("declaration_id", *binding.path_params)}

        async def call() -> Any:
            body = body_of(binding.body, form_fields(binding.body, form))
            return await run(spec, binding, services, actor, body, params)

        return await act(request, services, actor, params["declaration_id"], form, spec.name, call)

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter("request", keyword, annotation=Request)]
    parameters += [
        inspect.Parameter(name, keyword, annotation=str)
        for name in ("declaration_id", *binding.path_params)
    ]
    parameters += [
        inspect.Parameter("form", keyword, annotation=PostedForm),
        inspect.Parameter("actor", keyword, annotation=gate(spec, ConsoleAllow)),
        inspect.Parameter("services", keyword, annotation=ServicesDep),
    ]
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=Response
    )
    endpoint.__name__ = f"console_{spec.name}"
    return endpoint


for _name, _binding in BINDINGS.items():
    router.add_api_route(
        PREFIX + _binding.path, _console_endpoint(COMMANDS[_name], _binding), methods=["POST"]
    )
