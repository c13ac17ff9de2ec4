"""The fee ledger (docs/rules.md §2.6, §4): finance records a payment under the receipt number its
office issued, for one declaration or for a batch (推荐单位代收 000 / 人社局统一缴纳 002).

- Each item must equal the fee due (``domain.fees.payment_refusal``), else :class:`PaymentRefused`
  and nothing of the batch is written.
- The same (receipt, declaration) again has no second effect.
- A receipt already recorded is bound to its declarations and amounts: using it again for a
  declaration it does not cover, or with another amount, is a :class:`ReceiptConflict`.
  Re-confirming some of its declarations with the same amounts (a retry, or one item of the
  batch confirmed again on its own) is not a conflict.
- A declaration already paid under another receipt is refused (:class:`FeeAlreadyPaid`): a fee is
  paid once.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from domain.fees import payment_refusal
from domain.models import FeeBatch, FeeReceipt
from store.db import advisory_xact_lock
from store.errors import FeeAlreadyPaid, PaymentRefused, ReceiptConflict
from store.tables import Payment

__all__ = ["payments_of", "record_fee_batch"]


def _check_batch(batch: FeeBatch) -> None:
    ids = [item.declaration_id for item in batch.items]
    if len(set(ids)) != len(ids):
        raise PaymentRefused("同一收据中申报重复 / a declaration appears twice in the batch")
    for item in batch.items:
        if item.receipt_no != batch.receipt_no:
            raise PaymentRefused(
                f"申报 {item.declaration_id} 的收据号 {item.receipt_no} 与批次收据号 "
                f"{batch.receipt_no} 不一致 / the item's receipt differs from the batch's"
            )
        refusal = payment_refusal(item.due, item.amount)
        if refusal:
            raise PaymentRefused(f"申报 {item.declaration_id}: {refusal}")


def record_fee_batch(session: Session, batch: FeeBatch) -> FeeReceipt:
    """Record every item of ``batch`` or none (see the module docstring)."""
    _check_batch(batch)
    ids = [item.declaration_id for item in batch.items]
    advisory_xact_lock(session, f"receipt:{batch.receipt_no}", *(f"fee:{d}" for d in ids))
    on_receipt = {
        row.declaration_id: row
        for row in session.exec(select(Payment).where(Payment.receipt_no == batch.receipt_no))
    }
    elsewhere = {
        row.declaration_id: row
        for row in session.exec(
            select(Payment).where(
                col(Payment.declaration_id).in_(ids), Payment.receipt_no != batch.receipt_no
            )
        )
    }
    new = []
    for item in batch.items:
        recorded = on_receipt.get(item.declaration_id)
        if recorded is not None:
            if recorded.amount != item.amount:
                raise ReceiptConflict(
                    f"收据 {batch.receipt_no} 已登记申报 {item.declaration_id} 缴费 "
                    f"{recorded.amount} 元，与本次 {item.amount} 元不符 / receipt already "
                    "recorded for this declaration with another amount"
                )
            continue
        if on_receipt:
            raise ReceiptConflict(
                f"收据 {batch.receipt_no} 已用于其他申报（{', '.join(sorted(on_receipt))}），"
                f"不能再用于 {item.declaration_id} / the receipt was already used for a "
                "different set of declarations"
            )
        paid = elsewhere.get(item.declaration_id)
        if paid is not None:
            raise FeeAlreadyPaid(
                f"申报 {item.declaration_id} 已凭收据 {paid.receipt_no} 缴费 / the fee is "
                "already recorded under another receipt"
            )
        new.append(item)
    for item in new:
        session.add(
            Payment(
                receipt_no=batch.receipt_no,
                declaration_id=item.declaration_id,
                campaign_id=item.campaign_id,
                amount=item.amount,
                payer_org=item.payer_org or batch.payer_org,
                confirmed_by=item.confirmed_by or batch.confirmed_by,
                at=item.at,
            )
        )
    session.flush()
    return FeeReceipt(receipt_no=batch.receipt_no, declaration_ids=ids, newly_recorded=len(new))


def payments_of(session: Session, declaration_id: str) -> list[Payment]:
    return list(
        session.exec(
            select(Payment)
            .where(Payment.declaration_id == declaration_id)
            .order_by(col(Payment.at), col(Payment.id))
        )
    )
