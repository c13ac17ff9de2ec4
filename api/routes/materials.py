"""A declaration's uploaded materials (网上申报, docs/rules.md §19) over HTTP.

- ``POST /declarations/{id}/materials`` (multipart: ``kind``, ``file``, optional ``masked``,
  optional ``replaces``) → 201 with the file's metadata (200 when the same bytes were already
  the current file of that kind: nothing new is recorded);
- ``GET /declarations/{id}/materials`` → every file, current and replaced, with the catalogue's
  completeness (``missing_required``);
- ``GET /declarations/{id}/materials/history`` → the uploads and reads, as audit events;
- ``GET /declarations/{id}/materials/{material_id}`` → the file, watermarked for the reader.

The rules (who uploads what when, who reads what) are in :mod:`api.materials`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from api.answers import JSONAnswer
from api.deps import Allow, ServicesDep
from api.materials import download, listing, material_events, upload
from api.openapi import problems
from api.policy import ALL_ROLES
from domain.models import Actor

router = APIRouter(prefix="/declarations/{declaration_id}/materials", tags=["materials"])

Uploader = Annotated[Actor, Depends(Allow("applicant", "unit_reviewer", action="upload_material"))]
Reader = Annotated[Actor, Depends(Allow(*ALL_ROLES, action="read_material"))]
HistoryReader = Annotated[
    Actor,
    Depends(
        Allow(
            "auditor",
            "admin",
            "committee",
            "unit_reviewer",
            "authority_reviewer",
            "applicant",
            action="material_history",
        )
    ),
]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "file"],
                    "properties": {
                        "kind": {
                            "type": "string",
                            "maxLength": 50,
                            "description": "a kind of the campaign's materials_catalogue",
                        },
                        "masked": {
                            "type": "boolean",
                            "default": False,
                            "description": "the file is the masked copy (遮盖, blind review)",
                        },
                        "replaces": {
                            "type": "string",
                            "pattern": "^(M-[0-9a-f]{12})?$",
                            "description": "the current file this upload is meant to "
                            "replace (empty: none); another one is 409",
                        },
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, JPEG or PNG (judged by the content), at most "
                            "the kind's max_mb",
                        },
                    },
                },
                "encoding": {"file": {"contentType": "application/pdf, image/jpeg, image/png"}},
            }
        },
    }
}

_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "the same bytes were already the current file of this kind"},
    400: {"description": "a cut-off or malformed multipart body"},
    403: {"description": "not this declaration's applicant or unit, or a kind of the other party"},
    404: {"description": "unknown declaration"},
    409: {"description": "a stage that takes no upload from this party, or replaced meanwhile"},
    413: {"description": "larger than the kind's max_mb"},
    415: {
        "description": "not PDF, JPEG or PNG (judged by the content), or not a type the kind takes"
    },
    422: {"description": "unknown kind, a path as file name, an incomplete or unreadable file"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_BODY,
    responses=_ANSWERS,
    summary="Upload a material (streamed, hashed, checked by content)",
)
async def upload_material(
    declaration_id: str, request: Request, actor: Uploader, services: ServicesDep
) -> Any:
    item, created = await upload(services, actor, declaration_id, request)
    return JSONAnswer(item, status_code=201 if created else 200)


@router.get(
    "",
    summary="The declaration's materials and the catalogue's completeness",
    responses=problems(403, s403="not a declaration this account or organisation reads"),
)
async def list_materials(declaration_id: str, actor: Reader, services: ServicesDep) -> Any:
    return await listing(services, actor, declaration_id)


@router.get("/history", summary="Who uploaded, replaced and read which file when")
async def material_history(
    declaration_id: str, actor: HistoryReader, services: ServicesDep
) -> dict[str, Any]:
    return {"events": await material_events(services, actor, declaration_id)}


@router.get(
    "/{material_id}",
    responses={
        200: {
            "description": "the file (PDF or image), watermarked unless the original is given",
            "content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}},
        },
        403: {"description": "may not read it (blind review: unmasked files), or the original"},
        404: {"description": "unknown declaration or material"},
    },
    summary="Read one file (audited; watermarked with the reader and the instant)",
)
async def read_material(
    declaration_id: str,
    material_id: str,
    actor: Reader,
    services: ServicesDep,
    watermark: Annotated[bool | None, Query()] = None,
) -> Response:
    """``watermark=false`` asks for the untouched original (auditor, admin, the uploader)."""
    return await download(
        services, actor, declaration_id, material_id, watermark=watermark, via="api"
    )
