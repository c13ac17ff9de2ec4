"""What composing a batch of messages reads from the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from domain.reminders import notice_seq
from store.campaigns import CampaignRow
from store.delivery.sending import Claimed
from store.delivery.tables import AUDIT, REGISTRY
from store.tables import DeclarationRead


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
            sa.select(REGISTRY.c.declaration_id, REGISTRY.c.campaign_id).where(
                REGISTRY.c.declaration_id.in_(ids)
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
        a = AUDIT.c
        for declaration_id, seq, state in session.execute(
            sa.select(a.declaration_id, a.seq, a.stage_after).where(
                a.declaration_id.in_(ids), sa.tuple_(a.declaration_id, a.seq).in_(list(steps))
            )
        ).all():
            if state:
                states[steps[(declaration_id, seq)]] = state
    return MessageContext(views, {d: names.get(c, "") for d, c in campaigns.items()}, states)
