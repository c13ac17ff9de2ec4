"""Uploading one file (docs/rules.md §19): who may upload at which stage, the catalogue's kinds,
types and sizes, and the replacement of a current file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import Request, status
from sqlalchemy.exc import IntegrityError

from api.deps import forbidden
from api.documents import inspect_file
from api.materials.target import (
    APPLICANT_STATES,
    FILE_RULE,
    KIND_RULE,
    MB,
    UNIT_STATES,
    Target,
    objects_of,
    party_of,
    refuse,
    target_of,
    unprocessable,
)
from api.policy import org_refusal
from api.problems import Problem
from api.services import Services, in_session
from api.uploads import ReceivedUpload, receive_upload, too_large
from domain.materials import (
    CONTENT_TYPES,
    bad_filename,
    incomplete,
    is_material_id,
    sniff,
)
from domain.models import Actor, MaterialKind
from store.materials.records import (
    ANY,
    NewMaterial,
    ReplacedMeanwhile,
    material_json,
    record_upload,
)


def _limit_for(kinds: dict[str, MaterialKind]) -> Callable[[dict[str, str]], int]:
    largest = max((k.max_mb for k in kinds.values()), default=1)

    def limit(fields: dict[str, str]) -> int:
        kind = kinds.get(fields.get("kind", ""))
        return (kind.max_mb if kind is not None else largest) * MB

    return limit


def _flag(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text in ("", "false", "0", "off", "no"):
        return False
    if text in ("true", "1", "on", "yes"):
        return True
    return None


async def upload(
    services: Services,
    actor: Actor,
    declaration_id: str,
    request: Request,
    *,
    verify: Callable[[dict[str, str]], None] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Receive one file for the declaration; ``(its metadata, whether it is new)``. ``verify``
    checks the form's other fields (the console's CSRF token) before anything is kept."""
    action = "upload_material"
    target = await target_of(services, declaration_id)
    reason = org_refusal(actor, target.facts)
    if reason:
        raise await forbidden(services, actor, reason, action=action, facts=target.facts)
    party, state = party_of(actor), target.subject.state
    allowed = APPLICANT_STATES if party == "applicant" else UNIT_STATES
    if state not in allowed:
        raise await refuse(
            services,
            actor,
            target,
            action=action,
            code=status.HTTP_409_CONFLICT,
            reason=(
                f"该申报当前处于「{state}」阶段，{'申报人' if party == 'applicant' else '单位'}不能上传"
                f"材料 / {party} materials are uploaded at {', '.join(sorted(allowed))}, not at "
                f"{state}"
            ),
        )
    objects = objects_of(services)
    kinds = target.kinds
    received = await receive_upload(request, objects, limit_for=_limit_for(kinds))
    try:
        return await _accept(services, actor, target, received, verify)
    finally:
        received.discard()


async def _accept(
    services: Services,
    actor: Actor,
    target: Target,
    received: ReceivedUpload,
    verify: Callable[[dict[str, str]], None] | None,
) -> tuple[dict[str, Any], bool]:
    fields = received.fields
    if verify is not None:
        verify(fields)
    kind_name = fields.get("kind", "")
    catalogue = target.campaign.materials_catalogue
    if not kind_name:
        raise unprocessable("kind", "缺少材料类别 kind / the field kind is missing")
    if kind_name not in catalogue:
        known = (
            ", ".join(catalogue) or "（本评审工作不接收上传材料 / this campaign takes no uploads）"
        )
        raise unprocessable(
            "kind", f"未知的材料类别 / unknown kind; known: {known}", kind_name, rule=KIND_RULE
        )
    kind = target.kinds.get(kind_name)
    if kind is None:
        raise unprocessable(
            "kind",
            f"材料类别 {kind_name} 不适用于该申报的级别或渠道 / kind {kind_name} does not apply to "
            f"level {target.subject.level} on route {target.subject.route}",
            kind_name,
            rule=KIND_RULE,
        )
    if kind.uploader != party_of(actor):
        who = "用人单位 unit" if kind.uploader == "unit" else "申报人 applicant"
        raise await refuse(
            services,
            actor,
            target,
            action="upload_material",
            code=status.HTTP_403_FORBIDDEN,
            reason=f"材料 {kind_name} 由{who}上传 / {kind_name} is uploaded by the {kind.uploader}",
            detail={"kind": kind_name},
        )
    masked = _flag(fields.get("masked"))
    if masked is None:
        raise unprocessable("masked", "masked 应为 true 或 false / masked is true or false")
    expect: object = ANY
    if "replaces" in fields:
        wanted = fields["replaces"].strip()
        if wanted and not is_material_id(wanted):
            raise unprocessable("replaces", "不是材料编号 / not a material id", wanted)
        expect = wanted or None
    spool = received.spool
    if spool is None:
        raise unprocessable("file", "缺少文件 / the field file is missing")
    name = received.filename or ""
    why = bad_filename(name)
    if why:
        raise unprocessable("file", why, name[:200], rule=FILE_RULE)
    if spool.size == 0:
        raise unprocessable("file", "文件为空 / the file is empty", rule=FILE_RULE)
    if spool.size > kind.max_mb * MB:
        raise too_large(kind.max_mb * MB)
    file_type = sniff(bytes(spool.head[:16]))
    if file_type is None:  # the content's rule (no schema reads a file): named as such
        raise Problem(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "只接收 PDF、JPEG、PNG 文件（按文件内容判断，不看文件名）/ only PDF, JPEG and PNG are "
            "accepted, judged by the content, not the name",
            extra={"code": FILE_RULE},
        )
    if kind.types and file_type not in kind.types:  # the catalogue's rule
        raise Problem(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"材料 {kind_name} 只接收 {', '.join(t.upper() for t in kind.types)}，上传的是 "
            f"{file_type.upper()} / {kind_name} takes {', '.join(kind.types)}, this file is "
            f"{file_type}",
            extra={"code": KIND_RULE},
        )
    why = incomplete(file_type, spool.tail)
    pages = None
    if why is None:
        pages, why = await asyncio.to_thread(inspect_file, spool.path, file_type)
    if why:
        raise unprocessable("file", why, rule=FILE_RULE)
    new = NewMaterial(
        declaration_id=target.subject.declaration_id,
        campaign_id=target.subject.campaign_id,
        kind=kind_name,
        masked=masked,
        filename=name,
        content_type=CONTENT_TYPES[file_type],
        size=spool.size,
        sha256=received.sha256,
        pages=pages,
    )
    objects = objects_of(services)
    at = await services.clock()

    def record(session: Any) -> Any:
        return record_upload(
            session,
            new,
            actor=actor,
            at=at,
            stage=target.subject.state,
            commit=lambda: objects.put(new.sha256, spool.path),
            expect_replaces=expect,
        )

    for attempt in (1, 2):
        try:
            done = await in_session(services.store, record)
            break
        except ReplacedMeanwhile as err:
            current = err.current or "none"
            raise await refuse(
                services,
                actor,
                target,
                action="upload_material",
                code=status.HTTP_409_CONFLICT,
                reason=(
                    f"该材料已被其他上传替换（当前为 {current}），请刷新后重试 / this kind was "
                    f"replaced meanwhile (the current file is {current}): reload and retry"
                ),
                detail={"kind": kind_name, "expected": expect, "current": current},
            ) from None
        except IntegrityError:
            if attempt == 2:
                raise
    return material_json(done.material), done.created
