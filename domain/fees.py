"""Review fees (domain.md §4, §2.6): what is due, and refusing a payment that differs from it.

Amounts are whole CNY per person, per campaign, level and route: 000 300/400/500, 001 200/400/550,
003 220/380, 004 300/400/550. The tables are campaign data, never code.
"""

from __future__ import annotations

from domain.models import Campaign, Level, Route

__all__ = ["MAX_FEE", "fee_due", "payment_refusal"]

#: The largest fee or payment (CNY) the service accepts. The notices charge 200 to 550 per person;
#: a hundred thousand is far beyond any real fee, so only a slip (an extra digit group, a value
#: in fen) or an attack reaches it, and far below what the ledger's integer columns hold (an
#: unbounded amount failed the ledger write as a 500 on PostgreSQL's 32-bit ``payment.amount``).
MAX_FEE = 100_000


def fee_due(campaign: Campaign, level: Level, route: Route) -> int:
    """§4: the route's own fee table (``route_fees``) when it names the level, else ``fees``."""
    by_route = campaign.route_fees.get(route, {})
    if level in by_route:
        return by_route[level]
    if level in campaign.fees:
        return campaign.fees[level]
    raise ValueError(
        f"评审工作 {campaign.id} 未设定 {level} 级别的评审费 / "
        f"campaign {campaign.id} has no fee for level {level} (route {route})"
    )


def payment_refusal(due: int, amount: int) -> str | None:
    """§4: a payment whose amount differs from the fee due is refused with a clear message."""
    if amount == due:
        return None
    return (
        f"缴费金额 {amount} 元与应缴 {due} 元不符 / "
        f"amount {amount} CNY differs from the fee due {due} CNY"
    )
