"""Delivering the notification outbox (docs/rules.md §3 reminders).

A due notification (``status = 'pending'``, ``send_after`` passed on Temporal's clock) is
*dispatched*: one ``notification_delivery`` row per configured channel, with the address it goes
to (:func:`address_for`), and the notification becomes ``dispatched`` so that nothing dispatches
it twice. A delivery is then *claimed* (``sending``, by one sender, until a lease ends), sent, and
*marked* (``sent``, or ``retrying`` with the next attempt's instant, or ``dead``). Claims are one
conditional ``UPDATE`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's immediate transaction
serialises them), so two senders never hold the same delivery, and a mark only lands for the
claim that made it.

What that guarantees, and what it does not: a delivery is handed to the mail server or the
webhook at most once per claim, and claimed again only when its claim's lease ended without a
mark, that is, when its sender died between claiming and marking. If that sender had already
handed the message over, it goes out a second time, with the same ``Message-ID`` (mail) or
``X-ReviewChain-Delivery`` key (webhook) and the same bytes, so the receiving side can recognise
it. No other path sends anything twice.

Addresses are never guessed: the applicant's is the one given on the declaration
(``applicant.email``), a reviewer's is their organisation's (``org_contact``); a notification
with none is dispatched as ``no_address``, visible to the committee.

The package by concern: ``tables`` (the rows), ``addresses``, ``dispatch``, ``sending``
(claiming and marking), ``messages`` (what composing reads) and ``views`` (what people and
``/metrics`` see).
"""

from __future__ import annotations

from store.delivery.addresses import (
    AddressBook,
    address_for,
    org_emails,
    record_applicant_email,
    set_org_email,
)
from store.delivery.dispatch import Dispatched, dispatch_due
from store.delivery.messages import MessageContext, message_context
from store.delivery.sending import (
    Claimed,
    Failure,
    RetryPolicy,
    claim,
    mark_failed,
    mark_sent,
    next_due,
    requeue,
)
from store.delivery.tables import DeclarationContact, DeliveryRow, OrgContact
from store.delivery.views import campaign_deliveries, outbox_figures, reminders_of

__all__ = [
    "AddressBook",
    "Claimed",
    "DeclarationContact",
    "DeliveryRow",
    "Dispatched",
    "Failure",
    "MessageContext",
    "OrgContact",
    "RetryPolicy",
    "address_for",
    "campaign_deliveries",
    "claim",
    "dispatch_due",
    "mark_failed",
    "mark_sent",
    "message_context",
    "next_due",
    "org_emails",
    "outbox_figures",
    "record_applicant_email",
    "reminders_of",
    "requeue",
    "set_org_email",
]
