"""Materials in the review (docs/rules.md §19): submission is refused while a required kind is
missing (001 四(一)1 因漏传、错传、未传导致的后果，由申报人承担), the unit approves only a complete
declaration and recommends only with its own stamped material, returns may name the material at
fault, and ``publicity_result_ref`` may name the uploaded publicity result."""

from __future__ import annotations

from typing import Any

from settings import Settings
from store.campaigns import get_campaign, replace_campaign
from store.db import Store
from testing import factories as f
from testing import samples
from testing.api import Api, refused_by
from tests.materials.helpers import (
    APPLICANT_REQUIRED,
    CATALOGUE,
    campaign,
    listing,
    upload,
    upload_required,
)

PDF = samples.pdf()
JPEG = samples.jpeg()


async def submit(api: Api, d: str, expect: int = 200) -> Any:
    return await api.post(f"/declarations/{d}/submit", f.APPLICANT, expect=expect)


async def test_submission_is_refused_while_a_required_material_is_missing(
    api: Api, settings: Settings
) -> None:
    """§19, 001 四(一)1: 409 naming every missing kind, audited; then complete, it goes."""
    d = await api.file(await campaign(api))
    refused = await submit(api, d, expect=409)
    for kind in APPLICANT_REQUIRED:
        assert kind in refused["detail"]
    assert "publicity_result" not in refused["detail"]  # the unit's, later
    assert "漏传、错传、未传" in refused["detail"]
    assert await refused_by(settings, d, f.APPLICANT.id)
    await upload_required(api, d, PDF, JPEG)
    assert (await submit(api, d))["state"] == "unit_review"


async def test_under_blind_review_an_unmasked_copy_does_not_count(
    api: Api, settings: Settings
) -> None:
    """§19, §9 (001 四(一)3): every required applicant kind needs its masked copy."""
    d = await api.file(await campaign(api))
    await upload_required(api, d, PDF, JPEG, masked=False)
    refused = await submit(api, d, expect=409)
    assert "masked" in refused["detail"]
    await upload_required(api, d, PDF, JPEG, masked=True)
    assert (await submit(api, d))["state"] == "unit_review"


async def test_a_kind_for_another_level_is_not_required(api: Api, settings: Settings) -> None:
    """§19: ``levels`` and ``routes`` narrow a kind; an intermediate applicant needs no
    deputy_senior evidence, and may not upload it (422)."""
    c = await campaign(api, blind_review=False)
    d = await api.file(c, level="intermediate")
    missing = (await listing(api, d))["missing_required"]
    assert "senior_work" not in missing
    await upload(api, d, f.APPLICANT, "senior_work", PDF, expect=422)
    for kind in ("id_card", "degree"):
        await upload(api, d, f.APPLICANT, kind, PDF)
    await upload(api, d, f.APPLICANT, "photo", JPEG, filename="photo.jpg")
    assert (await submit(api, d))["state"] == "unit_review"


async def test_a_campaign_without_a_catalogue_requires_no_upload(api: Api) -> None:
    """§19: no catalogue, no required upload; an upload has no kind to be (422)."""
    d = await api.file(await api.campaign())
    assert (await listing(api, d))["missing_required"] == []
    await upload(api, d, f.APPLICANT, "degree", PDF, expect=422)
    assert (await submit(api, d))["state"] == "unit_review"


async def test_the_applicant_uploads_only_while_the_declaration_is_theirs(api: Api) -> None:
    """§19: draft and returned; not while the unit reviews it (409)."""
    d = await api.file(await campaign(api))
    await upload_required(api, d, PDF, JPEG)
    await submit(api, d)
    await upload(api, d, f.APPLICANT, "degree", PDF, masked=True, expect=409)
    view = await api.decide(
        d,
        f.UNIT,
        "unit_review",
        "return",
        opinion="学历证书扫描不清晰",
        reasons=["unclear_scan", "material:degree"],
    )
    assert view["state"] == "returned"
    again = await upload(api, d, f.APPLICANT, "degree", samples.pdf("清晰版"), masked=True)
    assert again.json()["replaces"] is not None
    assert (await submit(api, d))["state"] == "unit_review"


async def test_a_return_may_name_only_kinds_of_the_catalogue(api: Api) -> None:
    """§19, §10.4: ``material:<kind>`` codes name a kind of the campaign's catalogue (422)."""
    d = await api.file(await campaign(api))
    await upload_required(api, d, PDF, JPEG)
    await submit(api, d)
    answer = await api.decide(
        d,
        f.UNIT,
        "unit_review",
        "return",
        expect=422,
        opinion="缺材料",
        reasons=["material:horoscope"],
    )
    assert "horoscope" in str(answer)


async def test_the_unit_approves_only_a_complete_declaration(api: Api, settings: Settings) -> None:
    """§19: a kind the catalogue came to require after the submission stops the unit's approval
    (409, naming it, audited) until the declaration is returned and completed."""
    c = await campaign(api)
    d = await api.file(c)
    await upload_required(api, d, PDF, JPEG)
    await submit(api, d)
    store = Store(settings.database_url)
    try:
        with store.session() as session:
            stored = get_campaign(session, c.id)
            assert stored is not None
            catalogue = {**CATALOGUE, "pledge": {"required": True, "label": "个人承诺书"}}
            stored = type(stored).model_validate(
                {**stored.model_dump(), "materials_catalogue": catalogue}
            )
            replace_campaign(session, stored, at=await api.now())
    finally:
        store.dispose()
    refused = await api.decide(d, f.UNIT, "unit_review", "approve", expect=409)
    assert "pledge" in refused["detail"] and "个人承诺书" in refused["detail"]
    refusals = await refused_by(settings, d, f.UNIT.id)
    assert refusals and refusals[0]["action"] == "decide"
    assert (await api.view(d))["state"] == "unit_review"


async def test_the_unit_recommends_with_its_own_uploaded_material(
    api: Api, settings: Settings
) -> None:
    """§19, 000 附件2 一(三)(四): the unit uploads its publicity result and its stamped
    recommendation; the recommendation is refused until both are there, and its
    ``publicity_result_ref`` may be the uploaded result's id (a material id that is not one of
    the unit's current files is 422)."""
    d = await api.file(await campaign(api))
    await upload_required(api, d, PDF, JPEG)
    await submit(api, d)
    view = await api.decide(d, f.UNIT, "unit_review", opinion="材料真实完整")
    result = (await upload(api, d, f.UNIT, "publicity_result", samples.pdf("公示结果证明"))).json()
    assert result["uploader_role"] == "unit_reviewer"
    await api.skip_past(view["deadlines"]["publicity_ends"])
    await api.wait_state(d, "unit_recommendation")
    refused = await api.decide(
        d, f.UNIT, "unit_recommendation", expect=409, publicity_result_ref=result["material_id"]
    )
    assert "unit_recommendation" in refused["detail"]
    await upload(api, d, f.UNIT, "unit_recommendation", samples.pdf("推荐意见（盖章）"))
    degree = next(i for i in (await listing(api, d))["items"] if i["kind"] == "degree")
    for wrong in ("M-000000000000", degree["material_id"], "M-nonsense"):
        await api.decide(d, f.UNIT, "unit_recommendation", expect=422, publicity_result_ref=wrong)
    view = await api.decide(
        d,
        f.UNIT,
        "unit_recommendation",
        opinion="同意推荐",
        publicity_result_ref=result["material_id"],
    )
    assert view["state"] == "authority_review"
    await upload(api, d, f.UNIT, "publicity_result", PDF, expect=409)  # past the unit's turn
