"""Where a notification goes: the one rule for addresses, never guessed (the applicant's as
filed on the declaration, a reviewer's their organisation's)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from store.delivery.tables import CONTACT, ORG, ORGANISATIONS, DeclarationContact, OrgContact


def record_applicant_email(session: Session, declaration_id: str, email: str | None) -> None:
    """Keep the address the applicant filed with (once; a retried registration is a no-op)."""
    if email and session.get(DeclarationContact, declaration_id) is None:
        session.add(DeclarationContact(declaration_id=declaration_id, email=email))


def set_org_email(session: Session, org_id: str, email: str | None, *, at: datetime) -> None:
    """Set (or, with ``None``, remove) where an organisation's reviewers are reached."""
    row = session.get(OrgContact, org_id)
    if email is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        session.add(OrgContact(org_id=org_id, email=email, updated_at=at))
    else:
        row.email, row.updated_at = email, at
        session.add(row)


@dataclass
class AddressBook:
    """The addresses a batch of notifications needs, read in two queries."""

    applicants: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls, session: Session, declaration_ids: Iterable[str], orgs: Iterable[str]
    ) -> AddressBook:
        ids, names = sorted(set(declaration_ids)), sorted(set(orgs))
        book = cls()
        if ids:
            c = CONTACT.c
            found = session.execute(
                sa.select(c.declaration_id, c.email).where(c.declaration_id.in_(ids))
            )
            book.applicants = {d: e for d, e in found.all()}
        if names:
            r = ORGANISATIONS.c
            registered = session.execute(
                sa.select(r.id, r.email).where(r.id.in_(names), r.email.is_not(None))
            )
            o = ORG.c
            found = session.execute(sa.select(o.org_id, o.email).where(o.org_id.in_(names)))
            # The notification address an administrator set wins over the registry's e-mail.
            book.orgs = {org: e for org, e in registered.all()} | {org: e for org, e in found.all()}
        return book

    def lookup(self, *, role: str, org: str, declaration_id: str) -> str | None:
        """The applicant: the address on their declaration. Anyone else: their organisation's
        (the notification address set for it, else its registered e-mail), or, for a
        notification naming only a role (the committee, finance), that role's."""
        if role == "applicant":
            return self.applicants.get(declaration_id)
        return self.orgs.get(org or role)


def lookup_key(role: str, org: str) -> str:
    return org or role


def address_for(
    session: Session, *, role: str, org: str, recipient_id: str, declaration_id: str
) -> str | None:
    """Where a notification to ``role`` / ``org`` / ``recipient_id`` about ``declaration_id``
    goes by e-mail, or None: the one rule for addresses (``recipient_id`` names the person; a
    person's own address beyond the applicant's is not kept yet, so reviewers are reached at
    their organisation's)."""
    book = AddressBook.load(session, [declaration_id], [lookup_key(role, org)])
    return book.lookup(role=role, org=org, declaration_id=declaration_id)


def org_emails(session: Session) -> dict[str, str]:
    o = ORG.c
    return dict(session.execute(sa.select(o.org_id, o.email).order_by(o.org_id)).all())
