"""§2.6 / §4 fees: one receipt for one or many declarations, amounts equal to the fee due, and
no second effect for the same (receipt, declaration)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import col, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.fees import FeeActivities
from domain.calendar import BEIJING
from domain.models import FeeBatch, FeeConfirmation, FeeReceipt
from store.db import Store
from store.tables import Payment
from testing.builders import declaration_id

AT = datetime(2024, 9, 12, 10, tzinfo=BEIJING)


def item(
    d: str, amount: int = 550, *, receipt: str = "R-2024-0001", due: int = 550
) -> FeeConfirmation:
    return FeeConfirmation(
        declaration_id=d,
        campaign_id="aks-2024-transport",
        receipt_no=receipt,
        amount=amount,
        due=due,
        payer_org="U-001",
        confirmed_by="finance-clerk",
        at=AT,
    )


def batch(*items: FeeConfirmation, receipt: str = "R-2024-0001") -> FeeBatch:
    return FeeBatch(
        receipt_no=receipt,
        payer_org="U-001",
        confirmed_by="finance-clerk",
        at=AT,
        items=list(items),
    )


def payments(store: Store, *ids: str) -> list[tuple[str, str, int]]:
    with store.session(readonly=True) as session:
        rows = session.exec(select(Payment).where(col(Payment.declaration_id).in_(ids)))
        return sorted((r.receipt_no, r.declaration_id, r.amount) for r in rows)


async def confirm(store: Store, fee_batch: FeeBatch) -> FeeReceipt:
    return await ActivityEnvironment().run(FeeActivities(store).confirm_fee, fee_batch)


async def refused(store: Store, fee_batch: FeeBatch) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await confirm(store, fee_batch)
    assert caught.value.non_retryable
    return caught.value


async def test_a_payment_equal_to_the_fee_due_is_recorded_once(store: Store) -> None:
    d = declaration_id()
    first = await confirm(store, batch(item(d)))
    assert (first.receipt_no, first.declaration_ids, first.newly_recorded) == (
        "R-2024-0001",
        [d],
        1,
    )
    again = await confirm(store, batch(item(d)))
    assert again.newly_recorded == 0, "the same (receipt, declaration) twice: no second effect"
    assert payments(store, d) == [("R-2024-0001", d, 550)]


async def test_a_payment_that_differs_from_the_fee_due_is_refused(store: Store) -> None:
    d = declaration_id()
    err = await refused(store, batch(item(d, 500)))
    assert err.type == "PaymentRefused"
    assert "500" in err.message and "550" in err.message
    assert payments(store, d) == []


async def test_one_receipt_pays_for_a_whole_batch_of_declarations(store: Store) -> None:
    """推荐单位代收 (000) / 人社局统一缴纳 (002)."""
    ids = [declaration_id() for _ in range(3)]
    receipt = await confirm(store, batch(*(item(d) for d in ids)))
    assert (receipt.declaration_ids, receipt.newly_recorded) == (ids, 3)
    assert [p[1] for p in payments(store, *ids)] == sorted(ids)


async def test_one_wrong_amount_in_a_batch_writes_nothing_at_all(store: Store) -> None:
    ids = [declaration_id() for _ in range(3)]
    items = [item(ids[0]), item(ids[1], 400), item(ids[2])]
    err = await refused(store, batch(*items))
    assert err.type == "PaymentRefused" and ids[1] in err.message
    assert payments(store, *ids) == []


async def test_a_receipt_used_for_other_declarations_cannot_be_used_again(store: Store) -> None:
    a, b, c = declaration_id(), declaration_id(), declaration_id()
    await confirm(store, batch(item(a), item(b)))
    err = await refused(store, batch(item(a), item(c)))
    assert err.type == "ReceiptConflict"
    assert payments(store, a, b, c) == sorted([("R-2024-0001", a, 550), ("R-2024-0001", b, 550)])
    again = await confirm(store, batch(item(b)))  # one item of the batch, confirmed on its own
    assert again.newly_recorded == 0


async def test_a_receipt_recorded_with_another_amount_is_a_conflict(store: Store) -> None:
    d = declaration_id()
    await confirm(store, batch(item(d, 400, due=400)))
    err = await refused(store, batch(item(d, 550)))
    assert err.type == "ReceiptConflict"
    assert payments(store, d) == [("R-2024-0001", d, 400)]


async def test_a_fee_already_paid_under_another_receipt_is_refused(store: Store) -> None:
    d = declaration_id()
    await confirm(store, batch(item(d)))
    err = await refused(store, batch(item(d, receipt="R-2024-0002"), receipt="R-2024-0002"))
    assert err.type == "FeeAlreadyPaid"
    assert payments(store, d) == [("R-2024-0001", d, 550)]


async def test_a_batch_naming_a_declaration_twice_or_another_receipt_is_refused(
    store: Store,
) -> None:
    d = declaration_id()
    assert (await refused(store, batch(item(d), item(d)))).type == "PaymentRefused"
    mismatched = batch(item(d, receipt="R-other"))
    assert (await refused(store, mismatched)).type == "PaymentRefused"
    assert payments(store, d) == []
