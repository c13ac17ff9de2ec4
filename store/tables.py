"""The store's tables (SQLModel, ``table=True``).

Only the store and the activities import this module; workflow code never does (it talks to the
store through activities, by name). The schema is created by the hand-written alembic migration in
``store/migrations``; a test checks that the two agree.

Instants are stored in UTC (``timestamptz`` on PostgreSQL; naive UTC text on SQLite, which has no
time zones) and come back as aware UTC datetimes on both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

__all__ = [
    "AuditEvent",
    "BlacklistEntry",
    "CalendarYearRow",
    "Certificate",
    "DeclarationRead",
    "DeclarationRegistry",
    "NotificationRow",
    "Payment",
    "Publicity",
    "ReviewFormRow",
    "UTCDateTime",
    "utc",
]


#: Deterministic constraint names, so that migrations can refer to them on both dialects.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC instant (naive values are taken to be UTC already)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware instant stored in UTC on every dialect, read back aware (UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else utc(value)


def _instant(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index)


def _json(*, nullable: bool = False) -> Any:
    return Field(sa_type=sa.JSON, nullable=nullable)


def _text(*, nullable: bool = False, default: Any = ...) -> Any:
    if default is ...:
        return Field(sa_type=sa.Text, nullable=nullable)
    return Field(default=default, sa_type=sa.Text, nullable=nullable)


class AuditEvent(SQLModel, table=True):
    """§8 audit trail (docs/rules.md §8, §18): append-only, hash-chained per declaration.

    ``reasons`` and ``detail`` hold JSON text in the canonical form of ``store.audit``. A trigger
    refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL)."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.UniqueConstraint("declaration_id", "seq", name="uq_audit_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    declaration_id: str = Field(max_length=100)
    campaign_id: str = Field(max_length=100, index=True)
    seq: int
    at: datetime = _instant()
    actor_id: str = Field(max_length=100, index=True)
    actor_role: str = Field(max_length=50)
    actor_org: str = Field(default="", max_length=100)
    action: str = Field(max_length=100)
    stage_before: str | None = Field(default=None, max_length=50)
    stage_after: str | None = Field(default=None, max_length=50)
    outcome: str = Field(max_length=20)
    opinion: str = _text(default="")
    reasons: str = _text(default="[]")
    detail: str = _text(default="{}")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DeclarationRead(SQLModel, table=True):
    """The read model: one row per declaration, the latest view the workflow wrote."""

    __tablename__ = "declaration_read"
    __table_args__ = (
        sa.Index("ix_declaration_read_inbox", "pending_role", "pending_org", "due_at"),
        #: A unit reviewer's list, newest activity first (migration 0004).
        sa.Index("ix_declaration_read_unit_recent", "unit_id", "updated_at"),
    )

    declaration_id: str = Field(primary_key=True, max_length=100)
    campaign_id: str = Field(max_length=100, index=True)
    state: str = Field(max_length=50, index=True)
    pending_role: str | None = Field(default=None, max_length=50)
    pending_org: str | None = Field(default=None, max_length=100)
    pending_action: str | None = Field(default=None, max_length=100)
    due_at: datetime | None = _instant(nullable=True)
    unit_id: str = Field(max_length=100, index=True)
    authority_chain: list[str] = _json()
    #: Every organisation on the chain, delimited: ``|unit|authority-1|…|`` (see
    #: ``store.readmodel.involving_org``), for "declarations my organisation reviews".
    orgs: str = _text()
    level: str = Field(max_length=30)
    series: str = Field(default="", max_length=100)
    route: str = Field(default="directed", max_length=30)
    id_number: str = Field(max_length=32, index=True)
    at_risk: bool = False
    at_risk_from: datetime | None = _instant(nullable=True)
    #: Sequence number of the last audit event the view reflects.
    version: int
    #: Indexed for the lists, newest activity first (migration 0004).
    updated_at: datetime | None = _instant(nullable=True, index=True)
    view_json: str = _text()
    #: §10.2 time held per actor, in working days (``store.readmodel.held_figures``).
    held: dict[str, Any] = _json()


class DeclarationRegistry(SQLModel, table=True):
    """Every declaration and whether it is live: one live declaration per person, campaign year,
    series and level, on either route and in any campaign of that year (001)."""

    __tablename__ = "declaration_registry"
    __table_args__ = (
        sa.Index("ix_declaration_registry_person", "year", "series", "level", "id_number"),
    )

    declaration_id: str = Field(primary_key=True, max_length=100)
    campaign_id: str = Field(max_length=100, index=True)
    year: int
    series: str = Field(max_length=100)
    level: str = Field(max_length=30)
    route: str = Field(max_length=30)
    id_number: str = Field(max_length=32)
    unit_id: str = Field(max_length=100)
    live: bool = True
    state: str = Field(default="draft", max_length=50)
    created_at: datetime = _instant()


class Payment(SQLModel, table=True):
    """The fee ledger: one row per declaration paid under a receipt (one receipt may cover many
    declarations: 推荐单位代收 / 统一缴纳)."""

    __tablename__ = "payment"
    __table_args__ = (
        sa.UniqueConstraint("receipt_no", "declaration_id", name="uq_payment_receipt_declaration"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receipt_no: str = Field(max_length=100, index=True)
    declaration_id: str = Field(max_length=100, index=True)
    campaign_id: str = Field(max_length=100)
    amount: int
    payer_org: str = Field(default="", max_length=100)
    confirmed_by: str = Field(max_length=100)
    at: datetime = _instant()


class NotificationRow(SQLModel, table=True):
    """The notification outbox. ``key`` makes a retry a no-op; rows of one ``supersedes`` group
    replace each other (only the newest stays pending)."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_due", "status", "send_after"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    declaration_id: str = Field(max_length=100, index=True)
    recipient_role: str = Field(max_length=50)
    recipient_org: str = Field(default="", max_length=100)
    recipient_id: str = Field(default="", max_length=100)
    kind: str = Field(max_length=50)
    text: str = _text()
    send_after: datetime = _instant()
    supersedes: str | None = Field(default=None, max_length=300)
    status: str = Field(default="pending", max_length=20)
    created_at: datetime = _instant()
    sent_at: datetime | None = _instant(nullable=True)


class BlacklistEntry(SQLModel, table=True):
    """§2 misconduct bars: the applicant for the corresponding title, the unit from
    recommending. ``series``/``level`` are NULL when the bar covers every title."""

    __tablename__ = "blacklist_entry"
    __table_args__ = (
        sa.UniqueConstraint(
            "subject_kind", "subject_id", "declaration_id", name="uq_blacklist_subject_finding"
        ),
        sa.Index("ix_blacklist_subject", "subject_kind", "subject_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str = Field(max_length=20)
    subject_id: str = Field(max_length=100)
    series: str | None = Field(default=None, max_length=100)
    level: str | None = Field(default=None, max_length=30)
    from_at: datetime = _instant()
    until: datetime = _instant()
    reason: str = _text()
    declaration_id: str = Field(max_length=100)
    campaign_id: str = Field(max_length=100)


class CalendarYearRow(SQLModel, table=True):
    """§7 an official calendar year loaded by an administrator (``PUT /calendar/{year}``)."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: str = Field(max_length=100)
    holidays: list[str] = _json()
    workdays: list[str] = _json()
    loaded_at: datetime = _instant()


class ReviewFormRow(SQLModel, table=True):
    """§2.6 the review form (评审表) issued once per declaration, with its watermark id."""

    __tablename__ = "review_form"

    id: int | None = Field(default=None, primary_key=True)
    declaration_id: str = Field(max_length=100, unique=True)
    campaign_id: str = Field(max_length=100)
    form_id: str = Field(max_length=150, unique=True)
    watermark_id: str = Field(max_length=64)
    issued_at: datetime = _instant()


class Certificate(SQLModel, table=True):
    """§2.10 / §10.6 the electronic certificate (电子证书): issued once per declaration, publicly
    verifiable by number, revocable."""

    __tablename__ = "certificate"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "serial", name="uq_certificate_campaign_serial"),
    )

    id: int | None = Field(default=None, primary_key=True)
    certificate_no: str = Field(max_length=150, unique=True)
    verification_code: str = Field(max_length=16)
    declaration_id: str = Field(max_length=100, unique=True)
    campaign_id: str = Field(max_length=100)
    serial: int
    series: str = Field(max_length=100)
    level: str = Field(max_length=30)
    issued_on: date
    announced_at: datetime = _instant()
    status: str = Field(default="valid", max_length=20)
    revoked_at: datetime | None = _instant(nullable=True)
    #: 专业 as declared (none on certificates issued before declarations named it; migration 0010).
    specialty: str | None = Field(default=None, max_length=100)
    #: 定向评价、定向使用 (001): the region the certificate is valid in; none when unrestricted.
    scope_region: str | None = Field(default=None, max_length=100)


class Publicity(SQLModel, table=True):
    """§2.2 / §2.9 a publicity period (公示) with its computed end and explanation."""

    __tablename__ = "publicity"
    __table_args__ = (
        sa.UniqueConstraint(
            "declaration_id", "kind", "started_at", name="uq_publicity_declaration_kind_start"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    declaration_id: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=30)
    started_at: datetime = _instant()
    ends_at: datetime = _instant()
    first_day: date | None = None
    last_day: date | None = None
    explanation: dict[str, Any] = _json()
    closed_at: datetime | None = _instant(nullable=True)
    outcome: str | None = Field(default=None, max_length=30)
