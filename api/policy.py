"""Who may read or act on a declaration beyond their role: the organisation and the account.
Pure functions of the caller and the declaration's facts
(:class:`store.queries.declarations.DeclarationFacts`), or, for a list, the scope the store
keeps it to (:class:`store.queries.declarations.ReadScope`).

Every role but auditor and admin acts only for its token's ``org`` (docs/rules.md §11, §14): the
applicant for the declarations they filed, unit reviewers for their unit, authority reviewers for
the levels of a declaration's chain (and the campaign's ``confirming_org`` for what it confirms:
委托评审, 审核确认), committee staff for the campaigns of their committee
(``committee_org``), finance for the campaigns naming their office (``Campaign.fee_offices()``).
A campaign made before the registry names neither, and any committee or finance office acts for
it, as when it was made. Auditors and administrators read everything and decide nothing: no
decision route admits them. Stage rules (which unit or authority level decides *now*) stay with
the workflow and answer 409.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.models import Actor, Campaign
from domain.organisations import campaign_scope_refusal
from store.queries.declarations import DeclarationFacts, ReadScope

__all__ = [
    "ALL_ROLES",
    "READ_ROLES",
    "campaign_refusal",
    "may_read",
    "org_refusal",
    "read_refusal",
    "read_scope",
    "sees_masked",
]

ALL_ROLES: tuple[str, ...] = (
    "applicant",
    "unit_reviewer",
    "authority_reviewer",
    "committee",
    "finance",
    "auditor",
    "admin",
)
#: Roles that read every declaration of the campaigns they oversee (auditor and admin: all; the
#: committee: its own committee's).
READ_ROLES = frozenset({"auditor", "admin", "committee"})


def _scope_refusal(
    actor: Actor, committee_org: str | None, fee_offices: Sequence[str]
) -> str | None:
    """The committee's and finance's campaign scope (``domain.organisations``, the rule the
    declaration's workflow also holds)."""
    found = campaign_scope_refusal(actor.role, actor.org, committee_org, fee_offices)
    return found[1] if found else None


def campaign_refusal(actor: Actor, campaign: Campaign) -> str | None:
    """Why this committee or finance caller may not act on (or oversee) this campaign (403);
    None for everyone else (their role gate decides)."""
    return _scope_refusal(actor, campaign.committee_org, campaign.fee_offices())


def org_refusal(actor: Actor, facts: DeclarationFacts) -> str | None:
    """Why this caller's account or organisation may not act on this declaration (403)."""
    if actor.role == "applicant" and actor.id != facts.filed_by:
        return "只有提交该申报的申报人本人可以操作 / only the applicant who filed it"
    if actor.role == "unit_reviewer" and actor.org != facts.unit_id:
        return (
            f"单位 {actor.org or '(none)'} 不是该申报人所在单位 / your organisation is not "
            "this declaration's unit"
        )
    confirms = facts.confirming_org is not None and actor.org == facts.confirming_org
    if (
        actor.role == "authority_reviewer"
        and actor.org not in facts.authority_chain
        and not confirms
    ):
        return (
            f"主管部门 {actor.org or '(none)'} 不在该申报的审核链上，也不负责其审核确认 / your "
            "organisation is neither on this declaration's authority chain nor its confirming body"
        )
    return _scope_refusal(actor, facts.committee_org, facts.fee_offices)


def read_refusal(actor: Actor, facts: DeclarationFacts, *, finance: bool = False) -> str | None:
    """Why this caller may not read this declaration (None: they may). Auditor and admin read
    everything; the campaign's committee, the applicant who filed it, the reviewers of its unit
    and of any level of its authority chain read it; the campaign's finance offices only where
    ``finance`` (the view, which shows the fee due; not the history)."""
    if actor.role in ("auditor", "admin"):
        return None
    if actor.role == "finance" and not finance:
        return "财务不能查看申报记录 / finance does not read a declaration's history"
    return org_refusal(actor, facts)


def may_read(actor: Actor, facts: DeclarationFacts, *, finance: bool = False) -> bool:
    """:func:`read_refusal` as a yes or no."""
    return read_refusal(actor, facts, finance=finance) is None


def read_scope(actor: Actor) -> ReadScope:
    """Which declarations this caller's lists show, as :func:`may_read` decides for one:
    auditor and admin everything; the committee its committee's campaigns'; a unit reviewer their
    unit's; an authority reviewer those whose authority chain names their organisation or whose
    campaign it confirms; an applicant their own. Anyone else (finance reads no list) nothing."""
    if actor.role in ("auditor", "admin"):
        return ReadScope(everything=True)
    if actor.role == "committee":
        return ReadScope(committee_org=actor.org)
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
