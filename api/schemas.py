"""Request and response bodies (docs/rules.md §15). Bodies forbid unknown fields (422).

Decision bodies are made from their domain command (:func:`command_body`): its fields without
the actor, who comes from the token, with the command's own bounds, so that the constraints live
in one place, ``domain.models``, and the OpenAPI document states each one that
:func:`api.commands.build` enforces.
"""

from __future__ import annotations

from copy import copy
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.fees import MAX_FEE
from domain.models import (
    MEMBERS_RULE,
    DecisionCommand,
    DeclarationInput,
    DefenseCommand,
    Instant,
    MaterialsReceivedCommand,
    MisconductCommand,
    ObjectionCommand,
    ObjectionResolutionCommand,
    Organisation,
    PaymentCommand,
    SubmitCommand,
    VoteCommand,
    WithdrawCommand,
)

__all__ = [
    "MAX_PAGE",
    "BatchPayment",
    "BatchPaymentItem",
    "CalendarBody",
    "CreatedCampaign",
    "CreatedDeclaration",
    "DeadlinesBody",
    "DecisionBody",
    "DeclarationBody",
    "DefenseBody",
    "FanOut",
    "MaterialsReceivedBody",
    "MisconductBody",
    "ObjectionBody",
    "OrganisationBody",
    "Page",
    "PaymentBody",
    "ResolutionBody",
    "SubmitBody",
    "VoteBody",
    "WithdrawBody",
]


class Body(BaseModel):
    """Unknown fields are refused; counts, amounts and yes/no answers take JSON numbers and
    booleans only (``true`` was an amount of 1, ``"yes"`` a passed defense: reliability)."""

    model_config = ConfigDict(extra="forbid")


def _a_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


#: An integer as JSON Schema has it: a JSON number without a fraction (``400`` or ``400.0``),
#: never ``true`` or ``"400"``.
JsonInt = Annotated[int, BeforeValidator(_a_number)]


# --------------------------------------------------------------------------- filing


class DeclarationBody(DeclarationInput):
    """``POST /declarations``: what the applicant files. ``series`` and ``specialty`` are
    required (one the campaign reviews at that level); ``authority_chain`` may be left out and, if
    sent, must equal the chain derived from the registry (docs/rules.md §2.4); the region is the
    unit's registered one and is never sent; ``applicant.affiliation`` is ignored (§5, §11)."""

    series: str = Field(min_length=1, max_length=100)
    specialty: str = Field(min_length=1, max_length=100)
    #: Never sent (``null`` at most): the unit's registered region is the declaration's.
    region: None = None

    @model_validator(mode="before")
    @classmethod
    def _region_is_derived(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("region") is not None:
            raise ValueError(
                "region 由申报单位的登记信息确定，不可填写 / region is the unit's registered "
                "region: leave it out"
            )
        return data


# --------------------------------------------------------------------------- decisions


def _strict(annotation: Any) -> Any:
    """JSON numbers and booleans only: ``true`` is no amount, ``"yes"`` no answer."""
    return {int: JsonInt, bool: StrictBool, int | None: JsonInt | None}.get(annotation, annotation)


def body_of(
    model: type[BaseModel],
    name: str,
    *,
    drop: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
    **override: Any,
) -> type[Body]:
    """A request body made from a domain model: its own fields, bounds and defaults (so the
    OpenAPI document states every constraint the model enforces when the route builds it),
    without the actor (the token) and the fields in ``drop`` (the path's, the caller's, the
    store's), and strict about numbers and booleans. ``override`` replaces a field, never
    loosening it; ``extra`` adds to the body's schema what its model's says between fields."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        if field_name in ("actor", *drop):
            continue
        if field_name in override:
            fields[field_name] = override[field_name]
            continue
        copied = copy(info)
        copied.annotation = _strict(info.annotation)
        fields[field_name] = (copied.annotation, copied)
    base: type[Body] = Body
    if extra:
        config = ConfigDict(extra="forbid", json_schema_extra=extra)
        base = type(f"{name}Base", (Body,), {"model_config": config, "__module__": __name__})
    body: type[Body] = create_model(name, __base__=base, __module__=__name__, **fields)
    body.__doc__ = f"The body of ``{model.__name__}`` (the actor, if any, is the token's)."
    return body


SubmitBody = body_of(SubmitCommand, "SubmitBody")
WithdrawBody = body_of(WithdrawCommand, "WithdrawBody")
DecisionBody = body_of(DecisionCommand, "DecisionBody")
#: docs/rules.md §10.8: at most 2,000 characters (the command keeps longer texts of the past).
ObjectionBody = body_of(
    ObjectionCommand, "ObjectionBody", text=(str, Field(min_length=1, max_length=2000))
)
ResolutionBody = body_of(ObjectionResolutionCommand, "ResolutionBody", drop=("objection_id",))
PaymentBody = body_of(
    PaymentCommand,
    "PaymentBody",
    drop=("payer_org", "confirmed_in_batch"),
    amount=(JsonInt, Field(gt=0, le=MAX_FEE)),
)
MaterialsReceivedBody = body_of(MaterialsReceivedCommand, "MaterialsReceivedBody")
DefenseBody = body_of(DefenseCommand, "DefenseBody")
VoteBody = body_of(VoteCommand, "VoteBody", drop=("members", "meeting_id"))
MisconductBody = body_of(MisconductCommand, "MisconductBody")


# --------------------------------------------------------------------------- organisations


if TYPE_CHECKING:  # a model made when the module loads: to a type checker, a body like any
    OrganisationBody = Body
else:
    #: ``PUT /organisations/{id}``: the organisation but its id (the path's). ``members`` only
    #: for a committee (the quorum's measure); ``parent_id`` the authority directly above.
    OrganisationBody = body_of(Organisation, "OrganisationBody", drop=("id",), extra=MEMBERS_RULE)


# --------------------------------------------------------------------------- batch payment


class BatchPaymentItem(Body):
    declaration_id: str = Field(min_length=1, max_length=100)
    amount: JsonInt = Field(gt=0, le=MAX_FEE)


class BatchPayment(Body):
    """One receipt for many declarations (推荐单位代收 / 统一缴纳): all or nothing."""

    receipt_no: str = Field(min_length=1, max_length=100)
    payer_org: str = Field(default="", max_length=100)
    items: list[BatchPaymentItem] = Field(min_length=1, max_length=1000)


# --------------------------------------------------------------------------- campaign, calendar


def _no_default(schema: dict[str, Any]) -> None:
    """A field that may be left out but is never ``null``: its schema names no default."""
    schema.pop("default", None)


class DeadlinesBody(Body):
    """The campaign deadlines to move (延期); a field left out stays, ``null`` removes an
    optional deadline (``declaration_closes_at`` is never optional)."""

    declaration_closes_at: Instant = Field(  # type: ignore[assignment]
        default=None, json_schema_extra=_no_default
    )
    review_closes_at: Instant | None = None
    fee_deadline: Instant | None = None
    materials_deadline: Instant | None = None
    #: An extension announced after a deadline passed reopens the declarations that deadline
    #: ended (docs/rules.md §3): each continues from the state it was in, audited.
    reopen: StrictBool = False


class CalendarBody(Body):
    version: str = Field(min_length=1, max_length=100)
    #: A year has at most 366 days (a longer list was taken whole: reliability finding).
    holidays: list[date] = Field(default_factory=list, max_length=366)
    workdays: list[date] = Field(default_factory=list, max_length=366)
    #: Without it, a load that would remove official holidays (loaded before, or packaged) is
    #: refused with 409 and the difference.
    replace: StrictBool = False


# --------------------------------------------------------------------------- answers


class CreatedCampaign(BaseModel):
    id: str
    #: Fields accepted and ignored (``authority_levels``, ``committee_members``), and why; left
    #: out of the answer when there are none.
    warnings: list[str] | None = None


class CreatedDeclaration(BaseModel):
    id: str
    state: str


class FanOut(BaseModel):
    """A change sent to many declarations: how many were addressed, updated, and which failed."""

    declarations: int
    updated: int
    failed: list[dict[str, str]] = Field(default_factory=list)


#: The highest page number a list answers: a larger offset overflowed the database's 64-bit
#: OFFSET and answered 500 (fuzzing finding); no list holds a million pages.
MAX_PAGE = 1_000_000


class Page(BaseModel):
    items: list[dict[str, Any]]
    page: int
    page_size: int
    total: int
