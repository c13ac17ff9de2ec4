"""Issuing the review form (评审表) with its watermark id (docs/rules.md §2.6; 001, 003, 004)."""

from __future__ import annotations

from temporalio import activity

from activities.messages import ReviewFormRequest
from activities.support import log, run_blocking
from domain.models import ReviewForm
from store import certificates
from store.db import Store


class ReviewFormActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="issue_review_form")
    async def issue_review_form(self, request: ReviewFormRequest) -> ReviewForm:
        """One form per declaration: a retry (or a later call) returns the same form."""
        return await run_blocking(self._issue, request, declaration_id=request.declaration_id)

    def _issue(self, request: ReviewFormRequest) -> ReviewForm:
        with self._store.session() as session:
            form = certificates.issue_review_form(
                session,
                declaration_id=request.declaration_id,
                campaign_id=request.campaign_id,
                issued_at=request.issued_at,
            )
        log.info("review_form.issued", form_id=form.form_id)
        return form
