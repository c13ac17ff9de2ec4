"""Review fees (docs/rules.md §4, §2.6): what is due, and refusing a payment that differs from it.

Amounts are whole CNY per person, per campaign, level and route: 000 300/400/500, 001 200/400/550,
003 220/380, 004 300/400/550. The tables are campaign data, never code.
"""

from __future__ import annotations

from domain.models import MAX_FEE, Campaign, Level, Route

__all__ = ["MAX_FEE", "fee_due", "payment_refusal"]

# MAX_FEE (domain.models.campaign): the largest fee or payment (CNY) the service accepts. The
# notices charge 200 to 550 per person; a hundred thousand is far beyond any real fee, so only a
# slip (an extra digit group, a value in fen) or an attack reaches it, and far below what the
# ledger's integer columns hold (an unbounded amount failed the ledger write as a 500 on
# PostgreSQL's 32-bit ``payment.amount``).


def fee_due(campaign: Campaign, level: Level, route: Route) -> int | None:
    """§4: the route's own fees (``routes.<route>.fees``, then the older ``route_fees``) when they
    name the level, else the campaign's ``fees``. ``None``: the notice names no fee (002), and
    finance records the amount the office charged."""
    policy = campaign.routes.get(route)
    if policy is not None and level in policy.fees:
        return policy.fees[level]
    by_route = campaign.route_fees.get(route, {})
    if level in by_route:
        return by_route[level]
    if level in campaign.fees:
        return campaign.fees[level]
    raise ValueError(
        f"评审工作 {campaign.id} 未设定 {level} 级别的评审费 / "
        f"campaign {campaign.id} has no fee for level {level} (route {route})"
    )


def payment_refusal(due: int | None, amount: int) -> str | None:
    """§4: a payment whose amount differs from the fee due is refused with a clear message; where
    no fee is set, any amount from 1 to :data:`MAX_FEE` CNY is recorded (and audited)."""
    if due is None:
        if 0 < amount <= MAX_FEE:
            return None
        return f"缴费金额须在 1 至 {MAX_FEE} 元之间 / the amount must be 1 to {MAX_FEE} CNY"
    if amount == due:
        return None
    return (
        f"缴费金额 {amount} 元与应缴 {due} 元不符 / "
        f"amount {amount} CNY differs from the fee due {due} CNY"
    )
