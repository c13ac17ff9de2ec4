"""Reading materials (docs/rules.md §19): who may read which file, the watermark naming the
reader and the instant, and the audit event of every read (谁看过), on both stores."""

from __future__ import annotations

import hashlib
import io

from PIL import Image
from pypdf import PdfReader

from settings import Settings
from testing import factories as f
from testing import samples
from testing.api import AUDITOR, Api, refused_by
from tests.materials.helpers import campaign, listing, upload

PDF = samples.pdf("学历证书 degree (reading test)", pages=2)
JPEG = samples.jpeg(800, 600)


async def read(
    api: Api, d: str, material_id: str, actor: f.Actor, expect: int = 200, **params: str
) -> bytes:
    response = await api.call(
        "GET", f"/declarations/{d}/materials/{material_id}", actor, expect=expect, **params
    )
    return response.content if expect == 200 else b""


async def test_reviewers_read_a_watermarked_copy_naming_them(api: Api, settings: Settings) -> None:
    """§19: a PDF goes out with the reader's id, role, organisation and the instant on every
    page; the original (its hash recorded) stays as it was."""
    d = await api.file(await campaign(api))
    material = (await upload(api, d, f.APPLICANT, "degree", PDF)).json()
    response = await api.call(
        "GET", f"/declarations/{d}/materials/{material['material_id']}", f.UNIT
    )
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-watermarked"] == "true"
    assert response.headers["x-material-sha256"] == material["sha256"]
    assert response.headers["cache-control"] == "no-store"
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) == 2
    for page in pages:
        text = page.extract_text()
        assert f.UNIT.id in text and "unit_reviewer" in text and f.UNIT.org in text
        assert d in text and "+08:00" in text
        assert "reading test" in text
    assert hashlib.sha256(response.content).hexdigest() != material["sha256"]


async def test_an_image_is_watermarked_too(api: Api, settings: Settings) -> None:
    d = await api.file(await campaign(api))
    material = (await upload(api, d, f.APPLICANT, "photo", JPEG, filename="photo.jpg")).json()
    body = await read(api, d, material["material_id"], f.UNIT)
    stamped = Image.open(io.BytesIO(body))
    assert stamped.format == "JPEG" and stamped.size == (800, 600)
    original = Image.open(io.BytesIO(JPEG)).convert("RGB")
    assert stamped.convert("RGB").tobytes() != original.tobytes()


async def test_the_original_is_for_the_uploader_auditor_and_admin(
    api: Api, settings: Settings
) -> None:
    """§19: the untouched bytes (whose SHA-256 the trail names) go to the uploader, auditors and
    administrators; a reviewer asking for them is refused (403, audited)."""
    d = await api.file(await campaign(api))
    material = (await upload(api, d, f.APPLICANT, "degree", PDF)).json()
    mid = material["material_id"]
    for reader in (f.APPLICANT, AUDITOR, f.ADMIN):
        body = await read(api, d, mid, reader)
        assert hashlib.sha256(body).hexdigest() == material["sha256"]
    stamped = await read(api, d, mid, AUDITOR, watermark="true")
    assert hashlib.sha256(stamped).hexdigest() != material["sha256"]
    await read(api, d, mid, f.UNIT, expect=403, watermark="false")
    assert await refused_by(settings, d, f.UNIT.id)


async def test_every_read_is_audited_with_its_reader(api: Api, settings: Settings) -> None:
    """§19 (谁看过): each download is an accepted read_material event of the materials chain,
    naming the reader; the chain verifies."""
    d = await api.file(await campaign(api))
    mid = (await upload(api, d, f.APPLICANT, "degree", PDF)).json()["material_id"]
    await read(api, d, mid, f.UNIT)
    await read(api, d, mid, f.COUNTY)
    await read(api, d, mid, f.APPLICANT)
    events = (await api.get(f"/declarations/{d}/materials/history", AUDITOR))["events"]
    reads = [
        (e["actor_id"], e["detail"]["material_id"], e["detail"]["watermarked"])
        for e in events
        if e["action"] == "read_material"
    ]
    assert reads == [(f.UNIT.id, mid, True), (f.COUNTY.id, mid, True), (f.APPLICANT.id, mid, False)]
    assert all(e["outcome"] == "accepted" for e in events)
    check = await api.get("/audit/verify", AUDITOR, declaration_id=f"materials:{d}")
    assert check == {
        "ok": True,
        "checked": 4,
        "first_bad_seq": None,
        "first_bad_declaration_id": None,
    }


async def test_readers_follow_the_declarations_read_policy(api: Api, settings: Settings) -> None:
    """§19, §14: another unit, finance, another applicant: 403 (audited); an unknown material:
    404."""
    d = await api.file(await campaign(api))
    mid = (await upload(api, d, f.APPLICANT, "degree", PDF)).json()["material_id"]
    for outsider in (f.OTHER_UNIT, f.FINANCE, f.APPLICANT.model_copy(update={"id": "someone"})):
        await read(api, d, mid, outsider, expect=403)
        await api.get(f"/declarations/{d}/materials", outsider, expect=403)
    await read(api, d, "M-000000000000", f.UNIT, expect=404)
    other = await api.file(await campaign(api), applicant=f.APPLICANT)
    await read(api, other, mid, f.ADMIN, expect=404)
    assert await refused_by(settings, d, f.OTHER_UNIT.id)


async def test_under_blind_review_the_committee_reads_only_masked_files(
    api: Api, settings: Settings
) -> None:
    """§19, §9 (001 四(一)3 所有…上传附件中涉及本人姓名、照片和工作单位信息均需遮盖): the committee
    lists and reads only the masked copies, without file names or uploaders."""
    d = await api.file(await campaign(api))
    plain = (await upload(api, d, f.APPLICANT, "degree", PDF, filename="张三学历.pdf")).json()
    masked = (
        await upload(
            api,
            d,
            f.APPLICANT,
            "degree",
            samples.pdf("遮盖版"),
            filename="张三学历-遮盖.pdf",
            masked=True,
        )
    ).json()
    seen = await listing(api, d, f.COMMITTEE)
    assert [i["material_id"] for i in seen["items"]] == [masked["material_id"]]
    assert seen["items"][0]["filename"] == "degree.pdf"
    assert seen["items"][0]["uploaded_by"] == "***"
    assert "张三" not in str(seen)
    await read(api, d, plain["material_id"], f.COMMITTEE, expect=403)
    response = await api.call(
        "GET", f"/declarations/{d}/materials/{masked['material_id']}", f.COMMITTEE
    )
    assert "张三" not in response.headers["content-disposition"]
    history = await api.get(f"/declarations/{d}/materials/history", f.COMMITTEE)
    assert "张三" not in str(history) and f.APPLICANT.id not in str(history)
    unit_view = await listing(api, d, f.UNIT)
    assert len(unit_view["items"]) == 2


async def test_without_blind_review_the_committee_reads_every_file(
    api: Api, settings: Settings
) -> None:
    d = await api.file(await campaign(api, blind_review=False))
    mid = (await upload(api, d, f.APPLICANT, "degree", PDF)).json()["material_id"]
    await read(api, d, mid, f.COMMITTEE)
    assert len((await listing(api, d, f.COMMITTEE))["items"]) == 1
