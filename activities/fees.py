"""Recording review fees in the ledger (docs/rules.md §2.6, §4)."""

from __future__ import annotations

from temporalio import activity

from activities.support import log, run_blocking
from domain.models import FeeBatch, FeeReceipt
from store.db import Store
from store.ledger import record_fee_batch


class FeeActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn(name="confirm_fee")
    async def confirm_fee(self, batch: FeeBatch) -> FeeReceipt:
        """One receipt for one or many declarations, all or nothing. Refusals (non-retryable):
        ``PaymentRefused`` (an amount differs from the fee due), ``ReceiptConflict`` (the receipt
        covers other declarations or another amount), ``FeeAlreadyPaid`` (paid under another
        receipt). The same (receipt, declaration) again: ``newly_recorded`` 0."""
        first = batch.items[0].declaration_id
        return await run_blocking(self._confirm, batch, declaration_id=first)

    def _confirm(self, batch: FeeBatch) -> FeeReceipt:
        with self._store.session() as session:
            receipt = record_fee_batch(session, batch)
        log.info(
            "fee.confirmed",
            receipt_no=receipt.receipt_no,
            declaration_ids=receipt.declaration_ids,
            newly_recorded=receipt.newly_recorded,
        )
        return receipt
