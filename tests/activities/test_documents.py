"""Documents issued once per declaration: the review form with its watermark (§2.6; 001, 003,
004) and the electronic certificate (§2.10, 003 §九; §10.6 public check)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.announcement import AnnouncementActivities
from activities.messages import AnnouncementRequest, ReviewFormRequest, RevocationRequest
from activities.review_form import ReviewFormActivities
from domain.calendar import BEIJING
from domain.models import Organisation, Region
from store.certificates import CertificateScope, certificate_status
from store.db import Store
from store.organisations import apply_registry_change
from testing import factories as f
from testing.builders import CAMPAIGN_ID, declaration_id

AT = datetime(2024, 10, 11, 9, tzinfo=BEIJING)


def form_request(d: str, at: datetime = AT) -> ReviewFormRequest:
    return ReviewFormRequest(
        declaration_id=d, campaign_id=CAMPAIGN_ID, level="deputy_senior", issued_at=at
    )


def announcement(d: str, at: datetime = AT, **fields: Any) -> AnnouncementRequest:
    return AnnouncementRequest(
        declaration_id=d,
        campaign_id=CAMPAIGN_ID,
        series="engineering",
        level="deputy_senior",
        applicant_name="张三",
        announced_at=at,
        **fields,
    )


async def test_a_declaration_gets_one_review_form_and_a_retry_returns_it(store: Store) -> None:
    env, activities = ActivityEnvironment(), ReviewFormActivities(store)
    d = declaration_id()
    form = await env.run(activities.issue_review_form, form_request(d))
    assert re.fullmatch(rf"RF-{CAMPAIGN_ID}-[0-9a-f]{{8}}", form.form_id)
    assert re.fullmatch(r"[0-9a-f]{32}", form.watermark_id)
    later = await env.run(activities.issue_review_form, form_request(d, AT + timedelta(hours=1)))
    assert later == form
    other = await env.run(activities.issue_review_form, form_request(declaration_id()))
    assert (other.form_id, other.watermark_id) != (form.form_id, form.watermark_id)


async def test_a_certificate_is_numbered_once_per_declaration(store: Store) -> None:
    env, activities = ActivityEnvironment(), AnnouncementActivities(store)
    first, second = declaration_id(), declaration_id()
    a = await env.run(activities.announce_result, announcement(first))
    assert a.certificate_no == f"RC-{CAMPAIGN_ID}-000001"
    assert a.announced_at == AT
    retry = await env.run(activities.announce_result, announcement(first, AT + timedelta(days=1)))
    assert retry == a, "a retry returns the same number and instant"
    b = await env.run(activities.announce_result, announcement(second))
    assert b.certificate_no == f"RC-{CAMPAIGN_ID}-000002"
    with store.session(readonly=True) as session:
        status = certificate_status(session, a.certificate_no)
        assert certificate_status(session, "RC-none") is None
    assert status is not None
    assert (status.status, status.level, status.series, status.issued_on) == (
        "valid",
        "deputy_senior",
        "engineering",
        "2024-10-11",
    )
    assert re.fullmatch(r"[0-9A-F]{8}", status.verification_code)


async def test_revoking_a_certificate_marks_it_revoked_once(store: Store) -> None:
    env, activities = ActivityEnvironment(), AnnouncementActivities(store)
    d = declaration_id()
    issued = await env.run(activities.announce_result, announcement(d))
    revocation = RevocationRequest(
        declaration_id=d, certificate_no=issued.certificate_no, revoked_at=AT + timedelta(days=30)
    )
    await env.run(activities.revoke_certificate, revocation)
    await env.run(activities.revoke_certificate, revocation)
    with store.session(readonly=True) as session:
        status = certificate_status(session, issued.certificate_no)
    assert status is not None and status.status == "revoked"


async def test_revoking_a_certificate_of_another_declaration_is_refused(store: Store) -> None:
    env, activities = ActivityEnvironment(), AnnouncementActivities(store)
    issued = await env.run(activities.announce_result, announcement(declaration_id()))
    for number, owner in ((issued.certificate_no, declaration_id()), ("RC-x-000009", "D-x")):
        with pytest.raises(ApplicationError) as caught:
            await env.run(
                activities.revoke_certificate,
                RevocationRequest(declaration_id=owner, certificate_no=number, revoked_at=AT),
            )
        assert (caught.value.type, caught.value.non_retryable) == ("UnknownCertificate", True)


async def test_a_directed_certificate_states_its_scope_the_committees_region(store: Store) -> None:
    """§2.10 / §12 (001 二(一) 定向评价、定向使用): where the route is scoped, the certificate
    states its scope, the region the campaign's committee is registered in; where the committee
    has no registered region, the declaration's own. An unscoped certificate has none; each
    certificate keeps the specialty applied for."""
    aksu = Region(code="652900", name="阿克苏地区")
    with store.session() as session:
        apply_registry_change(
            session,
            [
                Organisation(
                    id="cm-aksu", kind="committee", name="地区评委会", region=aksu, members=25
                ),
                Organisation(id="cm-none", kind="committee", name="无地区评委会", members=25),
            ],
            actor=f.ADMIN,
            at=AT,
        )
    env, activities = ActivityEnvironment(), AnnouncementActivities(store)
    scoped = declaration_id()
    await env.run(
        activities.announce_result,
        announcement(
            scoped, specialty="公路工程", scoped=True, committee_org="cm-aksu", region="别的地区"
        ),
    )
    fallback = await env.run(
        activities.announce_result,
        announcement(
            declaration_id(), scoped=True, committee_org="cm-none", region="巴音郭楞蒙古自治州"
        ),
    )
    free = await env.run(
        activities.announce_result,
        announcement(
            declaration_id(), specialty="运输经济", committee_org="cm-aksu", region="阿克苏地区"
        ),
    )
    with store.session(readonly=True) as session:
        first = certificate_status(session, f"RC-{CAMPAIGN_ID}-000001")
        second = certificate_status(session, fallback.certificate_no)
        third = certificate_status(session, free.certificate_no)
    assert first is not None and second is not None and third is not None
    assert (first.specialty, first.scope) == ("公路工程", CertificateScope(region="阿克苏地区"))
    assert (second.specialty, second.scope) == (None, CertificateScope(region="巴音郭楞蒙古自治州"))
    assert (third.specialty, third.scope) == ("运输经济", None)
