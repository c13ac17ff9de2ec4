"""The commands on one declaration, over HTTP: one route per entry of the command table
(``domain.commands``), built from :data:`BINDINGS`. Each answers once the workflow has taken the
command, with the declaration's new view.

A route admits the roles its command's table entry names (403 otherwise, audited under the
command's name), finds the declaration (404) and checks the caller's organisation (403, audited),
builds the domain command from the body and the path (422 on the command's own constraints) and
sends it as the workflow's update (``api.commands.execute``); a refusal answers 409 with the
workflow's own reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from api.commands import build, execute, target
from api.deps import Allow, ServicesDep
from api.materials import check_decision
from api.openapi import problems
from api.schemas import (
    DecisionBody,
    DefenseBody,
    MaterialsReceivedBody,
    MisconductBody,
    ObjectionBody,
    PaymentBody,
    ResolutionBody,
    SubmitBody,
    VoteBody,
    WithdrawBody,
)
from api.services import Services, in_session
from api.subjects import DeclarationFacts
from domain.commands import COMMANDS, CommandSpec
from domain.models import Actor, Command, DeclarationView, ObjectionLodged
from store.organisations import members_of

__all__ = ["BINDINGS", "PREFIX", "Binding", "command_fields", "router", "run"]

PREFIX = "/declarations/{declaration_id}"


def _no_extra(actor: Actor) -> dict[str, Any]:
    return {}


def _objection_id(view: dict[str, Any]) -> dict[str, Any]:
    """An objector learns the id of their objection and nothing else of the declaration
    (docs/rules.md §10.8)."""
    return {"objection_id": view["objection_id"]}


#: A check the API makes before it sends a command (409 or 422 of its own, audited where 409).
Check = Callable[[Services, Actor, DeclarationFacts, Any], Awaitable[None]]


def _payer(actor: Actor) -> dict[str, Any]:
    """A payment is recorded for the finance office of the clerk who records it."""
    return {"payer_org": actor.org}


async def _nothing_stored(services: Services, facts: DeclarationFacts) -> dict[str, Any]:
    return {}


async def _committee_members(services: Services, facts: DeclarationFacts) -> dict[str, Any]:
    """docs/rules.md §2.8, §11: the quorum is measured against the members registered for the
    campaign's committee, never a number typed with the vote. A campaign made before the
    registry keeps the number it gave (the chain reads it when ``members`` is left out); a
    committee without registered members leaves it out too, and the chain refuses the vote."""
    committee = facts.committee_org
    if committee is None:
        return {}
    members = await in_session(services.store, lambda s: members_of(s, committee), readonly=True)
    return {"members": members} if members else {}


@dataclass(frozen=True)
class Binding:
    """How one command is reached over HTTP."""

    #: Below ``/declarations/{declaration_id}``; other ``{names}`` in it become command fields.
    path: str
    body: type[BaseModel]
    #: ``False``: the body may be left out (submit, withdraw).
    body_required: bool = True
    #: Fields that come from the caller rather than the body.
    from_caller: Callable[[Actor], dict[str, Any]] = _no_extra
    #: Fields that come from the store (the registry) rather than the body or the caller.
    from_store: Callable[[Services, DeclarationFacts], Awaitable[dict[str, Any]]] = _nothing_stored
    #: ``False``: anyone signed in may send it, whatever their organisation (objections).
    org_scoped: bool = True
    answer: type[DeclarationView] = DeclarationView
    #: The answer's shape when it is not the declaration's view, and its status.
    reply: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    status_code: int = 200
    summary: str = ""
    #: Checked before the command is sent: the unit's decisions against the declaration's
    #: materials (``api.materials.check_decision``, docs/rules.md §19).
    check: Check | None = None
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{"))
        object.__setattr__(self, "path_params", names)


#: Every command a person sends over HTTP; the campaign fan-outs send the others.
BINDINGS: dict[str, Binding] = {
    "submit": Binding("/submit", SubmitBody, body_required=False,
                      summary="Submit, or resubmit after a return"),
    "withdraw": Binding("/withdraw", WithdrawBody, body_required=False,
                        summary="Withdraw the declaration"),
    "decide": Binding("/decisions", DecisionBody, check=check_decision,
                      summary="Approve, return or reject at a review stage"),
    "lodge_objection": Binding("/objections", ObjectionBody, org_scoped=False,
                               answer=ObjectionLodged, reply=_objection_id, status_code=201,
                               summary="Object during a publicity (answers its id only)"),
    "resolve_objection": Binding("/objections/{objection_id}/resolution", ResolutionBody,
                                 summary="Resolve an objection"),
    "record_payment": Binding("/payments", PaymentBody, from_caller=_payer,
                              summary="Record the review fee (the same receipt twice: no effect)"),
    "record_materials_received": Binding("/materials-received", MaterialsReceivedBody,
                                         summary="Record the paper materials received"),
    "record_defense": Binding("/defense", DefenseBody, summary="Record the defense"),
    "record_vote": Binding("/vote", VoteBody, from_store=_committee_members,
                           summary="Record the review meeting's vote"),
    "record_misconduct": Binding("/misconduct", MisconductBody,
                                 summary="Record misconduct (弄虚作假)"),
}  # fmt: skip


def command_fields(
    binding: Binding, body: BaseModel | None, actor: Actor, params: dict[str, str]
) -> dict[str, Any]:
    """The command's fields: the body's (as sent), the path's and the caller's."""
    fields = body.model_dump(exclude_unset=True) if body is not None else {}
    fields.update({name: params[name] for name in binding.path_params})
    fields.update(binding.from_caller(actor))
    return fields


async def run(
    spec: CommandSpec[Any],
    binding: Binding,
    services: Services,
    actor: Actor,
    body: BaseModel | None,
    params: dict[str, str],
) -> dict[str, Any]:
    """Find the declaration, check the caller's organisation, build the command (with what the
    store knows for it, e.g. the committee's registered members) and send it."""
    declaration_id = params["declaration_id"]
    facts = await target(
        services, actor, declaration_id, action=spec.name, org_scoped=binding.org_scoped
    )
    fields = command_fields(binding, body, actor, params)
    fields.update(await binding.from_store(services, facts))
    cmd: Command = build(spec.model, actor, **fields)
    if binding.check is not None:
        await binding.check(services, actor, facts, cmd)
    view = await execute(services, actor, facts, cmd, result_type=binding.answer)
    return binding.reply(view) if binding.reply else view


def gate(spec: CommandSpec[Any], allow: type[Allow] = Allow) -> Any:
    """The route's role gate: the roles of the command's table entry, audited under its name."""
    return Annotated[Actor, Depends(allow(*sorted(spec.roles), action=spec.name))]


def _endpoint(spec: CommandSpec[Any], binding: Binding) -> Callable[..., Any]:
    async def endpoint(**kwargs: Any) -> dict[str, Any]:
        params = {name: kwargs[name] for name in ("declaration_id", *binding.path_params)}
        return await run(spec, binding, kwargs["services"], kwargs["actor"], kwargs["body"], params)

    body = binding.body if binding.body_required else binding.body | None
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter(name, keyword, annotation=str)
        for name in ("declaration_id", *binding.path_params)
    ]
    parameters += [
        inspect.Parameter(
            "body",
            keyword,
            annotation=Annotated[body, Body()],
            default=inspect.Parameter.empty if binding.body_required else None,
        ),
        inspect.Parameter("actor", keyword, annotation=gate(spec)),
        inspect.Parameter("services", keyword, annotation=ServicesDep),
    ]
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=dict[str, Any]
    )
    endpoint.__name__ = spec.name
    endpoint.__doc__ = f"{COMMANDS[spec.name].label} · {binding.summary}"
    return endpoint


router = APIRouter(prefix=PREFIX, tags=["decisions"])
for _name, _binding in BINDINGS.items():
    router.add_api_route(
        _binding.path,
        _endpoint(COMMANDS[_name], _binding),
        methods=["POST"],
        name=_name,
        summary=_binding.summary,
        status_code=_binding.status_code,
        responses=problems(
            409, s409="the declaration's state does not take it; `code` names the rule"
        ),
    )
