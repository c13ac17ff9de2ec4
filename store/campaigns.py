"""Campaigns (年度评审工作) as the API stores them: the validated :class:`domain.models.Campaign`
as JSON, plus the columns lists filter on.

A declaration's workflow keeps its own copy of the campaign as it stood at creation; this table is
what ``GET /campaigns/{id}`` answers and what new declarations start from. A deadline change
(延期) replaces the stored body and is then fanned out to the open declarations.

``committee_org``, ``fee_offices`` and ``confirming_org`` repeat what the body says about who acts
for the campaign (docs/rules.md §11), so that a committee's, a finance office's or a confirming
body's lists and inbox are one indexed condition: the campaign's committee, and ``|office-1|office-2|`` (``Campaign.fee_offices()``,
delimited as ``declaration_read.orgs`` is). A campaign stored before the registry has neither
(NULL and ""): any committee and any finance office act for it, as they did when it was made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from domain.models import Campaign
from store.tables import UTCDateTime

__all__ = [
    "CampaignRow",
    "add_campaign",
    "blind_review_of",
    "campaign_exists",
    "delimited",
    "get_campaign",
    "replace_campaign",
]


class CampaignRow(SQLModel, table=True):
    """One campaign; ``body`` is ``Campaign.model_dump(mode="json")``."""

    __tablename__ = "campaign"

    id: str = Field(primary_key=True, max_length=100)
    year: int = Field(index=True)
    series: str = Field(max_length=100)
    #: The campaign's committee (``Campaign.committee_org``); NULL before the registry.
    committee_org: str | None = Field(default=None, max_length=100, index=True)
    #: Who records its fees, delimited: ``|office|…|`` (``Campaign.fee_offices()``); "" before.
    fee_offices: str = Field(default="", sa_type=sa.Text, nullable=False)
    #: The authority that confirms its results and entrustments (``Campaign.confirming_org``).
    confirming_org: str | None = Field(default=None, max_length=100, index=True)
    body: dict[str, Any] = Field(sa_type=sa.JSON, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def campaign_exists(session: Session, campaign_id: str) -> bool:
    """Whether the store knows the campaign (its body is not read)."""
    query = sa.select(sa.literal(1)).where(col(CampaignRow.id) == campaign_id)
    return session.execute(query).first() is not None


def add_campaign(session: Session, campaign: Campaign, *, at: datetime) -> bool:
    """Store a new campaign; False (and nothing written) when the id is taken."""
    if session.get(CampaignRow, campaign.id) is not None:
        return False
    session.add(
        CampaignRow(
            id=campaign.id,
            year=campaign.year,
            series=campaign.series,
            committee_org=campaign.committee_org,
            fee_offices=delimited(campaign.fee_offices()),
            confirming_org=campaign.confirming_org,
            body=campaign.model_dump(mode="json"),
            created_at=at,
            updated_at=at,
        )
    )
    session.flush()
    return True


def delimited(ids: Iterable[str]) -> str:
    """``|a|b|`` for ``["a", "b"]``; "" for none (see the module docstring)."""
    listed = [i for i in ids if i]
    return f"|{'|'.join(listed)}|" if listed else ""


def get_campaign(session: Session, campaign_id: str) -> Campaign | None:
    row = session.get(CampaignRow, campaign_id)
    return None if row is None else Campaign.model_validate(row.body)


def replace_campaign(session: Session, campaign: Campaign, *, at: datetime) -> None:
    """Replace a stored campaign's body (its id, year and series stay)."""
    row = session.get(CampaignRow, campaign.id)
    if row is None:
        raise KeyError(campaign.id)
    row.body = campaign.model_dump(mode="json")
    row.committee_org = campaign.committee_org
    row.fee_offices = delimited(campaign.fee_offices())
    row.confirming_org = campaign.confirming_org
    row.updated_at = at
    session.add(row)
    session.flush()


def blind_review_of(session: Session, campaign_ids: Iterable[str]) -> dict[str, bool]:
    """``blind_review`` of each stored campaign among ``campaign_ids`` (unknown ids are absent)."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    rows = session.exec(select(CampaignRow).where(col(CampaignRow.id).in_(ids)))
    return {row.id: bool(row.body.get("blind_review", False)) for row in rows}
