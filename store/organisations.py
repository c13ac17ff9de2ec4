"""The organisation registry (docs/rules.md §11): units, authorities, committees (with their
members), finance offices and sending units, with their region and the authority above each.

Every change goes through :func:`apply_registry_change`, one transaction under one lock: the
incoming organisations are checked as a whole against what is registered
(``domain.organisations.registry_problems``: an id given twice, a parent that is not registered or
not an authority, a circle of parents) and against what they would break
(``domain.registry_bindings.kind_change_problems``: a registered child whose parent stops being an
authority, a campaign naming a body that stops being of its kind). Any problem refuses the whole
change (:class:`RegistryRefused`) and nothing is written; otherwise every row is created or
replaced and the change is recorded on the registry's own audit chain (:data:`REGISTRY_CHAIN`,
hash-chained like a declaration's), so it is known who moved a unit under another authority.

A declaration's chain is fixed when it is created (its workflow input and its read model keep it),
so a later change here changes the chains of declarations filed afterwards only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Field, Session, SQLModel, col, select

from domain.models import Actor, Campaign, Organisation, Region
from domain.organisations import RegistryProblem, registry_problems
from domain.registry_bindings import kind_change_problems
from store.audit import append_next
from store.campaigns import CampaignRow
from store.db import advisory_xact_lock
from store.tables import UTCDateTime

__all__ = [
    "REGISTRY_CHAIN",
    "OrganisationRow",
    "RegistryChange",
    "RegistryRefused",
    "apply_registry_change",
    "count_organisations",
    "get_organisation",
    "lineage",
    "list_organisations",
    "members_of",
    "plan_registry_change",
    "registry",
]

#: The audit chain every accepted registry change is appended to.
REGISTRY_CHAIN = "registry:organisations"
#: Deepest parent chain :func:`lineage` follows (no real hierarchy comes near it).
MAX_DEPTH = 32
#: Ids listed per kind of change in one audit event (the count is always complete).
AUDITED_IDS = 200


class OrganisationRow(SQLModel, table=True):
    """One registered organisation (``domain.models.Organisation``)."""

    __tablename__ = "organisation"

    id: str = Field(primary_key=True, max_length=100)
    kind: str = Field(max_length=20, index=True)
    name: str = Field(max_length=200)
    region_code: str | None = Field(default=None, max_length=12)
    region_name: str | None = Field(default=None, max_length=100)
    parent_id: str | None = Field(default=None, max_length=100, index=True)
    members: int | None = None
    email: str | None = Field(default=None, max_length=254)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)

    def model(self) -> Organisation:
        region = None
        if self.region_code is not None and self.region_name is not None:
            region = Region(code=self.region_code, name=self.region_name)
        return Organisation.model_validate(
            {
                "id": self.id,
                "kind": self.kind,
                "name": self.name,
                "region": region,
                "parent_id": self.parent_id,
                "members": self.members,
                "email": self.email,
            }
        )


def _columns(org: Organisation) -> dict[str, Any]:
    return {
        "kind": org.kind,
        "name": org.name,
        "region_code": org.region.code if org.region else None,
        "region_name": org.region.name if org.region else None,
        "parent_id": org.parent_id,
        "members": org.members,
        "email": org.email,
    }


# --------------------------------------------------------------------------- reading


def get_organisation(session: Session, org_id: str) -> Organisation | None:
    row = session.get(OrganisationRow, org_id)
    return None if row is None else row.model()


def list_organisations(
    session: Session, *, kind: str | None = None, parent_id: str | None = None
) -> list[Organisation]:
    """The registered organisations, by id; of one kind and/or below one parent."""
    query = select(OrganisationRow)
    if kind is not None:
        query = query.where(col(OrganisationRow.kind) == kind)
    if parent_id is not None:
        query = query.where(col(OrganisationRow.parent_id) == parent_id)
    return [row.model() for row in session.exec(query.order_by(col(OrganisationRow.id)))]


def registry(session: Session, ids: Iterable[str] | None = None) -> dict[str, Organisation]:
    """The registry as ``domain.organisations`` reads it, by id: every organisation, or only
    those among ``ids``."""
    query = select(OrganisationRow)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        query = query.where(col(OrganisationRow.id).in_(wanted))
    return {row.id: row.model() for row in session.exec(query)}


def lineage(session: Session, org_id: str) -> dict[str, Organisation]:
    """``org_id`` and the organisations above it, by id: all that ``derive_chain`` reads for a
    declaration of that unit (one query per level). Empty when ``org_id`` is not registered."""
    found: dict[str, Organisation] = {}
    current: str | None = org_id
    while current is not None and current not in found and len(found) < MAX_DEPTH:
        row = session.get(OrganisationRow, current)
        if row is None:
            break
        found[row.id] = row.model()
        current = row.parent_id
    return found


def members_of(session: Session, committee_org: str) -> int | None:
    """A committee's registered members (docs/rules.md §2.8: the quorum's measure); None when it
    is not a registered committee."""
    row = session.get(OrganisationRow, committee_org)
    if row is None or row.kind != "committee":
        return None
    return row.members


# --------------------------------------------------------------------------- changing


class RegistryRefused(Exception):
    """A registry change that would leave the registry or a campaign inconsistent; nothing was
    written. ``problems`` name each row (its index in the change) and the field at fault."""

    def __init__(self, problems: Sequence[RegistryProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.org_id}: {p.message}" for p in self.problems))


@dataclass(frozen=True)
class Replaced:
    before: Organisation
    after: Organisation

    @property
    def fields(self) -> list[str]:
        """The fields that change, in the model's order."""
        old, new = self.before.model_dump(), self.after.model_dump()
        return [name for name in old if old[name] != new[name]]

    def values(self) -> dict[str, Any]:
        """``{"id", "fields", "before", "after"}``: what changes, from what to what (JSON)."""
        old, new = self.before.model_dump(mode="json"), self.after.model_dump(mode="json")
        fields = self.fields
        return {
            "id": self.after.id,
            "fields": fields,
            "before": {name: old[name] for name in fields},
            "after": {name: new[name] for name in fields},
        }


@dataclass(frozen=True)
class RegistryChange:
    """What a change does: the organisations it creates, those it replaces (with what changes)
    and those it leaves as they are; ``problems`` (when not empty) refuse it whole."""

    created: list[Organisation] = field(default_factory=list)
    replaced: list[Replaced] = field(default_factory=list)
    unchanged: list[Organisation] = field(default_factory=list)
    problems: list[RegistryProblem] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "created": [o.id for o in self.created],
            "replaced": [{"id": r.after.id, "fields": r.fields} for r in self.replaced],
            "unchanged": [o.id for o in self.unchanged],
        }


def _campaigns(session: Session) -> list[Campaign]:
    return [Campaign.model_validate(row.body) for row in session.exec(select(CampaignRow))]


def plan_registry_change(session: Session, incoming: Sequence[Organisation]) -> RegistryChange:
    """What applying ``incoming`` would do, and every problem that refuses it (nothing is
    written: the console's preview and the first half of :func:`apply_registry_change`)."""
    existing = registry(session)
    problems = registry_problems(incoming, existing)
    if not problems:
        after = {**existing, **{org.id: org for org in incoming}}
        problems = kind_change_problems(incoming, after, _campaigns(session))
    change = RegistryChange(problems=sorted(problems, key=lambda p: (p.index, p.field)))
    for org in incoming:
        before = existing.get(org.id)
        if before is None:
            change.created.append(org)
        elif before == org:
            change.unchanged.append(org)
        else:
            change.replaced.append(Replaced(before, org))
    return change


def _audit_detail(change: RegistryChange) -> dict[str, Any]:
    summary = change.summary()
    detail: dict[str, Any] = {
        "created": summary["created"][:AUDITED_IDS],
        "replaced": summary["replaced"][:AUDITED_IDS],
        "counts": {k: len(v) for k, v in summary.items()},
    }
    if len(change.replaced) == 1 and not change.created:
        values = change.replaced[0].values()
        detail["before"], detail["after"] = values["before"], values["after"]
    return detail


def apply_registry_change(
    session: Session,
    incoming: Sequence[Organisation],
    *,
    actor: Actor,
    at: datetime,
    action: str = "import_organisations",
) -> RegistryChange:
    """Create or replace every organisation of ``incoming`` in this transaction, or nothing:
    :class:`RegistryRefused` with every problem. A change that alters nothing writes nothing,
    not even an audit event (a repeated import is a no-op)."""
    advisory_xact_lock(session, "registry:organisations")
    change = plan_registry_change(session, incoming)
    if change.problems:
        raise RegistryRefused(change.problems)
    for org in change.created:
        session.add(OrganisationRow(id=org.id, created_at=at, updated_at=at, **_columns(org)))
    for one in change.replaced:
        row = session.get(OrganisationRow, one.after.id)
        assert row is not None  # read under the same lock
        for name, value in _columns(one.after).items():
            setattr(row, name, value)
        row.updated_at = at
        session.add(row)
    if change.created or change.replaced:
        session.flush()
        append_next(
            session,
            chain=REGISTRY_CHAIN,
            campaign_id="",
            actor=actor,
            action=action,
            stage=None,
            at=at,
            outcome="accepted",
            detail=_audit_detail(change),
        )
    return change


def count_organisations(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(OrganisationRow)).one())
