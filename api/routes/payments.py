"""One receipt for many declarations (推荐单位代收 000 / 人社局统一缴纳 002; docs/rules.md §2.6).

All or nothing: every item is checked first against the read model (the declaration exists, its
campaign names the clerk's finance office, it waits for its fee, and the amount equals the fee
due); the first offending item is named in a 422 (unknown, repeated), 403 (another office's
campaign, docs/rules.md §11) or 409 (state, amount), audited on that declaration, and nothing is
applied.
Then the ledger records the whole batch in one transaction (``store.ledger.record_fee_batch``,
the function the ``confirm_fee`` activity runs), and each declaration is told with
``record_payment`` (``confirmed_in_batch``: the ledger already holds it). The same batch again has
no second effect anywhere.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.exceptions import RequestValidationError

from api.commands import execute, require_client
from api.deps import Allow, ServicesDep, forbidden
from api.openapi import problems
from api.policy import org_refusal
from api.problems import Unprocessable, rule_error
from api.refusals import Refusals
from api.schemas import BatchPayment, BatchPaymentItem
from api.services import Services, in_session
from api.subjects import load_facts
from domain.fees import payment_refusal
from domain.models import Actor, DeclarationView, FeeBatch, FeeConfirmation, PaymentCommand
from domain.states import label
from store.errors import Refusal
from store.ledger import record_fee_batch
from store.readmodel import get_view

router = APIRouter(tags=["payments"])

Finance = Annotated[Actor, Depends(Allow("finance"))]


#: The rule of a batch item that repeats another, or names a declaration nobody knows: neither
#: is a schema's to say (the items are objects; the declarations are the store's).
BATCH_ITEM = "payment.batch_item"


def _unprocessable(index: int, declaration_id: str, message: str) -> RequestValidationError:
    where = ("body", "items", index, "declaration_id")
    return Unprocessable(
        BATCH_ITEM, [rule_error(BATCH_ITEM, where, f"{declaration_id}: {message}")]
    )


def item_refusal(view: DeclarationView, item: BatchPaymentItem, receipt_no: str) -> str | None:
    """Why this item cannot be paid now (None: payable, or already paid under this receipt)."""
    if view.fee.paid:
        if view.fee.receipt_no == receipt_no and item.amount == view.fee.due:
            return None
        return f"评审费已按票据 {view.fee.receipt_no} 缴清 / the fee is already paid"
    if view.state != "fee_pending":
        return (
            f"该申报当前处于「{label(view.state)}」阶段，不能缴费（须通过形式审核后） / "
            f"the declaration is at {view.state}"
        )
    return payment_refusal(view.fee.due, item.amount)


async def _refuse_item(
    services: Services, actor: Actor, body: BatchPayment, declaration_id: str, reason: str
) -> HTTPException:
    detail = f"{declaration_id}: {reason}"
    facts = await load_facts(services, declaration_id)
    audit = {"receipt_no": body.receipt_no, "batch": [i.declaration_id for i in body.items]}
    if facts is not None:
        await Refusals(services).on_declaration(
            actor, facts, action="record_payment", reason=reason, status=409, detail=audit
        )
    return HTTPException(status.HTTP_409_CONFLICT, detail)


@router.post(
    "/payments",
    responses=problems(
        409, s409="an item that waits for no fee, or an amount other than the fee due"
    ),
)
async def record_batch_payment(
    body: BatchPayment, actor: Finance, services: ServicesDep
) -> dict[str, Any]:
    require_client(services)
    ids = [item.declaration_id for item in body.items]
    seen: set[str] = set()
    for index, declaration_id in enumerate(ids):
        if declaration_id in seen:
            raise _unprocessable(
                index, declaration_id, "同一收据中申报重复 / repeated in the batch"
            )
        seen.add(declaration_id)
    views = await in_session(
        services.store, lambda s: {d: get_view(s, d) for d in ids}, readonly=True
    )
    for index, item in enumerate(body.items):
        found = views[item.declaration_id]
        if found is None:
            raise _unprocessable(index, item.declaration_id, "没有该申报 / unknown declaration")
        facts = await load_facts(services, item.declaration_id)
        office = org_refusal(actor, facts) if facts is not None else None
        if facts is not None and office:
            raise await forbidden(
                services,
                actor,
                f"{item.declaration_id}: {office}",
                action="record_batch_payment",
                facts=facts,
                detail={"receipt_no": body.receipt_no, "batch": ids},
            )
        reason = item_refusal(found, item, body.receipt_no)
        if reason:
            raise await _refuse_item(services, actor, body, item.declaration_id, reason)
    now = await services.clock()
    batch = FeeBatch(
        receipt_no=body.receipt_no,
        payer_org=body.payer_org,
        confirmed_by=actor.id,
        at=now,
        items=[
            FeeConfirmation(
                declaration_id=item.declaration_id,
                campaign_id=views[item.declaration_id].campaign_id,  # type: ignore[union-attr]
                receipt_no=body.receipt_no,
                amount=item.amount,
                due=views[item.declaration_id].fee.due,  # type: ignore[union-attr]
                payer_org=body.payer_org,
                confirmed_by=actor.id,
                at=now,
            )
            for item in body.items
        ],
    )
    try:
        receipt = await in_session(services.store, lambda s: record_fee_batch(s, batch))
    except Refusal as err:
        await Refusals(services).on_access(
            actor,
            action="record_batch_payment",
            reason=str(err),
            status=409,
            detail={"receipt_no": body.receipt_no, "batch": ids},
        )
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err

    async def tell(item: BatchPaymentItem) -> dict[str, str] | None:
        facts = await load_facts(services, item.declaration_id)
        if facts is None:  # pragma: no cover - checked above
            return {"declaration_id": item.declaration_id, "reason": "unknown declaration"}
        cmd = PaymentCommand(
            actor=actor,
            amount=item.amount,
            receipt_no=body.receipt_no,
            payer_org=body.payer_org,
            confirmed_in_batch=True,
        )
        try:
            await execute(services, actor, facts, cmd)
        except HTTPException as err:
            return {"declaration_id": item.declaration_id, "reason": str(err.detail)}
        return None

    outcomes = await asyncio.gather(*(tell(item) for item in body.items))
    failed = [o for o in outcomes if o is not None]
    return {
        "receipt_no": receipt.receipt_no,
        "payer_org": body.payer_org,
        "declarations": receipt.declaration_ids,
        "newly_recorded": receipt.newly_recorded,
        "updated": len(ids) - len(failed),
        "failed": failed,
    }
