"""What the chain writes and what it learns from the store: audit events, notifications, the
fee ledger's records, screening results, review forms and announcements."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from domain.models.base import Model


class AuditEventIn(Model):
    """One audit event as the workflow emits it (§8). The store adds ``prev_hash`` and ``hash``."""

    declaration_id: str
    campaign_id: str
    seq: int = Field(ge=1)
    at: AwareDatetime
    actor_id: str
    actor_role: str
    actor_org: str = ""
    action: str
    stage_before: str | None = None
    stage_after: str | None = None
    outcome: Literal["accepted", "refused"] = "accepted"
    opinion: str = ""
    reasons: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


class Notification(Model):
    """One row of the notification outbox. ``key`` makes a retry a no-op; a reminder with the same
    ``supersedes`` group replaces the earlier one."""

    key: str
    declaration_id: str
    recipient_role: str
    recipient_org: str = ""
    recipient_id: str = ""
    kind: str
    text: str
    send_after: AwareDatetime
    supersedes: str | None = None


class ScreeningResult(Model):
    """What the store knows that the workflow cannot: blacklists and other live declarations."""

    refusal: str | None = None
    unit_barred_until: AwareDatetime | None = None


class FeeConfirmation(Model):
    declaration_id: str
    campaign_id: str
    receipt_no: str
    amount: int
    due: int | None
    payer_org: str = ""
    confirmed_by: str
    at: AwareDatetime


class FeeBatch(Model):
    """One receipt for many declarations (推荐单位代收 / 统一缴纳): all or nothing."""

    receipt_no: str
    payer_org: str = ""
    confirmed_by: str
    at: AwareDatetime
    items: list[FeeConfirmation] = Field(min_length=1)


class FeeReceipt(Model):
    receipt_no: str
    declaration_ids: list[str]
    newly_recorded: int


class ReviewForm(Model):
    form_id: str
    watermark_id: str


class Announcement(Model):
    certificate_no: str
    announced_at: AwareDatetime
