"""The states of a declaration (api.md §3) and who must act in each (domain.md §2)."""

from __future__ import annotations

from domain.models import StateName

S = StateName

TERMINAL: frozenset[StateName] = frozenset(
    {
        S.certified,
        S.revoked,
        S.not_approved,
        S.defense_failed,
        S.not_accepted,
        S.rejected,
        S.abandoned,
        S.withdrawn,
        S.disqualified,
    }
)
"""States after which nothing moves; ``certified`` may still be revoked for misconduct."""

FINAL: frozenset[StateName] = TERMINAL - {S.certified}
"""States after which nothing at all can happen, so the workflow completes."""

BEFORE_COMMITTEE: frozenset[StateName] = frozenset(
    {
        S.draft,
        S.unit_review,
        S.unit_publicity,
        S.unit_recommendation,
        S.authority_review,
        S.returned,
    }
)
"""States a declaration may be in before it first reaches committee formal review; the
declaration deadline ends these (§3)."""

#: state -> (role, action) of whoever must act next.
PENDING: dict[StateName, tuple[str, str]] = {
    S.draft: ("applicant", "submit"),
    S.returned: ("applicant", "correct_and_resubmit"),
    S.unit_review: ("unit_reviewer", "unit_review"),
    S.unit_publicity: ("unit_reviewer", "resolve_objections"),
    S.unit_recommendation: ("unit_reviewer", "recommend"),
    S.authority_review: ("authority_reviewer", "authority_review"),
    S.committee_formal_review: ("committee", "formal_review"),
    S.fee_pending: ("finance", "record_payment"),
    S.materials_pending: ("committee", "record_materials_received"),
    S.defense_pending: ("committee", "record_defense"),
    S.committee_review: ("committee", "record_vote"),
    S.result_publicity: ("committee", "resolve_objections"),
    S.result_confirmation: ("committee", "confirm_result"),
}

#: The review stages whose decisions are return / reject / approve.
REVIEW_STAGES: frozenset[StateName] = frozenset(
    {S.unit_review, S.unit_recommendation, S.authority_review, S.committee_formal_review}
)
