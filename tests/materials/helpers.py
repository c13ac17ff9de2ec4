"""Uploading and reading materials through the API in tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from domain.models import Actor, Campaign
from settings import Settings
from store.db import Store
from store.materials.objects import ObjectStore, open_objects
from testing import factories as f
from testing.api import Api

#: A catalogue in the shape of notice 001 四(一) and 附件 (kinds, who uploads them, limits).
CATALOGUE: dict[str, Any] = {
    "id_card": {"required": True, "label": "身份证（正、反面）", "max_mb": 5},
    "photo": {"required": True, "label": "一寸免冠照片", "types": ["jpeg", "png"], "max_mb": 1},
    "degree": {"required": True, "label": "学历学位证书及学信网报告"},
    "mandarin": {"required": False, "label": "普通话等级证书"},
    "senior_work": {"required": True, "label": "副高级业绩佐证", "levels": ["deputy_senior"]},
    "publicity_result": {"required": True, "uploader": "unit", "label": "公示结果证明"},
    "unit_recommendation": {"required": True, "uploader": "unit", "label": "加盖公章的推荐意见"},
}
#: What the applicant of a deputy_senior declaration must upload.
APPLICANT_REQUIRED = ["id_card", "photo", "degree", "senior_work"]


async def campaign(api: Api, **overrides: Any) -> Campaign:
    overrides.setdefault("materials_catalogue", CATALOGUE)
    return await api.campaign(**overrides)


async def upload(
    api: Api,
    declaration_id: str,
    actor: Actor,
    kind: str,
    content: bytes,
    *,
    filename: str = "scan.pdf",
    masked: bool | None = None,
    expect: int | None = 201,
    **fields: str,
) -> httpx.Response:
    data: dict[str, str] = {"kind": kind, **fields}
    if masked is not None:
        data["masked"] = "true" if masked else "false"
    response = await api.http.post(
        f"/declarations/{declaration_id}/materials",
        data=data,
        files={"file": (filename, content, "application/octet-stream")},
        headers=api.headers(actor),
    )
    if expect is not None:
        assert response.status_code == expect, response.text
    return response


async def upload_required(
    api: Api, declaration_id: str, content: bytes, image: bytes, *, masked: bool = True
) -> dict[str, str]:
    """Every required applicant kind, as masked copies (blind review); ids by kind."""
    ids = {}
    for kind in APPLICANT_REQUIRED:
        body = image if kind == "photo" else content
        name = "photo.jpg" if kind == "photo" else f"{kind}.pdf"
        answer = await upload(
            api, declaration_id, f.APPLICANT, kind, body, filename=name, masked=masked
        )
        ids[kind] = answer.json()["material_id"]
    return ids


async def listing(api: Api, declaration_id: str, actor: Actor = f.ADMIN) -> dict[str, Any]:
    result: dict[str, Any] = await api.get(f"/declarations/{declaration_id}/materials", actor)
    return result


def objects_of(settings: Settings) -> ObjectStore:
    return open_objects(settings)


def stored_objects(settings: Settings) -> list[str]:
    return sorted(sha for sha, _ in open_objects(settings).objects())


def spooled(settings: Settings) -> list[Path]:
    directory = Path(settings.upload_spool_dir)
    return sorted(directory.glob("*")) if directory.is_dir() else []


def material_rows(settings: Settings, declaration_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import text

    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            rows = (
                session.execute(
                    text("SELECT * FROM material WHERE declaration_id = :d ORDER BY uploaded_at"),
                    {"d": declaration_id},
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]
    finally:
        store.dispose()


async def rows(settings: Settings, declaration_id: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(material_rows, settings, declaration_id)
