"""``GET /certificates/{number}``: the public certificate check (domain.md §10.6). Valid or
revoked, with the level, series and date of issue; nothing personal."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from api.deps import PUBLIC, ServicesDep
from api.services import in_session
from store.certificates import certificate_status

router = APIRouter(prefix="/certificates", tags=["certificates"])


class CertificateCheck(BaseModel):
    certificate_no: str
    status: str
    level: str
    series: str
    issued_on: str


@router.get("/{number}", dependencies=[Depends(PUBLIC)])
async def check_certificate(number: str, services: ServicesDep) -> CertificateCheck:
    found = await in_session(services.store, lambda s: certificate_status(s, number), readonly=True)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该证书 / unknown certificate number")
    return CertificateCheck(
        certificate_no=found.certificate_no,
        status=found.status,
        level=found.level,
        series=found.series,
        issued_on=found.issued_on,
    )
