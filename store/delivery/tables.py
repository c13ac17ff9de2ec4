"""The outbox's own tables (deliveries, the applicants' and organisations' contact addresses)
and the handles of the tables it reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from store.organisations import OrganisationRow
from store.tables import AuditEvent, DeclarationRegistry, NotificationRow, UTCDateTime


class DeliveryRow(SQLModel, table=True):
    """One notification on one channel: where it goes, how it fared."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        sa.UniqueConstraint("notification_key", "channel", name="uq_notification_delivery_key"),
        sa.Index("ix_notification_delivery_due", "status", "next_attempt_at"),
        sa.Index("ix_notification_delivery_campaign", "campaign_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_key: str = Field(max_length=300)
    declaration_id: str = Field(max_length=100, index=True)
    campaign_id: str = Field(default="", max_length=100)
    channel: str = Field(max_length=20)
    #: The e-mail address, or the webhook's URL; empty when there is none (``no_address``).
    address: str = Field(default="", max_length=500)
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    #: When it may be tried (next), on Temporal's clock.
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    claimed_by: str = Field(default="", max_length=200)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    last_error: str = Field(default="", sa_type=sa.Text, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class DeclarationContact(SQLModel, table=True):
    """The applicant's own e-mail address, as filed on the declaration (``applicant.email``)."""

    __tablename__ = "declaration_contact"

    declaration_id: str = Field(primary_key=True, max_length=100)
    email: str = Field(max_length=254)


class OrgContact(SQLModel, table=True):
    """Where an organisation's reviewers are reached. Also keyed by a role (``committee``,
    ``finance``) for notifications that name the role but no organisation."""

    __tablename__ = "org_contact"

    org_id: str = Field(primary_key=True, max_length=100)
    email: str = Field(max_length=254)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


DELIVERY = DeliveryRow.__table__  # type: ignore[attr-defined]
NOTIFICATION = NotificationRow.__table__  # type: ignore[attr-defined]
REGISTRY = DeclarationRegistry.__table__  # type: ignore[attr-defined]
CONTACT = DeclarationContact.__table__  # type: ignore[attr-defined]
AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
ORG = OrgContact.__table__  # type: ignore[attr-defined]
ORGANISATIONS = OrganisationRow.__table__  # type: ignore[attr-defined]
#: Statuses of notifications held back rather than sent (:func:`domain.reminders.unsent`).
UNSENT = ("repeat", "outdated")
#: Statuses a sender may claim (with ``next_attempt_at`` passed), and the one whose lease may end.
SENDABLE = ("pending", "retrying")


def locked(query: Any, session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query
