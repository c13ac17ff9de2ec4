"""The base of every model: plain pydantic data with no Temporal, database or I/O import, so the
workflow sandbox can load it and every layer above can depend on it. New fields always get a
default, so stored histories keep decoding."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["junior", "intermediate", "deputy_senior", "senior"]
#: The routes a campaign may open (docs/rules.md §12): 定向评价, 民营企业专项, 援疆, 委托评审,
#: 直接认定, 初次确定/授予.
Route = Literal[
    "directed",
    "private_enterprise",
    "aid_xinjiang",
    "entrusted",
    "direct_recognition",
    "initial_determination",
]
Role = Literal[
    "applicant", "unit_reviewer", "authority_reviewer", "committee", "finance", "auditor", "admin"
]
#: Every role, in the order the console lists them.
ROLES: tuple[Role, ...] = get_args(Role)
EmployerKind = Literal["public_institution", "state_enterprise", "private_enterprise", "freelance"]
DefenseMode = Literal["onsite", "video", "phone"]
PublicityKind = Literal["unit_publicity", "result_publicity"]


#: Unicode's White_Space, as the service's pattern engine (pydantic-core's) reads ``\s``, spelt
#: out: JSON Schema readers (ECMA-262, Python's ``re``) each read ``\s`` differently (U+0085,
#: U+001C-U+001F), and the OpenAPI document must say exactly what the service refuses.
WHITESPACE = r"\x09-\x0d\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: An e-mail address as the service takes it: something, ``@``, something, no whitespace.
EMAIL = rf"^[^@{WHITESPACE}]+@[^@{WHITESPACE}]+$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Actor(Model):
    id: str = Field(min_length=1, max_length=100)
    role: Role
    org: str = Field(default="", max_length=100)


SYSTEM = Actor(id="system", role="admin", org="")
"""The actor of every transition the workflow makes by itself (timers, announcements)."""


def as_of(value: datetime) -> str:
    """An instant as ISO 8601 text, for explanations and audit detail."""
    return value.isoformat()
