"""Refusals the store raises. A :class:`Refusal` is a business answer that no retry can change
(the activities turn it into a non-retryable ``ApplicationError`` of the same ``type``); any other
exception (a lock timeout, a lost connection, :class:`AuditGap`) is worth retrying."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuditConflict",
    "AuditGap",
    "FeeAlreadyPaid",
    "InvalidRequest",
    "PaymentRefused",
    "ReceiptConflict",
    "Refusal",
    "UnknownCertificate",
]


class Refusal(Exception):
    """A business refusal: the message is written for the person who asked."""

    type: ClassVar[str] = "InvalidRequest"


class InvalidRequest(Refusal):
    """The request contradicts itself or the store (an unknown publicity, a mismatched id)."""

    type = "InvalidRequest"


class PaymentRefused(Refusal):
    """§4: an amount differs from the fee due (or the batch is malformed)."""

    type = "PaymentRefused"


class ReceiptConflict(Refusal):
    """The receipt number was already used for other declarations or another amount."""

    type = "ReceiptConflict"


class FeeAlreadyPaid(Refusal):
    """The declaration's fee is already recorded under another receipt."""

    type = "FeeAlreadyPaid"


class UnknownCertificate(Refusal):
    """No such certificate for this declaration."""

    type = "UnknownCertificate"


class AuditConflict(Refusal):
    """An event with this (declaration, seq) is already recorded with different content: the
    trail never changes, so this is a defect in the caller, not something a retry can mend."""

    type = "AuditConflict"


class AuditGap(Exception):
    """The event before this one is not recorded yet; a retry after it arrives will work."""
