"""The payloads of activity calls: what the workflow sends an activity and what it answers, where
that is not a domain model of its own. One model in, one model out, for every activity."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from domain.models.base import Level, Model, PublicityKind
from domain.models.campaign import Campaign
from domain.models.deadlines import ComputedDeadline
from domain.models.declaration import DeclarationInput
from domain.models.records import AuditEventIn, Notification
from domain.models.view import DeclarationView


class RecordBatch(Model):
    """Input of ``record_audit_event``: the new events of one step, the view after it, and the
    notifications it causes, written in one transaction."""

    events: list[AuditEventIn]
    view: DeclarationView
    notifications: list[Notification] = Field(default_factory=list)
    #: Reminder groups that no longer apply (the deadline passed or the stage moved on).
    cancel_reminders: list[str] = Field(default_factory=list)


class RecordResult(Model):
    written: int
    already_present: int
    #: How far the batch's sequence numbers moved to follow events that a workflow task which
    #: never completed had written (store.audit_tail); the workflow moves its counter as much.
    shift: int = 0


class ScreeningRequest(Model):
    declaration_id: str
    campaign: Campaign
    declaration: DeclarationInput
    at: AwareDatetime


class DeadlineRequest(Model):
    """Input of the deadline activity: what to compute from which instant."""

    declaration_id: str
    kind: Literal["correction", "unit_publicity", "result_publicity", "at_risk_from"]
    start: AwareDatetime
    campaign: Campaign
    #: For ``at_risk_from``: working days the chain still needs before the declaration deadline.
    working_days_needed: int = 0
    #: For ``at_risk_from``: the declaration deadline the need is measured against.
    until: AwareDatetime | None = None


class PublicityRequest(Model):
    declaration_id: str
    campaign: Campaign
    kind: PublicityKind
    start: AwareDatetime


class PublicityOpened(Model):
    kind: str
    deadline: ComputedDeadline


class PublicityClosed(Model):
    kind: str
    closed_at: AwareDatetime
    objections: int = 0


class PublicityCloseRequest(Model):
    declaration_id: str
    kind: PublicityKind
    closed_at: AwareDatetime
    outcome: Literal["completed", "interrupted"] = "completed"


class ReviewFormRequest(Model):
    declaration_id: str
    campaign_id: str
    level: Level
    issued_at: AwareDatetime


class AnnouncementRequest(Model):
    declaration_id: str
    campaign_id: str
    #: The series and specialty applied for (docs/rules.md §1), as the certificate states them.
    series: str
    level: Level
    applicant_name: str
    announced_at: AwareDatetime
    specialty: str | None = None
    #: 定向评价、定向使用 (001): the certificate states its scope, the region of the campaign's
    #: committee as registered when the certificate is issued (docs/rules.md §2.10, §12).
    scoped: bool = False
    committee_org: str | None = None
    #: The declaration's own region, the scope when the committee has no registered region.
    region: str | None = None


class BlacklistRequest(Model):
    declaration_id: str
    campaign: Campaign
    #: The declaration's series (its campaign's, for declarations filed before they had one).
    series: str | None = None
    level: Level
    id_number: str
    unit_id: str
    unit_at_fault: bool
    finding: str
    found_at: AwareDatetime


class RevocationRequest(Model):
    declaration_id: str
    certificate_no: str
    revoked_at: AwareDatetime


class UnitBarRequest(Model):
    """Is the unit barred from recommending at ``at`` (docs/rules.md §2 end)?"""

    declaration_id: str
    unit_id: str
    at: AwareDatetime
