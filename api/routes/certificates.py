"""``GET /certificates/{number}``: the public certificate check (docs/rules.md §10.6). Valid or
revoked, with the level, series, specialty and date of issue and, for a 定向评价 certificate
(001), its scope (``{"kind": "directed", "region": …}``, §2.10); nothing personal.

``GET /certificates/{number}/pdf``: the certificate itself (电子证书, §2.10) as a one-page PDF
carrying its verification code and the public check's path, for its holder (the applicant who
filed the declaration), the committee and administrators. A revoked certificate is not issued
(409, audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status

from api.certificate_pdf import CertificateDocument, render_certificate
from api.deps import PUBLIC, Allow, ServicesDep, forbidden
from api.headers import content_disposition
from api.openapi import problems
from api.refusals import Refusals
from api.services import in_session
from api.subjects import load_facts
from domain.models import Actor
from store.campaigns import get_campaign
from store.certificates import CertificateCheck, certificate_status
from store.queries.campaigns import certificate_of
from store.readmodel import get_view

router = APIRouter(prefix="/certificates", tags=["certificates"])

Holder = Annotated[Actor, Depends(Allow("applicant", "committee", "admin"))]


def unknown_certificate() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "没有该证书 / unknown certificate number")


@router.get("/{number}", dependencies=[Depends(PUBLIC)])
async def check_certificate(number: str, services: ServicesDep) -> CertificateCheck:
    found = await in_session(services.store, lambda s: certificate_status(s, number), readonly=True)
    if found is None:
        raise unknown_certificate()
    return CertificateCheck.model_validate(found.model_dump(exclude={"verification_code"}))


@router.get(
    "/{number}/pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "the certificate"},
        **problems(409, s409="the certificate is revoked"),
    },
)
async def certificate_pdf(number: str, actor: Holder, services: ServicesDep) -> Response:
    """404 unknown number; 403 (audited) an applicant who is not the holder; 409 (audited) a
    revoked certificate."""
    cert = await in_session(services.store, lambda s: certificate_of(s, number), readonly=True)
    if cert is None:
        raise unknown_certificate()
    facts = await load_facts(services, cert.declaration_id)
    if facts is None:  # pragma: no cover - a certificate is issued by its declaration's workflow
        raise unknown_certificate()
    if actor.role == "applicant" and actor.id != facts.filed_by:
        raise await forbidden(
            services,
            actor,
            "只有证书持有人可以下载该证书 / only the holder may download it",
            action="certificate_pdf",
            facts=facts,
            detail={"certificate_no": number},
        )
    if cert.status != "valid":
        reason = f"证书 {number} 已撤销 / the certificate is revoked"
        await Refusals(services).on_declaration(
            actor,
            facts,
            action="certificate_pdf",
            reason=reason,
            status=409,
            detail={"certificate_no": number},
        )
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
    view = await in_session(
        services.store, lambda s: get_view(s, cert.declaration_id), readonly=True
    )
    campaign = await in_session(
        services.store, lambda s: get_campaign(s, cert.campaign_id), readonly=True
    )
    document = CertificateDocument(
        certificate_no=cert.certificate_no,
        holder_name=view.applicant.name if view is not None else "",
        series=cert.series,
        specialty=cert.specialty or "",
        scope_region=cert.scope_region or "",
        level=cert.level,
        issued_on=cert.issued_on,
        verification_code=cert.verification_code,
        campaign_name=campaign.name if campaign is not None else "",
    )
    return Response(
        render_certificate(document),
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(f"{cert.certificate_no}.pdf", "inline")
        },
    )
