"""Finding 5, audit tail (docs/audit.md): deleting the refusals appended after a declaration ended,
or the tail of the ``api:access`` / ``campaign:<id>`` chains, verified ok on both databases; on
SQLite ``INSERT OR REPLACE`` rewrote audit rows past the triggers; a fully re-hashed dossier
verified offline.

Now every chain has a signed checkpoint (Ed25519, moved in the same transaction as every append)
that verification compares it with; SQLite refuses REPLACE on audit rows; dossiers are signed,
the public key is published (``GET /audit/public-key``), and a re-hashed dossier fails
``python -m store.dossier_verify``."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from domain.models import AuditEventIn
from store import dossier_verify
from store.audit import (
    AuditHead,
    ChainReport,
    append_events,
    canonical_bytes,
    chain_rows,
    check_chains,
    head_message,
    tail_rows,
)
from store.db import Store
from store.dossier import build_dossier, dossier_json
from store.dossier_verify import document_bytes, verify_dossier
from store.readmodel import upsert_view
from store.signing import Signer, new_signing_key
from store.tables import AuditEvent
from testing.builders import CAMPAIGN_ID, MONDAY, declaration_id, event, trail, view
from tests.security.conftest import client_of
from tests.store.test_audit_tamper import superuser

AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
HEADS = AuditHead.__table__  # type: ignore[attr-defined]
OUTSIDER = ("outsider-1", "unit_reviewer", "U-999")


def refusals(chain: str, first: int, n: int, campaign_id: str = CAMPAIGN_ID) -> list[AuditEventIn]:
    at = MONDAY + timedelta(days=30)
    made = [
        event(chain, seq, at + timedelta(minutes=seq), action="get_declaration", actor=OUTSIDER,
              outcome="refused", opinion="无权查看 / you may not read this")
        for seq in range(first, first + n)
    ]  # fmt: skip
    return [e.model_copy(update={"campaign_id": campaign_id}) for e in made]


def check(
    store: Store, *, declaration_id: str | None = None, campaign_id: str | None = None
) -> ChainReport:
    with store.session(readonly=True) as session:
        return check_chains(session, declaration_id=declaration_id, campaign_id=campaign_id)


def delete_tail(store: Store, db_kind: str, chain: str, after: int) -> None:
    with superuser(store, db_kind) as connection:
        connection.execute(
            sa.delete(AUDIT).where(AUDIT.c.declaration_id == chain, AUDIT.c.seq > after)
        )


# --------------------------------------------------------------------------- tail deletion


def test_deleting_the_refusals_after_a_declaration_ended_is_detected(
    store: Store, db_kind: str
) -> None:
    """The read model's version stops at the last view (5); the refusals appended after the
    declaration ended (6, 7) were invisible to it. The checkpoint names 7."""
    d = declaration_id()
    with store.session() as session:
        append_events(session, trail(d, 5))
        upsert_view(session, view(d, version=5))
    with store.session() as session:
        append_events(session, refusals(d, 6, 2))
    assert check(store, declaration_id=d).ok
    delete_tail(store, db_kind, d, 5)
    report = check(store, declaration_id=d)
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert (
        report.problem
        == "events 6..7 missing: the signed checkpoint names event 7, the trail holds 5"
    )
    campaign = check(store, campaign_id=CAMPAIGN_ID)
    assert (campaign.ok, campaign.first_bad_declaration_id) == (False, d)


@pytest.mark.parametrize("chain", ["api:access", "campaign:aks-2024-transport"])
def test_deleting_the_tail_of_a_refusal_chain_is_detected(
    store: Store, db_kind: str, chain: str
) -> None:
    """These chains have no read model at all; before, a shorter one verified ok."""
    owner = "" if chain == "api:access" else CAMPAIGN_ID
    with store.session() as session:
        append_events(session, refusals(chain, 1, 4, campaign_id=owner))
    assert check(store, declaration_id=chain).ok
    delete_tail(store, db_kind, chain, 2)
    report = check(store, declaration_id=chain)
    assert (report.ok, report.first_bad_seq) == (False, 3)
    if owner:
        assert not check(store, campaign_id=owner).ok
    # Deleting all of it leaves the checkpoint, which names a chain with no event left.
    delete_tail(store, db_kind, chain, 0)
    report = check(store, declaration_id=chain)
    assert (report.ok, report.first_bad_seq) == (False, 1)


def test_the_checkpoint_cannot_be_rolled_back_deleted_or_forged(store: Store, db_kind: str) -> None:
    d = declaration_id()
    with store.session() as session:
        append_events(session, refusals(d, 1, 4))
    # Through the triggers: neither a rollback nor a delete.
    for statement in (
        sa.update(HEADS).where(HEADS.c.chain == d).values(seq=2),
        sa.delete(HEADS).where(HEADS.c.chain == d),
    ):
        refused = pytest.raises(DBAPIError, match="audit_head only moves forward")
        with refused, store.session() as session:
            session.connection().execute(statement)
    # Past them (a superuser): a checkpoint recomputed without the key does not verify.
    with store.session(readonly=True) as session:
        second = session.execute(
            sa.select(AUDIT.c.hash).where(AUDIT.c.declaration_id == d, AUDIT.c.seq == 2)
        ).scalar_one()
    forger = Signer.from_text(new_signing_key())
    with superuser(store, db_kind) as connection:
        connection.execute(sa.delete(AUDIT).where(AUDIT.c.declaration_id == d, AUDIT.c.seq > 2))
        connection.execute(
            sa.update(HEADS)
            .where(HEADS.c.chain == d)
            .values(
                seq=2,
                hash=second,
                key_id=forger.key_id,
                signature=forger.sign(head_message(d, CAMPAIGN_ID, 2, second)),
            )
        )
    report = check(store, declaration_id=d)
    assert (report.ok, report.first_bad_seq) == (False, 2)
    assert report.problem is not None and "not signed by a trusted key" in report.problem
    # And a chain whose checkpoint was removed altogether is not the service's.
    with superuser(store, db_kind) as connection:
        connection.execute(sa.delete(HEADS).where(HEADS.c.chain == d))
    report = check(store, declaration_id=d)
    assert (report.ok, report.first_bad_seq) == (False, 1)
    assert report.problem == "the chain has no signed checkpoint: it was not written by the service"


def test_events_inserted_behind_the_service_are_detected(store: Store) -> None:
    """INSERT stays open to the service's role; a row it did not write through the store (no
    checkpoint move) follows the checkpoint and is reported."""
    d = declaration_id()
    with store.session() as session:
        append_events(session, refusals(d, 1, 2))
    with store.session() as session:
        stored = {r.seq: r for r in tail_rows(session, d, 2)}
        rows, _ = chain_rows(d, refusals(d, 3, 1), stored)
        session.connection().execute(sa.insert(AUDIT), rows)  # not insert_rows: no checkpoint
    report = check(store, declaration_id=d)
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert report.problem is not None and "follow the signed checkpoint" in report.problem


# --------------------------------------------------------------------------- REPLACE


def test_sqlite_refuses_replace_on_audit_rows(store: Store, db_kind: str) -> None:
    d = declaration_id()
    with store.session() as session:
        append_events(session, trail(d, 3))
        before = session.execute(
            sa.select(AUDIT.c.id, AUDIT.c.opinion).where(
                AUDIT.c.declaration_id == d, AUDIT.c.seq == 2
            )
        ).one()
    if db_kind == "sqlite":
        statements = [
            "INSERT OR REPLACE INTO audit_event (declaration_id, campaign_id, seq, at, actor_id,"
            " actor_role, actor_org, action, stage_before, stage_after, outcome, opinion, reasons,"
            " detail, prev_hash, hash) SELECT declaration_id, campaign_id, seq, at, actor_id,"
            " actor_role, actor_org, action, stage_before, stage_after, outcome, 'forged', reasons,"
            " detail, prev_hash, hash FROM audit_event WHERE declaration_id = :d AND seq = 2",
            "REPLACE INTO audit_event SELECT id, declaration_id, campaign_id, seq, at, actor_id,"
            " actor_role, actor_org, action, stage_before, stage_after, outcome, 'forged', reasons,"
            " detail, prev_hash, hash FROM audit_event WHERE declaration_id = :d AND seq = 2",
        ]
    else:  # PostgreSQL's closest: an upsert is an UPDATE, which the trigger refuses
        statements = [
            "INSERT INTO audit_event SELECT * FROM audit_event WHERE declaration_id = :d AND seq = 2"
            " ON CONFLICT (declaration_id, seq) DO UPDATE SET opinion = 'forged'",
        ]
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
            session.connection().execute(sa.text(sql), {"d": d})
    with store.session(readonly=True) as session:
        after = session.execute(
            sa.select(AUDIT.c.id, AUDIT.c.opinion).where(
                AUDIT.c.declaration_id == d, AUDIT.c.seq == 2
            )
        ).one()
    assert tuple(after) == tuple(before)
    assert check(store, declaration_id=d).ok


# --------------------------------------------------------------------------- dossiers


def _dossier(store: Store) -> dict[str, Any]:
    d = declaration_id()
    with store.session() as session:
        append_events(session, trail(d, 4))
        upsert_view(session, view(d, version=4))
    with store.session(readonly=True) as session:
        document = build_dossier(session, d)
    return json.loads(dossier_json(document))


def _rehash(document: dict[str, Any]) -> None:
    """What a forger without the key can do: recompute every hash and link, and the proof."""
    prev = "0" * 64
    for entry in document["timeline"]:
        entry["prev_hash"] = prev
        entry["hash"] = prev = hashlib.sha256(canonical_bytes(entry)).hexdigest()
    document["proof"]["head_hash"] = prev
    document["proof"]["event_count"] = len(document["timeline"])
    by_seq = {e["seq"]: e for e in document["timeline"]}
    document["decisions"] = [
        {name: by_seq[d["seq"]][name] for name in d}
        for d in document["decisions"]
        if d["seq"] in by_seq
    ]


def _run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(Path(dossier_verify.__file__)), str(path), *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_rehashed_dossier_fails_offline_verification(store: Store, tmp_path: Path) -> None:
    document = _dossier(store)
    key = store.signer.public_key
    assert document["signature"]["public_key"] == key
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    ran = _run(good, "--public-key", key)
    assert ran.returncode == 0 and ran.stdout.startswith("ok: 4 events"), ran.stdout

    forged = copy.deepcopy(document)
    forged["timeline"][1]["opinion"] = "同意（伪造）"
    _rehash(forged)
    assert [e["hash"] for e in forged["timeline"]] != [e["hash"] for e in document["timeline"]]
    bad = tmp_path / "rehashed.json"
    bad.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    ran = _run(bad, "--public-key", key)
    assert ran.returncode == 1 and "altered after signing" in ran.stdout, ran.stdout
    assert _run(bad).returncode == 1  # the embedded key does not save it either

    # Re-signed with the forger's own key (and that key embedded): only the published key
    # exposes it.
    forger = Signer.from_text(new_signing_key())
    forged["proof"]["checkpoint"].update(
        hash=forged["proof"]["head_hash"],
        key_id=forger.key_id,
        public_key=forger.public_key,
        signature=forger.sign(
            head_message(forged["declaration_id"], CAMPAIGN_ID, 4, forged["proof"]["head_hash"])
        ),
    )
    forged["signature"].update(key_id=forger.key_id, public_key=forger.public_key)
    forged["signature"]["value"] = forger.sign(document_bytes(forged))
    assert verify_dossier(forged).ok  # consistent in itself...
    verdict = verify_dossier(forged, public_key=key)  # ... but not the service's
    assert not verdict.ok and "re-signed by someone else" in str(verdict.problem)


def test_a_dossier_cut_short_and_rehashed_fails_on_its_checkpoint(store: Store) -> None:
    document = _dossier(store)
    document["timeline"] = document["timeline"][:3]
    document["read_model_version"] = 3
    _rehash(document)
    verdict = verify_dossier(document, public_key=store.signer.public_key)
    assert not verdict.ok


async def test_the_public_key_is_published(make_bare_app: Callable[..., FastAPI]) -> None:
    app = make_bare_app()
    async with client_of(app) as http:
        answer = await http.get("/audit/public-key")
    assert answer.status_code == 200
    body = answer.json()
    signer = app.state.services.store.signer
    assert body["algorithm"] == "Ed25519" and body["public_key"] == signer.public_key
    assert len(base64.b64decode(body["public_key"])) == 32
    assert body["key_id"] == hashlib.sha256(signer.public_raw).hexdigest()[:16]


def test_the_pure_python_verifier_agrees_with_the_library() -> None:
    signer = Signer.from_text(new_signing_key())
    for message in (b"", b"review chain", "谁审查，谁负责".encode() * 50):
        signature = base64.b64decode(signer.sign(message))
        assert dossier_verify.ed25519_verify(signer.public_raw, message, signature)
        assert not dossier_verify.ed25519_verify(signer.public_raw, message + b".", signature)
        flipped = bytes([signature[0] ^ 1]) + signature[1:]
        assert not dossier_verify.ed25519_verify(signer.public_raw, message, flipped)
