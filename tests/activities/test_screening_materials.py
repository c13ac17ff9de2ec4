"""Screening at submission refuses while a required material is missing (docs/rules.md §19;
001 四(一)1 因漏传、错传、未传导致的后果，由申报人承担), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import datetime

from temporalio.testing import ActivityEnvironment

from activities.messages import ScreeningRequest
from activities.screening import ScreeningActivities
from domain.calendar import BEIJING
from domain.models import Campaign, ScreeningResult
from store.db import Store
from store.materials.records import NewMaterial, missing_materials, record_upload
from testing import factories
from testing.builders import declaration_id

AT = datetime(2024, 8, 1, 10, tzinfo=BEIJING)
ID_NUMBER = "652901198001015678"
CATALOGUE = {
    "degree": {"required": True, "label": "学历证书"},
    "pledge": {"required": True, "label": "个人承诺书"},
    "mandarin": {"required": False},
    "publicity_result": {"required": True, "uploader": "unit"},
}


def upload(store: Store, d: str, c: Campaign, kind: str, *, masked: bool) -> None:
    data = f"{d}{kind}{masked}".encode()
    new = NewMaterial(
        declaration_id=d,
        campaign_id=c.id,
        kind=kind,
        masked=masked,
        filename=f"{kind}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    with store.session() as session:
        record_upload(
            session, new, actor=factories.APPLICANT, at=AT, stage="draft", commit=lambda: None
        )


async def screen(store: Store, d: str, c: Campaign) -> ScreeningResult:
    request = ScreeningRequest(
        declaration_id=d,
        campaign=c,
        declaration=factories.declaration(c, applicant=factories.applicant(id_number=ID_NUMBER)),
        at=AT,
    )
    return await ActivityEnvironment().run(ScreeningActivities(store).screen_applicant, request)


async def test_a_missing_required_kind_refuses_the_submission(store: Store) -> None:
    c = factories.campaign(AT, materials_catalogue=CATALOGUE, blind_review=False)
    d = declaration_id()
    refused = await screen(store, d, c)
    assert refused.refusal is not None
    assert "degree" in refused.refusal and "pledge" in refused.refusal
    assert "publicity_result" not in refused.refusal and "mandarin" not in refused.refusal
    upload(store, d, c, "degree", masked=False)
    upload(store, d, c, "pledge", masked=False)
    assert (await screen(store, d, c)).refusal is None


async def test_under_blind_review_only_masked_copies_count(store: Store) -> None:
    c = factories.campaign(AT, materials_catalogue=CATALOGUE, blind_review=True)
    d = declaration_id()
    upload(store, d, c, "degree", masked=False)
    upload(store, d, c, "pledge", masked=True)
    refused = await screen(store, d, c)
    assert refused.refusal is not None and "degree" in refused.refusal
    assert "pledge" not in refused.refusal.split("/")[-1]
    with store.session(readonly=True) as session:
        assert missing_materials(session, d, c, "deputy_senior", "directed", True) == ["degree"]
        assert missing_materials(session, d, c, "deputy_senior", "directed", False) == []
        assert missing_materials(
            session, d, c, "deputy_senior", "directed", True, uploaders=("unit",)
        ) == ["publicity_result"]


async def test_a_campaign_without_a_catalogue_screens_as_before(store: Store) -> None:
    c = factories.campaign(AT)
    assert (await screen(store, declaration_id(), c)) == ScreeningResult()
