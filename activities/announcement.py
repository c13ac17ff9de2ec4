"""Announcing the result with an electronic certificate number, and revoking it
(docs/rules.md §2.10, §2 end; 003 §九)."""

from __future__ import annotations

from sqlmodel import Session
from temporalio import activity

from activities.messages import AnnouncementRequest, RevocationRequest
from activities.support import log, run_blocking
from domain.models import Announcement
from store import certificates
from store.db import Store
from store.organisations import get_organisation


def scope_region(session: Session, request: AnnouncementRequest) -> str | None:
    """A 定向评价 certificate's scope (docs/rules.md §2.10): the region of the campaign's
    committee as registered now; where the committee has none registered, the declaration's own
    region (its unit's, under the same committee). None for a certificate without a scope."""
    if not request.scoped:
        return None
    committee = get_organisation(session, request.committee_org) if request.committee_org else None
    if committee is not None and committee.region is not None:
        return committee.region.name
    return request.region


class AnnouncementActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="announce_result")
    async def announce_result(self, request: AnnouncementRequest) -> Announcement:
        """Issue the certificate once per declaration (``RC-<campaign>-<serial>``); a retry
        returns the same number and announcement instant."""
        return await run_blocking(self._announce, request, declaration_id=request.declaration_id)

    def _announce(self, request: AnnouncementRequest) -> Announcement:
        with self._store.session() as session:
            announcement = certificates.issue_certificate(
                session,
                declaration_id=request.declaration_id,
                campaign_id=request.campaign_id,
                series=request.series,
                level=request.level,
                announced_at=request.announced_at,
                specialty=request.specialty,
                scope_region=scope_region(session, request),
            )
        log.info("result.announced", certificate_no=announcement.certificate_no)
        return announcement

    @activity.defn(name="revoke_certificate")
    async def revoke_certificate(self, request: RevocationRequest) -> None:
        """撤销: mark the certificate revoked (idempotent); ``UnknownCertificate`` when the
        number does not belong to the declaration."""
        await run_blocking(self._revoke, request, declaration_id=request.declaration_id)

    def _revoke(self, request: RevocationRequest) -> None:
        with self._store.session() as session:
            certificates.revoke_certificate(
                session,
                declaration_id=request.declaration_id,
                certificate_no=request.certificate_no,
                revoked_at=request.revoked_at,
            )
        log.info("certificate.revoked", certificate_no=request.certificate_no)
