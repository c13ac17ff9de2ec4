"""The organisation registry (docs/rules.md §11): the bodies a campaign involves, their region and
the authority above each."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from domain.models.base import EMAIL, Model

__all__ = ["MEMBERS_RULE", "ORG_ID", "ORG_KINDS", "OrgKind", "Organisation", "Region"]

OrgKind = Literal["unit", "authority", "committee", "finance_office", "sending_unit"]
ORG_KINDS: tuple[OrgKind, ...] = (
    "unit",
    "authority",
    "committee",
    "finance_office",
    "sending_unit",
)

#: An organisation id: letters, digits and ``-_.``, as in tokens' ``org`` claim.
ORG_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Region(Model):
    """A prefecture or county: its administrative division code (行政区划代码) and name."""

    code: str = Field(min_length=2, max_length=12, pattern=r"^[0-9]+$")
    name: str = Field(min_length=1, max_length=100)


#: ``members`` for a committee, and for nothing else, as JSON Schema says it.
MEMBERS_RULE: dict[str, Any] = {
    "if": {"properties": {"kind": {"const": "committee"}}, "required": ["kind"]},
    "then": {
        "properties": {"members": {"type": "integer", "minimum": 1, "maximum": 500}},
        "required": ["members"],
    },
    "else": {"properties": {"members": {"type": "null"}}},
}


class Organisation(Model):
    """One registered body: ``unit`` (用人单位), ``authority`` (主管部门 / 人社局 / 公共就业服务机构),
    ``committee`` (评审委员会, with its members), ``finance_office`` or ``sending_unit``
    (援疆派出单位). ``parent_id`` is the authority directly above (none at the top)."""

    model_config = ConfigDict(json_schema_extra=MEMBERS_RULE)

    id: str = Field(min_length=1, max_length=100, pattern=ORG_ID)
    kind: OrgKind
    name: str = Field(min_length=1, max_length=200)
    region: Region | None = None
    parent_id: str | None = Field(default=None, max_length=100, pattern=ORG_ID)
    #: A committee's members: the count its review meetings' quorum is measured against.
    members: int | None = Field(default=None, ge=1, le=500)
    #: Where reminders reach the organisation's reviewers (optional).
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)

    @model_validator(mode="after")
    def _members_only_for_a_committee(self) -> Organisation:
        if self.kind == "committee" and self.members is None:
            raise ValueError("a committee needs its number of members (members)")
        if self.kind != "committee" and self.members is not None:
            raise ValueError("only a committee has members")
        if self.parent_id is not None and self.parent_id == self.id:
            # Two fields compared: no schema states it, so it names its rule.
            raise PydanticCustomError(
                "organisation.own_parent", "an organisation cannot be its own parent"
            )
        return self
