"""§4 fees per campaign, level and route; §2.6 a payment differing from the fee is refused."""

from __future__ import annotations

import pytest

from domain.fees import fee_due, payment_refusal
from tests.domain.notices import campaign_000, campaign_001, campaign_003, campaign_004


@pytest.mark.parametrize(
    ("level", "due"), [("junior", 300), ("intermediate", 400), ("deputy_senior", 500)]
)
def test_fee_due_notice_000_300_400_500(level, due):
    """§4 fees, 000 评审费 初级300元、中级400元、高级500元."""
    assert fee_due(campaign_000(), level, "directed") == due


@pytest.mark.parametrize(
    ("level", "due"), [("junior", 200), ("intermediate", 400), ("deputy_senior", 550)]
)
def test_fee_due_notice_001_200_400_550(level, due):
    """§4 fees, 001 评审缴费标准 高级550元/人，中级400元/人，初级200元/人."""
    assert fee_due(campaign_001(), level, "directed") == due


@pytest.mark.parametrize(("level", "due"), [("junior", 220), ("intermediate", 380)])
def test_fee_due_notice_003_220_380(level, due):
    """§4 fees, 003 八(一) 中级 380 元/人, 初级 220 元/人."""
    assert fee_due(campaign_003(), level, "directed") == due


@pytest.mark.parametrize(
    ("level", "due"), [("junior", 300), ("intermediate", 400), ("deputy_senior", 550)]
)
def test_fee_due_notice_004_300_400_550(level, due):
    """§4 fees, 004 审核缴费 副高级 550 元/人，中级 400 元/人，初级 300 元/人."""
    assert fee_due(campaign_004(), level, "directed") == due


def test_fee_due_private_enterprise_route_override_falls_back_per_level():
    """§4 per route (001 民营企业专项评审): route_fees wins where it names the level, ``fees``
    otherwise (the override amount is an example value)."""
    campaign = campaign_001(route_fees={"private_enterprise": {"intermediate": 350}})
    assert fee_due(campaign, "intermediate", "private_enterprise") == 350
    assert fee_due(campaign, "junior", "private_enterprise") == 200
    assert fee_due(campaign, "intermediate", "directed") == 400


def test_fee_due_without_a_fee_for_the_level_is_a_clear_error():
    """§4, 003 gives no 副高 fee: asking for one names the campaign and the level."""
    with pytest.raises(ValueError, match=r"bz-2021-engineering.*deputy_senior"):
        fee_due(campaign_003(), "deputy_senior", "directed")


def test_payment_equal_to_the_fee_is_accepted():
    """§2.6 fee, 001 高级550元: paying 550 is not refused."""
    assert payment_refusal(550, 550) is None


def test_payment_below_the_fee_is_refused_with_both_amounts():
    """§4 "a payment whose amount differs from the fee due is refused with a clear message"
    (001: 550 due, 400 paid)."""
    assert payment_refusal(550, 400) == (
        "缴费金额 400 元与应缴 550 元不符 / amount 400 CNY differs from the fee due 550 CNY"
    )


def test_payment_above_the_fee_is_refused_too():
    """§4, 000: an overpayment (600 for the 500 高级 fee) is refused as well."""
    refusal = payment_refusal(500, 600)
    assert refusal is not None
    assert "600" in refusal and "500" in refusal
