"""Who may read or act on a declaration beyond their role (docs/rules.md §14): the organisation and
the account. Pure functions of the caller and :class:`api.subjects.DeclarationFacts`.

Roles without an organisation (committee, auditor, admin) are not scoped here; stage rules
(which unit or authority level decides *now*) stay with the workflow and answer 409.
"""

from __future__ import annotations

from api.subjects import DeclarationFacts
from domain.models import Actor

__all__ = ["ALL_ROLES", "READ_ROLES", "may_read", "org_refusal", "sees_masked"]

ALL_ROLES: tuple[str, ...] = (
    "applicant",
    "unit_reviewer",
    "authority_reviewer",
    "committee",
    "finance",
    "auditor",
    "admin",
)
#: Roles that read every declaration.
READ_ROLES = frozenset({"auditor", "admin", "committee"})


def org_refusal(actor: Actor, facts: DeclarationFacts) -> str | None:
    """Why this caller's account or organisation may not act on this declaration (403)."""
    if actor.role == "applicant" and actor.id != facts.filed_by:
        return "只有提交该申报的申报人本人可以操作 / only the applicant who filed it"
    if actor.role == "unit_reviewer" and actor.org != facts.unit_id:
        return (
            f"单位 {actor.org or '(none)'} 不是该申报人所在单位 / your organisation is not "
            "this declaration's unit"
        )
    if actor.role == "authority_reviewer" and actor.org not in facts.authority_chain:
        return (
            f"主管部门 {actor.org or '(none)'} 不在该申报的审核链上 / your organisation is not "
            "on this declaration's authority chain"
        )
    return None


def may_read(actor: Actor, facts: DeclarationFacts, *, finance: bool = False) -> bool:
    """Auditor, admin and committee read everything; the applicant who filed it, the reviewers
    of its unit and of its authority chain read it; finance only where ``finance`` (the view,
    which shows the fee due; not the history)."""
    if actor.role in READ_ROLES:
        return True
    if actor.role == "finance":
        return finance
    return org_refusal(actor, facts) is None


def sees_masked(actor: Actor, blind_review: bool) -> bool:
    """§9 blind review (盲评): committee members see the declaration masked."""
    return actor.role == "committee" and blind_review
