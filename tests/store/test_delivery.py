"""The outbox's deliveries in the store, on SQLite and PostgreSQL (docs/rules.md §3 reminders):
where a notification goes (never guessed), what falls due next, how a failure backs off on the
clock it is given, that only the claim that holds a delivery may mark it, and that sending
again looks the addresses up afresh."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from domain.models import Actor, Notification, Organisation
from store import delivery
from store.db import Store
from store.organisations import apply_registry_change
from store.outbox import enqueue
from testing.builders import MONDAY, declaration_id

POLICY = delivery.RetryPolicy(max_attempts=3, base=timedelta(minutes=1), cap=timedelta(hours=1))
LEASE = timedelta(minutes=15)
ADMIN = Actor(id="admin-1", role="admin")


def notice(
    d: str, *, role: str = "applicant", org: str = "", at: datetime = MONDAY
) -> Notification:
    return Notification(
        key=f"{d}:3:act",
        declaration_id=d,
        recipient_role=role,
        recipient_org=org,
        kind="action_required",
        text=f"申报 {d} 待处理",
        send_after=at,
    )


def test_addresses_come_from_the_declaration_or_the_organisation_never_elsewhere(
    store: Store,
) -> None:
    d = declaration_id()
    with store.session() as session:
        delivery.record_applicant_email(session, d, "zhang@example.cn")
        delivery.record_applicant_email(session, d, "other@example.cn")  # a retry keeps the first
        delivery.set_org_email(session, "U-001", "hr@u001.example.cn", at=MONDAY)
        delivery.set_org_email(session, "committee", "office@pingshen.example.cn", at=MONDAY)
    with store.session(readonly=True) as session:

        def address(role: str, org: str = "", of: str = d) -> str | None:
            return delivery.address_for(
                session, role=role, org=org, recipient_id="x", declaration_id=of
            )

        assert address("applicant") == "zhang@example.cn"
        assert address("applicant", of=declaration_id()) is None
        assert address("unit_reviewer", "U-001") == "hr@u001.example.cn"
        assert address("unit_reviewer", "U-002") is None
        assert address("committee") == "office@pingshen.example.cn"
        assert address("finance") is None
    with store.session() as session:
        delivery.set_org_email(session, "U-001", None, at=MONDAY)
        assert delivery.org_emails(session) == {"committee": "office@pingshen.example.cn"}


def test_an_organisation_is_reached_at_its_registered_address_unless_another_was_set(
    store: Store,
) -> None:
    """docs/rules.md §11: the registry's e-mail is where an organisation's reviewers are reached;
    a notification address an administrator set for it (PUT /notification-addresses) wins."""
    units = [
        Organisation(id=f"U-MAIL-{n}", kind="unit", name=f"单位{n}", email=f"hr{n}@u.example.cn")
        for n in (1, 2)
    ]
    with store.session() as session:
        apply_registry_change(session, units, actor=ADMIN, at=MONDAY)
        delivery.set_org_email(session, "U-MAIL-2", "office@u2.example.cn", at=MONDAY)
    with store.session(readonly=True) as session:

        def address(org: str) -> str | None:
            return delivery.address_for(
                session, role="unit_reviewer", org=org, recipient_id="x", declaration_id="D-x"
            )

        assert address("U-MAIL-1") == "hr1@u.example.cn"
        assert address("U-MAIL-2") == "office@u2.example.cn"
        assert address("U-MAIL-3") is None


def test_a_failure_backs_off_from_the_clock_given_and_only_its_claim_marks_it(
    store: Store,
) -> None:
    d = declaration_id()
    with store.session() as session:
        delivery.record_applicant_email(session, d, "zhang@example.cn")
        enqueue(session, [notice(d)])
        delivery.dispatch_due(session, now=MONDAY, channels={"email": ""}, limit=10)
        [held] = delivery.claim(session, now=MONDAY, token="a", lease=LEASE, limit=10)
        assert held.attempts == 1 and held.address == "zhang@example.cn"
        stranger = delivery.Failure(held.id, 1, "451 try later")
        assert delivery.mark_failed(session, [stranger], token="b", now=MONDAY, policy=POLICY) == {
            "retrying": 0,
            "dead": 0,
        }
        assert delivery.mark_failed(session, [stranger], token="a", now=MONDAY, policy=POLICY) == {
            "retrying": 1,
            "dead": 0,
        }
        assert delivery.next_due(session) == MONDAY + timedelta(minutes=1)
        assert delivery.claim(session, now=MONDAY, token="c", lease=LEASE, limit=10) == []
        [again] = delivery.claim(
            session, now=MONDAY + timedelta(minutes=1), token="c", lease=LEASE, limit=10
        )
        assert again.attempts == 2
        later = MONDAY + timedelta(minutes=1)
        delivery.mark_failed(
            session, [delivery.Failure(again.id, 2, "451")], token="c", now=later, policy=POLICY
        )
        assert delivery.next_due(session) == later + timedelta(minutes=2)  # doubled


def test_sending_again_looks_the_address_up_afresh_and_starts_the_attempts_over(
    store: Store,
) -> None:
    unit, applicant = declaration_id(), declaration_id()
    with store.session() as session:
        session.execute(
            sa.text(
                "INSERT INTO declaration_registry (declaration_id, campaign_id, year, series, "
                "level, route, id_number, unit_id, live, state, created_at) VALUES "
                "(:a, 'c1', 2024, 's', 'junior', 'directed', :a, 'U-001', :t, 'draft', :at), "
                "(:b, 'c1', 2024, 's', 'junior', 'directed', :b, 'U-001', :t, 'draft', :at)"
            ),
            {
                "a": unit,
                "b": applicant,
                "t": True,
                "at": MONDAY.replace(tzinfo=None) if store.dialect == "sqlite" else MONDAY,
            },
        )
        enqueue(session, [notice(unit, role="unit_reviewer", org="U-001"), notice(applicant)])
        found = delivery.dispatch_due(session, now=MONDAY, channels={"email": ""}, limit=10)
        assert (found.notifications, found.no_address) == (2, 2)
        figures = delivery.campaign_deliveries(session, "c1", now=MONDAY)
        assert figures["deliveries"] == {"email": {"no_address": 2}}
        delivery.set_org_email(session, "U-001", "hr@u001.example.cn", at=MONDAY)
        counts = delivery.requeue(
            session, campaign_id="c1", now=MONDAY, statuses=["dead", "no_address"]
        )
        assert counts == {"queued": 1, "no_address": 1}
        [queued] = delivery.claim(session, now=MONDAY, token="t", lease=LEASE, limit=10)
        assert (queued.declaration_id, queued.address, queued.attempts) == (
            unit,
            "hr@u001.example.cn",
            1,
        )


def test_the_metrics_lag_is_how_long_the_oldest_due_item_has_waited(store: Store) -> None:
    d = declaration_id()
    with store.session() as session:
        enqueue(session, [notice(d, at=MONDAY)])
        counts, lag = delivery.outbox_figures(session, now=MONDAY + timedelta(seconds=90))
        assert counts == {} and lag == 90
        assert delivery.outbox_figures(session, now=MONDAY - timedelta(seconds=1))[1] == 0
