"""Documents issued once per declaration: the review form (评审表, docs/rules.md §2.6) and the
electronic certificate (电子证书, §2.10, §10.6).

Both are keyed by the declaration, so a retried issue returns what the first one issued.

- Review form: ``form_id`` is ``RF-<campaign>-<8 hex>`` (hex of sha256 of the declaration id,
  lengthened only on a clash), ``watermark_id`` the first 32 hex digits of
  sha256(``<declaration id>|<issued_at, canonical UTC>``).
- Certificate: ``certificate_no`` is ``RC-<campaign>-<serial, 6 digits>``, the serial counting
  the campaign's certificates from 1; ``verification_code`` is the first 8 hex digits
  (upper case) of sha256(``<certificate_no>|<declaration id>``), printed beside the number for
  the public check (§10.6).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select

from domain.calendar import BEIJING
from domain.models import Announcement, ReviewForm
from store.audit import canonical_instant
from store.db import advisory_xact_lock
from store.errors import UnknownCertificate
from store.tables import Certificate, ReviewFormRow

__all__ = [
    "CertificateCheck",
    "CertificateScope",
    "CertificateStatus",
    "certificate_status",
    "issue_certificate",
    "issue_review_form",
    "revoke_certificate",
]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def issue_review_form(
    session: Session, *, declaration_id: str, campaign_id: str, issued_at: datetime
) -> ReviewForm:
    """The declaration's review form, issued on the first call."""
    advisory_xact_lock(session, f"review_form:{declaration_id}")
    row = session.exec(
        select(ReviewFormRow).where(ReviewFormRow.declaration_id == declaration_id)
    ).first()
    if row is None:
        digest = _sha(declaration_id)
        for width in (8, 12, 16, 24, 32, 64):
            form_id = f"RF-{campaign_id}-{digest[:width]}"
            taken = session.exec(
                select(ReviewFormRow.id).where(ReviewFormRow.form_id == form_id)
            ).first()
            if taken is None:
                break
        row = ReviewFormRow(
            declaration_id=declaration_id,
            campaign_id=campaign_id,
            form_id=form_id,
            watermark_id=_sha(f"{declaration_id}|{canonical_instant(issued_at)}")[:32],
            issued_at=issued_at,
        )
        session.add(row)
        session.flush()
    return ReviewForm(form_id=row.form_id, watermark_id=row.watermark_id)


def issue_certificate(
    session: Session,
    *,
    declaration_id: str,
    campaign_id: str,
    series: str,
    level: str,
    announced_at: datetime,
    specialty: str | None = None,
    scope_region: str | None = None,
) -> Announcement:
    """The declaration's certificate, numbered on the first call (a retry finds it and changes
    nothing). ``scope_region``: a 定向评价 certificate's scope (docs/rules.md §2.10)."""
    advisory_xact_lock(session, f"certificate:{campaign_id}")
    row = session.exec(
        select(Certificate).where(Certificate.declaration_id == declaration_id)
    ).first()
    if row is None:
        last = session.exec(
            select(func.max(Certificate.serial)).where(Certificate.campaign_id == campaign_id)
        ).one()
        serial = int(last or 0) + 1
        number = f"RC-{campaign_id}-{serial:06d}"
        row = Certificate(
            certificate_no=number,
            verification_code=_sha(f"{number}|{declaration_id}")[:8].upper(),
            declaration_id=declaration_id,
            campaign_id=campaign_id,
            serial=serial,
            series=series,
            level=level,
            issued_on=announced_at.astimezone(BEIJING).date(),
            announced_at=announced_at,
            specialty=specialty,
            scope_region=scope_region,
        )
        session.add(row)
        session.flush()
    return Announcement(
        certificate_no=row.certificate_no, announced_at=row.announced_at.astimezone(BEIJING)
    )


def revoke_certificate(
    session: Session, *, declaration_id: str, certificate_no: str, revoked_at: datetime
) -> None:
    """撤销: mark the certificate revoked (the first revocation instant stays)."""
    row = session.exec(
        select(Certificate).where(Certificate.certificate_no == certificate_no)
    ).first()
    if row is None or row.declaration_id != declaration_id:
        raise UnknownCertificate(
            f"申报 {declaration_id} 没有编号为 {certificate_no} 的证书 / "
            "no such certificate for this declaration"
        )
    if row.status != "revoked":
        row.status = "revoked"
        row.revoked_at = revoked_at
        session.add(row)
        session.flush()


class CertificateScope(BaseModel):
    """定向评价、定向使用 (001 二(一)): where a directed certificate is valid."""

    kind: Literal["directed"] = "directed"
    region: str


class CertificateCheck(BaseModel):
    """§10.6 public certificate check: nothing personal."""

    certificate_no: str
    status: str
    level: str
    series: str
    specialty: str | None
    #: Where a 定向评价 certificate is valid; null for one valid everywhere.
    scope: CertificateScope | None
    issued_on: str


class CertificateStatus(CertificateCheck):
    """The check and the verification code printed beside the number."""

    verification_code: str


def certificate_status(session: Session, certificate_no: str) -> CertificateStatus | None:
    row = session.exec(
        select(Certificate).where(Certificate.certificate_no == certificate_no)
    ).first()
    if row is None:
        return None
    return CertificateStatus(
        certificate_no=row.certificate_no,
        status=row.status,
        level=row.level,
        series=row.series,
        specialty=row.specialty,
        scope=CertificateScope(region=row.scope_region) if row.scope_region else None,
        issued_on=row.issued_on.isoformat(),
        verification_code=row.verification_code,
    )
