"""Signed checkpoints of the audit chains (``store.audit.heads``), and no REPLACE on audit rows.

* ``audit_head``: one row per chain, the ``seq`` and ``hash`` of its last event, signed with the
  service's Ed25519 key; every append moves it in the same transaction, so a deleted tail shows.
  Triggers refuse DELETE (and TRUNCATE) and any UPDATE that does not move ``seq`` forward, so an
  old checkpoint cannot be put back either without bypassing them.
* SQLite: ``INSERT OR REPLACE`` deletes the row it replaces **without firing delete triggers**
  (unless ``recursive_triggers`` is on), so it could rewrite an audit row past the append-only
  triggers. A BEFORE INSERT trigger now refuses an insert whose key (``declaration_id, seq``, or
  the row id) is already taken, REPLACE or not. (PostgreSQL has no REPLACE; its
  ``INSERT … ON CONFLICT DO UPDATE`` is an UPDATE, which the existing trigger refuses.)
* Every chain already stored is signed as it stands now (trust on first use): what was removed
  before this migration is not detected by a checkpoint (the read model's version still
  detects a declaration's lost tail). The signer is the store's own
  (``store.db.Store.migrate`` passes it); a database holding events cannot be migrated without.

Revision ID: 0006_audit_heads
Revises: 0005_revoked_tokens
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0006_audit_heads"
down_revision: str | None = "0005_revoked_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEAD_MESSAGE = "audit_head only moves forward (谁审查，谁负责): DELETE and rollback are refused"
REPLACE_MESSAGE = "audit_event is append-only (谁审查，谁负责): an existing row cannot be replaced"

_LAST_EVENTS = """
SELECT e.declaration_id, e.campaign_id, e.seq, e.hash
FROM audit_event e
JOIN (SELECT declaration_id, max(seq) AS seq FROM audit_event GROUP BY declaration_id) m
  ON e.declaration_id = m.declaration_id AND e.seq = m.seq
"""


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("chain", sa.String(100), nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("chain", name="pk_audit_head"),
    )
    op.create_index("ix_audit_head_campaign_id", "audit_head", ["campaign_id"])
    _sign_existing_chains()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _sign_existing_chains() -> None:
    from store.audit.heads import head_message  # the one definition of the signed bytes

    bind = op.get_bind()
    last = bind.execute(sa.text(_LAST_EVENTS)).all()
    if not last:
        return
    signer = context.config.attributes.get("audit_signer")
    if signer is None:
        raise RuntimeError(
            "signing the existing audit chains needs the service's signing key: migrate with "
            "the service (Store.migrate, e.g. python worker.py), not with alembic alone"
        )
    table = sa.table(
        "audit_head",
        *(sa.column(c) for c in ("chain", "campaign_id", "seq", "hash", "key_id", "signature")),
    )
    bind.execute(
        sa.insert(table),
        [
            {
                "chain": chain,
                "campaign_id": campaign_id,
                "seq": seq,
                "hash": digest,
                "key_id": signer.key_id,
                "signature": signer.sign(head_message(chain, campaign_id, seq, digest)),
            }
            for chain, campaign_id, seq, digest in last
        ],
    )


def _postgresql_triggers() -> None:
    op.execute(
        f"""
        CREATE FUNCTION audit_head_forward_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF NEW.chain = OLD.chain AND NEW.seq > OLD.seq THEN
                    RETURN NEW;
                END IF;
            END IF;
            RAISE EXCEPTION '{HEAD_MESSAGE} (%)', TG_OP
                USING ERRCODE = 'integrity_constraint_violation';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()"
    )


def _sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON audit_event "
        "WHEN EXISTS (SELECT 1 FROM audit_event WHERE declaration_id = NEW.declaration_id "
        "AND seq = NEW.seq) OR EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{REPLACE_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
        "WHEN NEW.seq <= OLD.seq OR NEW.chain <> OLD.chain "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_replace BEFORE INSERT ON audit_head "
        "WHEN EXISTS (SELECT 1 FROM audit_head WHERE chain = NEW.chain) "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD_MESSAGE}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
    else:
        for name in (
            "audit_head_no_replace",
            "audit_head_forward_only",
            "audit_head_no_delete",
            "audit_event_no_replace",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_audit_head_campaign_id", table_name="audit_head")
    op.drop_table("audit_head")
