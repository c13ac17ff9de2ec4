"""Who may read or act on a declaration beyond their role: the organisation and the account.
Pure functions of the caller and the declaration's facts
(:class:`store.queries.declarations.DeclarationFacts`), or, for a list, the scope the store
keeps it to (:class:`store.queries.declarations.ReadScope`).

Roles without an organisation (committee, auditor, admin) are not scoped here; stage rules
(which unit or authority level decides *now*) stay with the workflow and answer 409.
"""

from __future__ import annotations

from domain.models import Actor
from store.queries.declarations import DeclarationFacts, ReadScope

__all__ = ["ALL_ROLES", "READ_ROLES", "may_read", "org_refusal", "read_scope", "sees_masked"]

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


def read_scope(actor: Actor) -> ReadScope:
    """Which declarations this caller's lists show, as :func:`may_read` decides for one:
    auditor, admin and committee everything; a unit reviewer their unit's; an authority reviewer
    those whose authority chain names their organisation; an applicant their own. Anyone else
    (finance reads no list) nothing."""
    if actor.role in READ_ROLES:
        return ReadScope(everything=True)
    if actor.role == "unit_reviewer" and actor.org:
        return ReadScope(unit_id=actor.org)
    if actor.role == "authority_reviewer" and actor.org:
        return ReadScope(authority_org=actor.org)
    if actor.role == "applicant":
        return ReadScope(applicant_id=actor.id)
    return ReadScope()


def sees_masked(actor: Actor, blind_review: bool) -> bool:
    """§9 blind review (盲评): committee members see the declaration masked."""
    return actor.role == "committee" and blind_review
