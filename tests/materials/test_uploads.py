"""Uploading materials (docs/rules.md §19), on the directory store and on S3: what is accepted,
what is refused and how, and that a refused or failed upload leaves nothing behind."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from settings import Settings
from testing import factories as f
from testing import samples
from testing.api import AUDITOR, Api, refused_by
from tests.materials.helpers import (
    campaign,
    listing,
    material_rows,
    rows,
    spooled,
    stored_objects,
    upload,
)

PDF = samples.pdf()


def nothing_kept(settings: Settings, declaration_id: str) -> None:
    assert material_rows(settings, declaration_id) == []
    assert stored_objects(settings) == []
    assert spooled(settings) == []


async def test_the_applicant_uploads_a_pdf_hashed_by_the_service(
    api: Api, settings: Settings
) -> None:
    """§19: streamed, typed from the content, hashed by the service; the answer names it all."""
    d = await api.file(await campaign(api))
    answer = (await upload(api, d, f.APPLICANT, "degree", PDF, filename="学历证书.pdf")).json()
    assert answer["kind"] == "degree" and answer["filename"] == "学历证书.pdf"
    assert answer["content_type"] == "application/pdf" and answer["size"] == len(PDF)
    assert answer["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert answer["masked"] is False and answer["replaces"] is None
    assert answer["uploaded_by"] == f.APPLICANT.id and answer["material_id"].startswith("M-")
    assert stored_objects(settings) == [answer["sha256"]]
    assert spooled(settings) == []
    listed = await listing(api, d)
    assert [i["material_id"] for i in listed["items"]] == [answer["material_id"]]
    # blind review (001 四(一)3): the unmasked degree does not count until a masked copy exists
    assert listed["missing_required"] == [
        "id_card",
        "photo",
        "degree",
        "senior_work",
        "publicity_result",
        "unit_recommendation",
    ]


async def test_the_type_comes_from_the_content_not_the_name(api: Api, settings: Settings) -> None:
    """§19: a text file named .pdf is 415; a PNG named .pdf is a PNG."""
    d = await api.file(await campaign(api))
    answer = await upload(
        api, d, f.APPLICANT, "degree", b"%PDX not a pdf at all\n", filename="degree.pdf", expect=415
    )
    assert "PDF" in answer.json()["detail"]
    nothing_kept(settings, d)
    png = (await upload(api, d, f.APPLICANT, "photo", samples.png(), filename="photo.pdf")).json()
    assert png["content_type"] == "image/png"


async def test_a_kind_that_takes_images_refuses_a_pdf(api: Api, settings: Settings) -> None:
    """§19: the photo of the electronic certificate is an image (000 附件2 一(二)1)."""
    d = await api.file(await campaign(api))
    answer = await upload(api, d, f.APPLICANT, "photo", PDF, filename="photo.pdf", expect=415)
    assert "jpeg" in answer.json()["detail"]
    nothing_kept(settings, d)


async def test_too_large_is_413_and_nothing_is_written(api: Api, settings: Settings) -> None:
    """§19: each kind has its own limit (photo: 1 MB)."""
    d = await api.file(await campaign(api))
    big = samples.jpeg(3000, 3000, colour=(10, 200, 30))
    big = big + b"\x00" * max(0, 1024 * 1024 + 10 - len(big))
    answer = await upload(api, d, f.APPLICANT, "photo", big, filename="photo.jpg", expect=413)
    assert "1 MB" in answer.json()["detail"]
    nothing_kept(settings, d)


async def test_unknown_kind_and_bad_fields_are_422(api: Api, settings: Settings) -> None:
    d = await api.file(await campaign(api))
    answer = await upload(api, d, f.APPLICANT, "horoscope", PDF, expect=422)
    assert answer.json()["errors"][0]["loc"] == ["body", "kind"]
    perhaps = await api.http.post(
        f"/declarations/{d}/materials",
        data={"kind": "degree", "masked": "perhaps"},
        files={"file": ("degree.pdf", PDF, "application/pdf")},
        headers=api.headers(f.APPLICANT),
    )
    assert perhaps.status_code == 422 and perhaps.json()["errors"][0]["loc"] == ["body", "masked"]
    await upload(api, d, f.APPLICANT, "degree", b"", expect=422)
    nothing_kept(settings, d)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.pdf",
        "C:\\Users\\me\\degree.pdf",
        "sub/degree.pdf",
        "..",
        "degree\u202egpj.pdf",
    ],
)
async def test_a_path_like_file_name_is_422(api: Api, settings: Settings, name: str) -> None:
    """§19: objects are named by their hash; a name with a path is a client error."""
    d = await api.file(await campaign(api))
    answer = await upload(api, d, f.APPLICANT, "degree", PDF, filename=name, expect=422)
    assert answer.json()["errors"][0]["loc"] == ["body", "file"]
    nothing_kept(settings, d)


async def test_an_incomplete_or_unreadable_file_is_422(api: Api, settings: Settings) -> None:
    """§19, 004 附件2 二(二) 附件材料无法打开的…视为无相关附件材料: a cut-off PDF, JPEG or PNG."""
    d = await api.file(await campaign(api))
    for kind, content, name in [
        ("degree", PDF[: len(PDF) // 2], "degree.pdf"),
        ("photo", samples.jpeg()[:-200], "photo.jpg"),
        ("photo", samples.png()[:-12], "photo.png"),
        ("degree", b"%PDF-1.4\n garbage that is no pdf\n%%EOF\n", "degree.pdf"),
    ]:
        answer = await upload(api, d, f.APPLICANT, kind, content, filename=name, expect=422)
        assert answer.json()["errors"][0]["loc"] == ["body", "file"], answer.text
    nothing_kept(settings, d)


async def test_a_truncated_request_body_is_400(api: Api, settings: Settings) -> None:
    """§19: a body that ends before its closing boundary (the connection was cut) keeps
    nothing."""
    d = await api.file(await campaign(api))
    boundary = "----reviewchain-test"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\ndegree\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="degree.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode() + PDF[:5000]
    response = await api.http.post(
        f"/declarations/{d}/materials",
        content=body,
        headers={
            **api.headers(f.APPLICANT),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert response.status_code == 400, response.text
    assert "incomplete" in response.json()["detail"]
    nothing_kept(settings, d)
    plain = await api.http.post(
        f"/declarations/{d}/materials",
        content=PDF,
        headers={**api.headers(f.APPLICANT), "Content-Type": "application/pdf"},
    )
    assert plain.status_code == 415
    nothing_kept(settings, d)


async def test_a_replaced_file_keeps_its_predecessor(api: Api, settings: Settings) -> None:
    """§19: nothing is lost; the new file names the one it replaces, the history says who
    replaced what when; the same bytes again record nothing."""
    d = await api.file(await campaign(api))
    first = (await upload(api, d, f.APPLICANT, "degree", PDF)).json()
    second_pdf = samples.pdf("学历证书（重新扫描）")
    second = (await upload(api, d, f.APPLICANT, "degree", second_pdf)).json()
    assert second["replaces"] == first["material_id"]
    again = await upload(api, d, f.APPLICANT, "degree", second_pdf, expect=200)
    assert again.json()["material_id"] == second["material_id"]
    items = {i["material_id"]: i for i in (await listing(api, d))["items"]}
    assert items[first["material_id"]]["current"] is False
    assert items[first["material_id"]]["superseded_by"] == second["material_id"]
    assert items[second["material_id"]]["current"] is True
    assert sorted(stored_objects(settings)) == sorted({first["sha256"], second["sha256"]})
    events = await api.get(f"/declarations/{d}/materials/history", AUDITOR)
    uploads = [e for e in events["events"] if e["action"] == "upload_material"]
    assert [
        (e["actor_id"], e["detail"]["material_id"], e["detail"]["replaces"]) for e in uploads
    ] == [
        (f.APPLICANT.id, first["material_id"], None),
        (f.APPLICANT.id, second["material_id"], first["material_id"]),
    ]
    check = await api.get("/audit/verify", AUDITOR, declaration_id=f"materials:{d}")
    assert check["ok"] is True and check["checked"] == 2


async def test_racing_uploads_serialise_and_a_stale_replace_is_409(
    api: Api, settings: Settings
) -> None:
    """§19: two uploads of one kind at once: both are kept, one after the other, exactly one is
    current; two that both meant to replace the same file: one wins, the other is 409 (audited)
    and leaves no row."""
    d = await api.file(await campaign(api))
    bodies = [samples.pdf(f"版本 {n}") for n in range(4)]
    answers = await asyncio.gather(
        *(upload(api, d, f.APPLICANT, "degree", body) for body in bodies[:2])
    )
    ids = {a.json()["material_id"] for a in answers}
    stored = await rows(settings, d)
    assert {r["id"] for r in stored} == ids
    [first] = [r for r in stored if r["replaces"] is None]
    [second] = [r for r in stored if r["replaces"] is not None]
    assert second["replaces"] == first["id"] and first["superseded_by"] == second["id"]
    assert second["superseded_by"] is None  # exactly one current file
    current = second["id"]
    raced = await asyncio.gather(
        *(
            upload(api, d, f.APPLICANT, "degree", body, expect=None, replaces=current)
            for body in bodies[2:]
        )
    )
    assert sorted(a.status_code for a in raced) == [201, 409]
    loser = next(a for a in raced if a.status_code == 409)
    assert "replaced meanwhile" in loser.json()["detail"]
    assert len(await rows(settings, d)) == 3
    assert await refused_by(settings, d, f.APPLICANT.id)


async def test_who_uploads_what_when(api: Api, settings: Settings) -> None:
    """§19: the applicant uploads their kinds in draft and returned only; the unit's kinds are
    the unit's (403, audited); another unit and other roles may not (403)."""
    d = await api.file(await campaign(api))
    answer = await upload(api, d, f.APPLICANT, "publicity_result", PDF, expect=403)
    assert "unit" in answer.json()["detail"]
    refused = await refused_by(settings, d, f.APPLICANT.id)
    assert refused and refused[0]["action"] == "upload_material"
    await upload(api, d, f.OTHER_UNIT, "publicity_result", PDF, expect=403)
    await upload(api, d, f.COMMITTEE, "degree", PDF, expect=403)
    await upload(api, d, f.UNIT, "publicity_result", PDF, expect=409)  # the unit's turn is later
    other = f.APPLICANT.model_copy(update={"id": "applicant-2"})
    await upload(api, d, other, "degree", PDF, expect=403)
    nothing_kept(settings, d)
