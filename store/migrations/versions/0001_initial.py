"""The initial schema: audit trail, read model, registry, ledgers, outbox, calendar.

``audit_event`` is append-only: a trigger refuses UPDATE and DELETE on SQLite and PostgreSQL (and
TRUNCATE on PostgreSQL), so that even a maintenance session cannot rewrite history without
dropping the trigger first, which the hash chain would then expose.

Revision ID: 0001_initial
Revises:
Create Date: 2024-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_MESSAGE = "audit_event is append-only (谁审查，谁负责): UPDATE and DELETE are refused"


def _instant(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _string(name: str, length: int, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("declaration_id", 100),
        _string("campaign_id", 100),
        sa.Column("seq", sa.Integer(), nullable=False),
        _instant("at"),
        _string("actor_id", 100),
        _string("actor_role", 50),
        _string("actor_org", 100),
        _string("action", 100),
        _string("stage_before", 50, nullable=True),
        _string("stage_after", 50, nullable=True),
        _string("outcome", 20),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _string("prev_hash", 64),
        _string("hash", 64),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
        sa.UniqueConstraint("declaration_id", "seq", name="uq_audit_event_seq"),
    )
    op.create_index("ix_audit_event_campaign_id", "audit_event", ["campaign_id"])
    op.create_index("ix_audit_event_actor_id", "audit_event", ["actor_id"])

    op.create_table(
        "declaration_read",
        _string("declaration_id", 100),
        _string("campaign_id", 100),
        _string("state", 50),
        _string("pending_role", 50, nullable=True),
        _string("pending_org", 100, nullable=True),
        _string("pending_action", 100, nullable=True),
        _instant("due_at", nullable=True),
        _string("unit_id", 100),
        sa.Column("authority_chain", sa.JSON(), nullable=False),
        sa.Column("orgs", sa.Text(), nullable=False),
        _string("level", 30),
        _string("series", 100),
        _string("route", 30),
        _string("id_number", 32),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        _instant("at_risk_from", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _instant("updated_at", nullable=True),
        sa.Column("view_json", sa.Text(), nullable=False),
        sa.Column("held", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("declaration_id", name="pk_declaration_read"),
    )
    op.create_index("ix_declaration_read_campaign_id", "declaration_read", ["campaign_id"])
    op.create_index("ix_declaration_read_state", "declaration_read", ["state"])
    op.create_index("ix_declaration_read_unit_id", "declaration_read", ["unit_id"])
    op.create_index("ix_declaration_read_id_number", "declaration_read", ["id_number"])
    op.create_index(
        "ix_declaration_read_inbox", "declaration_read", ["pending_role", "pending_org", "due_at"]
    )

    op.create_table(
        "declaration_registry",
        _string("declaration_id", 100),
        _string("campaign_id", 100),
        sa.Column("year", sa.Integer(), nullable=False),
        _string("series", 100),
        _string("level", 30),
        _string("route", 30),
        _string("id_number", 32),
        _string("unit_id", 100),
        sa.Column("live", sa.Boolean(), nullable=False),
        _string("state", 50),
        _instant("created_at"),
        sa.PrimaryKeyConstraint("declaration_id", name="pk_declaration_registry"),
    )
    op.create_index("ix_declaration_registry_campaign_id", "declaration_registry", ["campaign_id"])
    op.create_index(
        "ix_declaration_registry_person",
        "declaration_registry",
        ["year", "series", "level", "id_number"],
    )

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("receipt_no", 100),
        _string("declaration_id", 100),
        _string("campaign_id", 100),
        sa.Column("amount", sa.Integer(), nullable=False),
        _string("payer_org", 100),
        _string("confirmed_by", 100),
        _instant("at"),
        sa.PrimaryKeyConstraint("id", name="pk_payment"),
        sa.UniqueConstraint("receipt_no", "declaration_id", name="uq_payment_receipt_declaration"),
    )
    op.create_index("ix_payment_receipt_no", "payment", ["receipt_no"])
    op.create_index("ix_payment_declaration_id", "payment", ["declaration_id"])

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("key", 300),
        _string("declaration_id", 100),
        _string("recipient_role", 50),
        _string("recipient_org", 100),
        _string("recipient_id", 100),
        _string("kind", 50),
        sa.Column("text", sa.Text(), nullable=False),
        _instant("send_after"),
        _string("supersedes", 300, nullable=True),
        _string("status", 20),
        _instant("created_at"),
        _instant("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notification"),
        sa.UniqueConstraint("key", name="uq_notification_key"),
    )
    op.create_index("ix_notification_declaration_id", "notification", ["declaration_id"])
    op.create_index("ix_notification_due", "notification", ["status", "send_after"])

    op.create_table(
        "blacklist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("subject_kind", 20),
        _string("subject_id", 100),
        _string("series", 100, nullable=True),
        _string("level", 30, nullable=True),
        _instant("from_at"),
        _instant("until"),
        sa.Column("reason", sa.Text(), nullable=False),
        _string("declaration_id", 100),
        _string("campaign_id", 100),
        sa.PrimaryKeyConstraint("id", name="pk_blacklist_entry"),
        sa.UniqueConstraint(
            "subject_kind", "subject_id", "declaration_id", name="uq_blacklist_subject_finding"
        ),
    )
    op.create_index("ix_blacklist_subject", "blacklist_entry", ["subject_kind", "subject_id"])

    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        _string("version", 100),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        _instant("loaded_at"),
        sa.PrimaryKeyConstraint("year", name="pk_calendar_year"),
    )

    op.create_table(
        "review_form",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("declaration_id", 100),
        _string("campaign_id", 100),
        _string("form_id", 150),
        _string("watermark_id", 64),
        _instant("issued_at"),
        sa.PrimaryKeyConstraint("id", name="pk_review_form"),
        sa.UniqueConstraint("declaration_id", name="uq_review_form_declaration_id"),
        sa.UniqueConstraint("form_id", name="uq_review_form_form_id"),
    )

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("certificate_no", 150),
        _string("verification_code", 16),
        _string("declaration_id", 100),
        _string("campaign_id", 100),
        sa.Column("serial", sa.Integer(), nullable=False),
        _string("series", 100),
        _string("level", 30),
        sa.Column("issued_on", sa.Date(), nullable=False),
        _instant("announced_at"),
        _string("status", 20),
        _instant("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_certificate"),
        sa.UniqueConstraint("certificate_no", name="uq_certificate_certificate_no"),
        sa.UniqueConstraint("declaration_id", name="uq_certificate_declaration_id"),
        sa.UniqueConstraint("campaign_id", "serial", name="uq_certificate_campaign_serial"),
    )

    op.create_table(
        "publicity",
        sa.Column("id", sa.Integer(), nullable=False),
        _string("declaration_id", 100),
        _string("kind", 30),
        _instant("started_at"),
        _instant("ends_at"),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        _instant("closed_at", nullable=True),
        _string("outcome", 30, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_publicity"),
        sa.UniqueConstraint(
            "declaration_id", "kind", "started_at", name="uq_publicity_declaration_kind_start"
        ),
    )
    op.create_index("ix_publicity_declaration_id", "publicity", ["declaration_id"])

    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_event_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE} (%)', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    for table in (
        "publicity",
        "certificate",
        "review_form",
        "calendar_year",
        "blacklist_entry",
        "notification",
        "payment",
        "declaration_registry",
        "declaration_read",
        "audit_event",
    ):
        op.drop_table(table)
