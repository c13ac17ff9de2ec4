"""The organisation registry (``store.organisations.OrganisationRow``, docs/rules.md §11), and on
each campaign the bodies that act for it (``campaign.committee_org``, ``campaign.fee_offices``,
``campaign.confirming_org``).

Existing campaigns are filled in from their stored body: a campaign made before the registry names
no committee, finance office or confirming body, so all stay empty (NULL and "") and, as when it
was made, any committee and any finance office act for it. Existing declarations need nothing: the authority
chain each was filed with is in its workflow's input, its history and its read model
(``declaration_read.authority_chain``), and stays what it was.

Revision ID: 0008_organisations
Revises: 0007_materials
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008_organisations"
down_revision: str | None = "0007_materials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fee_offices(body: dict[str, Any]) -> str:
    offices = [o for o in body.get("finance_orgs") or [] if o]
    if not offices and body.get("committee_org"):
        offices = [body["committee_org"]]
    return f"|{'|'.join(offices)}|" if offices else ""


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=True),
        sa.Column("region_name", sa.String(100), nullable=True),
        sa.Column("parent_id", sa.String(100), nullable=True),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organisation"),
    )
    op.create_index("ix_organisation_kind", "organisation", ["kind"])
    op.create_index("ix_organisation_parent_id", "organisation", ["parent_id"])

    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("committee_org", sa.String(100), nullable=True))
        batch.add_column(sa.Column("fee_offices", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("confirming_org", sa.String(100), nullable=True))
    op.create_index("ix_campaign_committee_org", "campaign", ["committee_org"])
    op.create_index("ix_campaign_confirming_org", "campaign", ["confirming_org"])

    campaign = sa.table(
        "campaign",
        sa.column("id", sa.String()),
        sa.column("body", sa.JSON()),
        sa.column("committee_org", sa.String()),
        sa.column("fee_offices", sa.Text()),
        sa.column("confirming_org", sa.String()),
    )
    connection = op.get_bind()
    for campaign_id, body in connection.execute(sa.select(campaign.c.id, campaign.c.body)):
        data = json.loads(body) if isinstance(body, str) else dict(body or {})
        if not any(data.get(k) for k in ("committee_org", "finance_orgs", "confirming_org")):
            continue
        connection.execute(
            campaign.update()
            .where(campaign.c.id == campaign_id)
            .values(
                committee_org=data.get("committee_org"),
                fee_offices=_fee_offices(data),
                confirming_org=data.get("confirming_org"),
            )
        )


def downgrade() -> None:
    op.drop_index("ix_campaign_confirming_org", table_name="campaign")
    op.drop_index("ix_campaign_committee_org", table_name="campaign")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("confirming_org")
        batch.drop_column("fee_offices")
        batch.drop_column("committee_org")
    op.drop_index("ix_organisation_parent_id", table_name="organisation")
    op.drop_index("ix_organisation_kind", table_name="organisation")
    op.drop_table("organisation")
