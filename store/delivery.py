"""Delivering the notification outbox (docs/rules.md §3 reminders).

A due notification (``status = 'pending'``, ``send_after`` passed on Temporal's clock) is
*dispatched*: one ``notification_delivery`` row per configured channel, with the address it goes
to (:func:`address_for`), and the notification becomes ``dispatched`` so that nothing dispatches
it twice. A delivery is then *claimed* (``sending``, by one sender, until a lease ends), sent, and
*marked* (``sent``, or ``retrying`` with the next attempt's instant, or ``dead``). Claims are one
conditional ``UPDATE`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's immediate transaction
serialises them), so two senders never hold the same delivery, and a mark only lands for the
claim that made it.

What that guarantees, and what it does not: a delivery is handed to the mail server or the
webhook at most once per claim, and claimed again only when its claim's lease ended without a
mark, that is, when its sender died between claiming and marking. If that sender had already
handed the message over, it goes out a second time, with the same ``Message-ID`` (mail) or
``X-ReviewChain-Delivery`` key (webhook) and the same bytes, so the receiving side can recognise
it. No other path sends anything twice.

Addresses are never guessed: the applicant's is the one given on the declaration
(``applicant.email``), a reviewer's is their organisation's (``org_contact``); a notification
with none is dispatched as ``no_address``, visible to the committee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel

from domain.reminders import (
    REPEATABLE_KINDS,
    Notice,
    after_failure,
    notice_seq,
    retry_delay,
    unsent,
)
from store.campaigns import CampaignRow
from store.organisations import OrganisationRow
from store.tables import (
    AuditEvent,
    DeclarationRead,
    DeclarationRegistry,
    NotificationRow,
    UTCDateTime,
)

__all__ = [
    "AddressBook",
    "Claimed",
    "DeclarationContact",
    "DeliveryRow",
    "Failure",
    "MessageContext",
    "OrgContact",
    "RetryPolicy",
    "address_for",
    "campaign_deliveries",
    "claim",
    "dispatch_due",
    "mark_failed",
    "mark_sent",
    "message_context",
    "next_due",
    "org_emails",
    "outbox_figures",
    "record_applicant_email",
    "reminders_of",
    "requeue",
    "set_org_email",
]


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


_DELIVERY = DeliveryRow.__table__  # type: ignore[attr-defined]
_NOTIFICATION = NotificationRow.__table__  # type: ignore[attr-defined]
_REGISTRY = DeclarationRegistry.__table__  # type: ignore[attr-defined]
_CONTACT = DeclarationContact.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_ORG = OrgContact.__table__  # type: ignore[attr-defined]
_ORGANISATIONS = OrganisationRow.__table__  # type: ignore[attr-defined]
#: Statuses of notifications held back rather than sent (:func:`domain.reminders.unsent`).
UNSENT = ("repeat", "outdated")
#: Statuses a sender may claim (with ``next_attempt_at`` passed), and the one whose lease may end.
SENDABLE = ("pending", "retrying")


# --------------------------------------------------------------------------- addresses


def record_applicant_email(session: Session, declaration_id: str, email: str | None) -> None:
    """Keep the address the applicant filed with (once; a retried registration is a no-op)."""
    if email and session.get(DeclarationContact, declaration_id) is None:
        session.add(DeclarationContact(declaration_id=declaration_id, email=email))


def set_org_email(session: Session, org_id: str, email: str | None, *, at: datetime) -> None:
    """Set (or, with ``None``, remove) where an organisation's reviewers are reached."""
    row = session.get(OrgContact, org_id)
    if email is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(OrgContact(org_id=org_id, email=email, updated_at=at))
    else:
        row.email, row.updated_at = email, at
        session.add(row)


@dataclass
class AddressBook:
    """The addresses a batch of notifications needs, read in two queries."""

    applicants: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls, session: Session, declaration_ids: Iterable[str], orgs: Iterable[str]
    ) -> AddressBook:
        ids, names = sorted(set(declaration_ids)), sorted(set(orgs))
        book = cls()
        if ids:
            c = _CONTACT.c
            found = session.execute(
                sa.select(c.declaration_id, c.email).where(c.declaration_id.in_(ids))
            )
            book.applicants = {d: e for d, e in found.all()}
        if names:
            r = _ORGANISATIONS.c
            registered = session.execute(
                sa.select(r.id, r.email).where(r.id.in_(names), r.email.is_not(None))
            )
            o = _ORG.c
            found = session.execute(sa.select(o.org_id, o.email).where(o.org_id.in_(names)))
            # The notification address an administrator set wins over the registry's e-mail.
            book.orgs = {org: e for org, e in registered.all()} | {org: e for org, e in found.all()}
        return book

    def lookup(self, *, role: str, org: str, declaration_id: str) -> str | None:
        """The applicant: the address on their declaration. Anyone else: their organisation's
        (the notification address set for it, else its registered e-mail), or, for a
        notification naming only a role (the committee, finance), that role's."""
        if role == "applicant":
            return self.applicants.get(declaration_id)
        return self.orgs.get(org or role)


def _lookup_keys(role: str, org: str) -> str:
    return org or role


def address_for(
    session: Session, *, role: str, org: str, recipient_id: str, declaration_id: str
) -> str | None:
    """Where a notification to ``role`` / ``org`` / ``recipient_id`` about ``declaration_id``
    goes by e-mail, or None: the one rule for addresses (``recipient_id`` names the person; a
    person's own address beyond the applicant's is not kept yet, so reviewers are reached at
    their organisation's)."""
    book = AddressBook.load(session, [declaration_id], [_lookup_keys(role, org)])
    return book.lookup(role=role, org=org, declaration_id=declaration_id)


# --------------------------------------------------------------------------- dispatching


@dataclass(frozen=True)
class Dispatched:
    notifications: int
    no_address: int
    #: Notices not sent: a repeat of one the person had for the same stay, or outdated.
    held_back: int = 0


def _notice(row: Any) -> Notice | None:
    seq = notice_seq(row.key, row.declaration_id)
    if seq is None:
        return None
    recipient = (row.recipient_role, row.recipient_org, row.recipient_id)
    return Notice(row.key, row.declaration_id, seq, row.kind, recipient)


def _held_back(session: Session, due: Sequence[Any]) -> dict[str, str]:
    """The notices among ``due`` not to send, with why (:func:`domain.reminders.unsent`): two
    queries, only when the batch holds notices of the kinds that can repeat."""
    candidates = [n for n in map(_notice, due) if n is not None and n.kind in REPEATABLE_KINDS]
    if not candidates:
        return {}
    declarations = sorted({n.declaration_id for n in candidates})
    c = _NOTIFICATION.c
    earlier = session.execute(
        sa.select(
            c.key, c.declaration_id, c.kind, c.recipient_role, c.recipient_org, c.recipient_id
        ).where(
            c.declaration_id.in_(declarations),
            c.kind.in_(sorted(REPEATABLE_KINDS)),
            c.status.in_(["dispatched", *UNSENT]),
        )
    ).all()
    a = _AUDIT.c
    changes: dict[str, list[int]] = {}
    for declaration_id, seq in session.execute(
        sa.select(a.declaration_id, a.seq).where(
            a.declaration_id.in_(declarations),
            a.outcome == "accepted",
            sa.or_(a.stage_before.is_(None), a.stage_before != a.stage_after),
        )
    ).all():
        changes.setdefault(declaration_id, []).append(seq)
    known = [n for n in map(_notice, earlier) if n is not None]
    return unsent(candidates, known, changes)


def _locked(query: Any, session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def dispatch_due(
    session: Session,
    *,
    now: datetime,
    channels: Mapping[str, str],
    limit: int,
) -> Dispatched:
    """Turn up to ``limit`` due notifications into deliveries, one per channel of ``channels``
    (channel → its fixed address, e.g. the webhook's URL; ``""`` for e-mail, addressed per
    recipient). Oldest due first; rows another sender is dispatching are skipped."""
    if not channels:
        return Dispatched(0, 0)
    n = _NOTIFICATION.c
    found = session.execute(
        _locked(
            sa.select(
                n.id,
                n.key,
                n.declaration_id,
                n.kind,
                n.recipient_role,
                n.recipient_org,
                n.recipient_id,
            )
            .where(n.status == "pending", n.send_after <= now)
            .order_by(n.send_after, n.id)
            .limit(limit),
            session,
        )
    ).all()
    if not found:
        return Dispatched(0, 0)
    held = _held_back(session, found)
    for reason in UNSENT:
        ids = [r.id for r in found if held.get(r.key) == reason]
        if ids:
            session.execute(sa.update(_NOTIFICATION).where(n.id.in_(ids)).values(status=reason))
    due = [r for r in found if r.key not in held]
    if not due:
        return Dispatched(len(found), 0, len(held))
    declarations = sorted({row.declaration_id for row in due})
    campaigns = dict(
        session.execute(
            sa.select(_REGISTRY.c.declaration_id, _REGISTRY.c.campaign_id).where(
                _REGISTRY.c.declaration_id.in_(declarations)
            )
        ).all()
    )
    book = AddressBook.load(
        session, declarations, {_lookup_keys(r.recipient_role, r.recipient_org) for r in due}
    )
    keys = [row.key for row in due]
    present = set(
        session.execute(
            sa.select(_DELIVERY.c.notification_key, _DELIVERY.c.channel).where(
                _DELIVERY.c.notification_key.in_(keys)
            )
        ).all()
    )
    rows: list[dict[str, Any]] = []
    missing = 0
    for row in due:
        for channel, fixed in channels.items():
            if (row.key, channel) in present:
                continue
            address = fixed or book.lookup(
                role=row.recipient_role, org=row.recipient_org, declaration_id=row.declaration_id
            )
            if not address:
                missing += 1
            rows.append(
                {
                    "notification_key": row.key,
                    "declaration_id": row.declaration_id,
                    "campaign_id": campaigns.get(row.declaration_id, ""),
                    "channel": channel,
                    "address": address or "",
                    "status": "pending" if address else "no_address",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "claimed_by": "",
                    "last_error": "" if address else _no_address(row),
                    "created_at": now,
                }
            )
    if rows:
        session.execute(sa.insert(_DELIVERY), rows)
    session.execute(
        sa.update(_NOTIFICATION)
        .where(n.id.in_([row.id for row in due]))
        .values(status="dispatched")
    )
    return Dispatched(len(found), missing, len(held))


def _no_address(row: Any) -> str:
    if row.recipient_role == "applicant":
        return (
            f"申报 {row.declaration_id} 未填写申报人邮箱 / the declaration has no applicant e-mail"
        )
    who = row.recipient_org or row.recipient_role
    return f"{who} 未登记邮箱 / no e-mail address registered for {who}"


# --------------------------------------------------------------------------- claiming and marking


@dataclass(frozen=True)
class Claimed:
    """A delivery one sender holds, with what its message is made of."""

    id: int
    key: str
    channel: str
    address: str
    attempts: int
    declaration_id: str
    campaign_id: str
    recipient_role: str
    recipient_org: str
    recipient_id: str
    kind: str
    text: str
    send_after: datetime


def claim(
    session: Session, *, now: datetime, token: str, lease: timedelta, limit: int
) -> list[Claimed]:
    """Claim up to ``limit`` deliveries that may be tried at ``now`` (due, or held by a claim
    whose lease has ended) for ``token``, counting the attempt. Earliest first."""
    d = _DELIVERY.c
    candidates = _locked(
        sa.select(d.id)
        .where(
            sa.or_(
                sa.and_(d.status.in_(SENDABLE), d.next_attempt_at <= now),
                sa.and_(d.status == "sending", d.claimed_until <= now),
            )
        )
        .order_by(d.next_attempt_at, d.id)
        .limit(limit),
        session,
    )
    ids = list(
        session.execute(
            sa.update(_DELIVERY)
            .where(d.id.in_(candidates.scalar_subquery()))
            .values(
                status="sending",
                claimed_by=token,
                claimed_until=now + lease,
                attempts=d.attempts + 1,
            )
            .returning(d.id)
        ).scalars()
    )
    if not ids:
        return []
    n = _NOTIFICATION.c
    rows = session.execute(
        sa.select(
            d.id,
            d.notification_key,
            d.channel,
            d.address,
            d.attempts,
            d.declaration_id,
            d.campaign_id,
            n.recipient_role,
            n.recipient_org,
            n.recipient_id,
            n.kind,
            n.text,
            n.send_after,
        )
        .join(_NOTIFICATION, n.key == d.notification_key)
        .where(d.id.in_(ids))
        .order_by(d.next_attempt_at, d.id)
    ).all()
    return [
        Claimed(
            id=r.id,
            key=r.notification_key,
            channel=r.channel,
            address=r.address,
            attempts=r.attempts,
            declaration_id=r.declaration_id,
            campaign_id=r.campaign_id,
            recipient_role=r.recipient_role,
            recipient_org=r.recipient_org,
            recipient_id=r.recipient_id,
            kind=r.kind,
            text=r.text,
            send_after=r.send_after,
        )
        for r in rows
    ]


def mark_sent(session: Session, ids: Sequence[int], *, token: str, at: datetime) -> int:
    """Mark these deliveries sent, where ``token`` still holds them; returns how many."""
    if not ids:
        return 0
    d = _DELIVERY.c
    result = session.connection().execute(
        sa.update(_DELIVERY)
        .where(d.id.in_(list(ids)), d.claimed_by == token, d.status == "sending")
        .values(status="sent", sent_at=at, claimed_by="", claimed_until=None, last_error="")
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Failure:
    id: int
    #: The attempts made so far, this one included (from the claim).
    attempts: int
    error: str
    #: The server refused the address itself: no retry can help.
    permanent: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base: timedelta
    cap: timedelta


MAX_ERROR = 1000


def mark_failed(
    session: Session,
    failures: Sequence[Failure],
    *,
    token: str,
    now: datetime,
    policy: RetryPolicy,
) -> dict[str, int]:
    """Record failed attempts: ``retrying`` with the next attempt's instant (the backoff counted
    from ``now``), or ``dead``. Returns how many became each (only those ``token`` still held)."""
    d = _DELIVERY.c
    counts = {"retrying": 0, "dead": 0}
    for failure in failures:
        status = after_failure(
            failure.attempts, max_attempts=policy.max_attempts, permanent=failure.permanent
        )
        delay = retry_delay(failure.attempts, base=policy.base, cap=policy.cap)
        result = session.connection().execute(
            sa.update(_DELIVERY)
            .where(d.id == failure.id, d.claimed_by == token, d.status == "sending")
            .values(
                status=status,
                next_attempt_at=now + delay,
                claimed_by="",
                claimed_until=None,
                last_error=failure.error[:MAX_ERROR],
            )
        )
        counts[status] += int(result.rowcount)
    return counts


def next_due(session: Session) -> datetime | None:
    """The earliest instant anything in the outbox falls due: a pending notification, a delivery
    to try (again), or a claim whose lease ends."""
    n, d = _NOTIFICATION.c, _DELIVERY.c
    instants = [
        session.execute(sa.select(sa.func.min(n.send_after)).where(n.status == "pending")),
        session.execute(sa.select(sa.func.min(d.next_attempt_at)).where(d.status.in_(SENDABLE))),
        session.execute(sa.select(sa.func.min(d.claimed_until)).where(d.status == "sending")),
    ]
    present = [value for value in (r.scalar() for r in instants) if value is not None]
    return min(present) if present else None


def requeue(
    session: Session, *, campaign_id: str, now: datetime, statuses: Sequence[str]
) -> dict[str, int]:
    """Send again what failed (``dead``) or had no address (``no_address``) in a campaign: the
    addresses are looked up again, the attempts start afresh. Returns how many were queued
    again and how many still have no address."""
    d, n = _DELIVERY.c, _NOTIFICATION.c
    rows = session.execute(
        sa.select(d.id, d.channel, d.address, d.declaration_id, n.recipient_role, n.recipient_org)
        .join(_NOTIFICATION, n.key == d.notification_key)
        .where(d.campaign_id == campaign_id, d.status.in_(list(statuses)))
    ).all()
    book = AddressBook.load(
        session,
        {r.declaration_id for r in rows},
        {_lookup_keys(r.recipient_role, r.recipient_org) for r in rows},
    )
    queued, still_missing = 0, 0
    for r in rows:
        address = r.address
        if r.channel == "email":
            address = (
                book.lookup(
                    role=r.recipient_role, org=r.recipient_org, declaration_id=r.declaration_id
                )
                or ""
            )
        if not address:
            still_missing += 1
            continue
        session.execute(
            sa.update(_DELIVERY)
            .where(d.id == r.id, d.status.in_(list(statuses)))
            .values(
                status="pending", address=address, attempts=0, next_attempt_at=now, last_error=""
            )
        )
        queued += 1
    return {"queued": queued, "no_address": still_missing}


# --------------------------------------------------------------------------- what messages say


@dataclass(frozen=True)
class MessageContext:
    """What composing a batch's messages reads: each declaration's stored view (JSON), its
    campaign's name, and the state each notification was written in (by key)."""

    views: dict[str, str]
    campaign_names: dict[str, str]
    states: dict[str, str]


def message_context(session: Session, claimed: Sequence[Claimed]) -> MessageContext:
    ids = sorted({c.declaration_id for c in claimed})
    if not ids:
        return MessageContext({}, {}, {})
    read = DeclarationRead.__table__.c  # type: ignore[attr-defined]
    views: dict[str, str] = dict(
        session.execute(
            sa.select(read.declaration_id, read.view_json).where(read.declaration_id.in_(ids))
        ).all()
    )
    campaigns = dict(
        session.execute(
            sa.select(_REGISTRY.c.declaration_id, _REGISTRY.c.campaign_id).where(
                _REGISTRY.c.declaration_id.in_(ids)
            )
        ).all()
    )
    names: dict[str, str] = {}
    campaign = CampaignRow.__table__.c  # type: ignore[attr-defined]
    for row in session.execute(
        sa.select(campaign.id, campaign.body).where(
            campaign.id.in_(sorted(set(campaigns.values())))
        )
    ).all():
        names[row.id] = str(row.body.get("name", row.id))
    steps = {
        (c.declaration_id, seq): c.key
        for c in claimed
        if (seq := notice_seq(c.key, c.declaration_id)) is not None
    }
    states: dict[str, str] = {}
    if steps:
        a = _AUDIT.c
        for declaration_id, seq, state in session.execute(
            sa.select(a.declaration_id, a.seq, a.stage_after).where(
                a.declaration_id.in_(ids), sa.tuple_(a.declaration_id, a.seq).in_(list(steps))
            )
        ).all():
            if state:
                states[steps[(declaration_id, seq)]] = state
    return MessageContext(views, {d: names.get(c, "") for d, c in campaigns.items()}, states)


# --------------------------------------------------------------------------- what people see


def _deliveries_of(session: Session, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    d = _DELIVERY.c
    out: dict[str, list[dict[str, Any]]] = {}
    if not keys:
        return out
    rows = session.execute(
        sa.select(
            d.notification_key,
            d.channel,
            d.address,
            d.status,
            d.attempts,
            d.last_error,
            d.next_attempt_at,
            d.sent_at,
        )
        .where(d.notification_key.in_(list(keys)))
        .order_by(d.channel)
    ).all()
    for r in rows:
        out.setdefault(r.notification_key, []).append(
            {
                "channel": r.channel,
                "address": r.address,
                "status": r.status,
                "attempts": r.attempts,
                "error": r.last_error,
                "next_attempt_at": r.next_attempt_at if r.status == "retrying" else None,
                "sent_at": r.sent_at,
            }
        )
    return out


def reminders_of(
    session: Session,
    *,
    role: str,
    org: str | None,
    declarations: Any | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The notifications addressed to ``role`` (at ``org``, unless None: every organisation;
    about ``declarations`` only, a subquery of ids, when given), newest first, each with how
    its delivery fared on each channel. Superseded ones (a 延期 replaced them) and notices held
    back (a repeat, or outdated before it could be sent) are left out."""
    n = _NOTIFICATION.c
    query = sa.select(n.key, n.declaration_id, n.kind, n.text, n.send_after, n.status).where(
        n.recipient_role == role, n.status.not_in(["cancelled", *UNSENT])
    )
    if org is not None:
        query = query.where(n.recipient_org == org)
    if declarations is not None:
        query = query.where(n.declaration_id.in_(declarations))
    rows = session.execute(query.order_by(n.send_after.desc(), n.id.desc()).limit(limit)).all()
    channels = _deliveries_of(session, [r.key for r in rows])
    return [
        {
            "key": r.key,
            "declaration_id": r.declaration_id,
            "kind": r.kind,
            "text": r.text,
            "send_after": r.send_after,
            "status": r.status,
            "deliveries": channels.get(r.key, []),
        }
        for r in rows
    ]


#: Delivery statuses the committee must look at.
PROBLEMS = ("retrying", "dead", "no_address")


def campaign_deliveries(
    session: Session, campaign_id: str, *, now: datetime, limit: int = 200
) -> dict[str, Any]:
    """A campaign's delivery figures: deliveries per channel and status, notifications not
    yet due or due and not yet dispatched, and the deliveries that failed, are being retried or
    have no address (most recent first, up to ``limit``) with their notification."""
    d, n, reg = _DELIVERY.c, _NOTIFICATION.c, _REGISTRY.c
    counts: dict[str, dict[str, int]] = {}
    for channel, status, count in session.execute(
        sa.select(d.channel, d.status, sa.func.count())
        .where(d.campaign_id == campaign_id)
        .group_by(d.channel, d.status)
    ).all():
        counts.setdefault(channel, {})[status] = int(count)
    waiting = sa.select(sa.func.count()).select_from(
        _NOTIFICATION.join(_REGISTRY, reg.declaration_id == n.declaration_id)
    )
    mine = [reg.campaign_id == campaign_id, n.status == "pending"]
    scheduled = session.execute(waiting.where(*mine, n.send_after > now)).scalar_one()
    due = session.execute(waiting.where(*mine, n.send_after <= now)).scalar_one()
    problems = session.execute(
        sa.select(
            d.id,
            d.notification_key,
            d.declaration_id,
            d.channel,
            d.address,
            d.status,
            d.attempts,
            d.last_error,
            d.next_attempt_at,
            n.kind,
            n.recipient_role,
            n.recipient_org,
            n.send_after,
        )
        .join(_NOTIFICATION, n.key == d.notification_key)
        .where(d.campaign_id == campaign_id, d.status.in_(PROBLEMS))
        .order_by(n.send_after.desc(), d.id.desc())
        .limit(limit)
    ).all()
    return {
        "campaign_id": campaign_id,
        "deliveries": counts,
        "waiting": {"scheduled": int(scheduled), "due": int(due)},
        "problems": [
            {
                "key": p.notification_key,
                "declaration_id": p.declaration_id,
                "kind": p.kind,
                "recipient": {"role": p.recipient_role, "org": p.recipient_org},
                "channel": p.channel,
                "address": p.address,
                "status": p.status,
                "attempts": p.attempts,
                "error": p.last_error,
                "next_attempt_at": p.next_attempt_at if p.status == "retrying" else None,
                "due_at": p.send_after,
            }
            for p in problems
        ],
    }


def org_emails(session: Session) -> dict[str, str]:
    o = _ORG.c
    return dict(session.execute(sa.select(o.org_id, o.email).order_by(o.org_id)).all())


def outbox_figures(session: Session, *, now: datetime) -> tuple[dict[tuple[str, str], int], float]:
    """For ``/metrics``: deliveries per (channel, status), and the lag: how long the oldest
    notification or delivery that is due and not yet sent has been waiting (0 when none)."""
    d, n = _DELIVERY.c, _NOTIFICATION.c
    counts = {
        (channel, status): int(count)
        for channel, status, count in session.execute(
            sa.select(d.channel, d.status, sa.func.count()).group_by(d.channel, d.status)
        ).all()
    }
    oldest = [
        session.execute(
            sa.select(sa.func.min(n.send_after)).where(n.status == "pending", n.send_after <= now)
        ).scalar(),
        session.execute(
            sa.select(sa.func.min(d.next_attempt_at)).where(
                d.status.in_(SENDABLE), d.next_attempt_at <= now
            )
        ).scalar(),
    ]
    waiting = [at for at in oldest if at is not None]
    lag = (now - min(waiting)).total_seconds() if waiting else 0.0
    return counts, max(0.0, lag)
