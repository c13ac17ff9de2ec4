"""docs/rules.md §5 defense policy: who defends, exemptions, the venue (open, or by the unit's
registered region), the reproducible sample."""

from __future__ import annotations

import hashlib

import pytest

from domain.defense import (
    average_onsite_score,
    defense_required,
    plan_defense,
    remote_sample_drawn,
)
from tests.domain.notices import (
    applicant,
    campaign_000,
    campaign_001,
    campaign_002,
    campaign_003,
    region,
)


def uniform(campaign_id: str, declaration_id: str) -> float:
    """The §5 draw computed independently: sha256 → first 8 bytes big-endian / 2**64."""
    digest = hashlib.sha256(f"{campaign_id}:{declaration_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def find_declaration(campaign_id: str, rate: float, *, drawn: bool) -> str:
    for i in range(1000):
        candidate = f"D-{i:04d}"
        if (uniform(campaign_id, candidate) < rate) is drawn:
            return candidate
    raise AssertionError("no such id")


# --------------------------------------------------------------------------- 000


@pytest.mark.parametrize("place", ["乌鲁木齐市", "昌吉州"])
def test_000_deputy_senior_of_a_unit_in_urumqi_or_changji_defends_on_site(place):
    """§5, 000 (五) 副高级…全面实行专业水平答辩; 乌鲁木齐市、昌吉州单位参加现场答辩: the unit's
    registered region decides, not what the applicant types."""
    plan = plan_defense(campaign_000(), "D-1", "deputy_senior", applicant(affiliation="阿克苏地区"),
                        region=region(place))  # fmt: skip
    assert plan.required is True
    assert plan.venue == "onsite"
    assert plan.drawn is None
    assert plan.exemption is None


def test_000_region_code_matches_like_its_name():
    """§5 onsite_regions hold region codes or names."""
    campaign = campaign_000(defense={"required_levels": ["deputy_senior"], "venue": "by_region",
                                     "onsite_regions": ["650100"]})  # fmt: skip
    plan = plan_defense(campaign, "D-1", "deputy_senior", applicant(), region=region("乌鲁木齐市"))
    assert plan.venue == "onsite"


def test_000_other_prefectures_all_defend_remotely_under_quanmian_shixing():
    """§5, 000 全面实行: every deputy-senior applicant defends; outside 乌鲁木齐市、昌吉州 by video or
    phone, with no sample drawn (v3)."""
    campaign = campaign_000()
    for i in range(20):
        plan = plan_defense(campaign, f"D-{i}", "deputy_senior", applicant(),
                            region=region("阿克苏地区"))  # fmt: skip
        assert (plan.required, plan.venue, plan.drawn) == (True, "remote", None)


def test_000_the_typed_affiliation_no_longer_decides_the_venue():
    """§5 v3: the region is the unit's registered region, never a free-text field."""
    plan = plan_defense(campaign_000(), "D-1", "deputy_senior", applicant(affiliation="乌鲁木齐市"),
                        region=region("喀什地区"))  # fmt: skip
    assert plan.venue == "remote"


def test_a_campaign_made_before_the_registry_keeps_the_affiliation_rule():
    """§5: a stored campaign without ``venue`` (its declarations replay as they ran) places
    applicants by the typed affiliation."""
    campaign = campaign_000(defense={"required_levels": ["deputy_senior"],
                                     "onsite_affiliations": ["乌鲁木齐市"],
                                     "remote_selection": "all"})  # fmt: skip
    assert campaign.defense.venue == "by_affiliation"
    onsite = plan_defense(campaign, "D-1", "deputy_senior", applicant(affiliation="乌鲁木齐市"))
    remote = plan_defense(campaign, "D-2", "deputy_senior", applicant(affiliation="喀什地区"))
    assert (onsite.venue, remote.venue) == ("onsite", "remote")


@pytest.mark.parametrize("category", ["village_work", "teaching_support"])
def test_000_village_work_and_teaching_support_are_exempt(category):
    """§5, 000 参加自治区驻村管寺、支教等工作的专业技术人员免于答辩."""
    required, exemption, reason = defense_required(
        campaign_000(), "deputy_senior", applicant(categories=["other", category])
    )
    assert (required, exemption) == (False, category)
    assert category in reason


@pytest.mark.parametrize("level", ["junior", "intermediate"])
def test_000_junior_and_intermediate_do_not_defend(level):
    """§5, 000: only 副高级 defends."""
    plan = plan_defense(campaign_000(), "D-1", level, applicant(), region=region("乌鲁木齐市"))
    assert plan.required is False
    assert plan.exemption is None
    assert plan.venue is None and plan.drawn is None


# --------------------------------------------------------------------------- 001


@pytest.mark.parametrize("level", ["deputy_senior", "senior"])
def test_001_senior_levels_defend_at_a_venue_the_notice_leaves_open(level):
    """§5, 001 四(五) 申报高级职称评审的…参加专业水平答辩; 001 names no venue (v3: open), so the
    committee records whatever mode it used."""
    plan = plan_defense(campaign_001(), "D-1", level, applicant(), region=region("阿克苏地区"))
    assert plan.required is True
    assert plan.venue is None
    assert plan.drawn is None


@pytest.mark.parametrize("level", ["junior", "intermediate"])
def test_001_intermediate_and_below_are_exempt(level):
    """§5, 001 申报中级及以下职称评审的，免于答辩."""
    required, exemption, _ = defense_required(campaign_001(), level, applicant())
    assert required is False
    assert exemption is None


def test_001_categories_do_not_exempt_without_campaign_categories():
    """§5, 001 lists no exemption categories: a 访惠聚 applicant for 副高 still defends."""
    required, exemption, _ = defense_required(
        campaign_001(), "deputy_senior", applicant(categories=["village_work"])
    )
    assert (required, exemption) == (True, None)


# --------------------------------------------------------------------------- 002


def test_002_senior_defends_even_with_an_exempt_category():
    """§5, 002 六(一) 申报正高级专业技术人员全部参加答辩 (no_exemption_levels)."""
    required, exemption, _ = defense_required(
        campaign_002(), "senior", applicant(categories=["village_work"])
    )
    assert (required, exemption) == (True, None)


@pytest.mark.parametrize("place", ["乌鲁木齐市", "阿克苏地区"])
def test_002_senior_defends_at_an_open_venue_and_is_never_sampled_out(place):
    """§5, 002 六(一) 申报正高级专业技术人员全部参加答辩: the 副高 venue rule (六(二)) does not apply to
    正高 (venue_levels), which names no venue; the sample is never drawn for it."""
    campaign = campaign_002()
    not_drawn = find_declaration(campaign.id, 0.3, drawn=False)
    plan = plan_defense(campaign, not_drawn, "senior", applicant(), region=region(place))
    assert plan.required is True
    assert plan.venue is None
    assert plan.drawn is None


@pytest.mark.parametrize("place", ["乌鲁木齐市", "昌吉州直", "吐鲁番市直"])
def test_002_deputy_senior_of_units_in_the_named_places_defends_on_site(place):
    """§5, 002 六(二) 乌鲁木齐市、昌吉州直单位及吐鲁番市直单位参加现场答辩."""
    plan = plan_defense(campaign_002(), "D-1", "deputy_senior", applicant(), region=region(place))
    assert (plan.required, plan.venue) == (True, "onsite")


def test_002_deputy_senior_elsewhere_is_sampled():
    """§5, 002 六(二) 答辩范围：…其它地（州、市）随机抽取，采用视频或电话答辩."""
    campaign = campaign_002()
    drawn = find_declaration(campaign.id, 0.3, drawn=True)
    skipped = find_declaration(campaign.id, 0.3, drawn=False)
    where = region("喀什地区")
    yes = plan_defense(campaign, drawn, "deputy_senior", applicant(), region=where)
    no = plan_defense(campaign, skipped, "deputy_senior", applicant(), region=where)
    assert (yes.required, yes.venue, yes.drawn) == (True, "remote", True)
    assert (no.required, no.venue, no.drawn) == (False, None, False)


def test_002_deputy_senior_with_exempt_category_is_exempt():
    """§5: exemption categories apply to levels outside no_exemption_levels (002 副高, example
    category)."""
    plan = plan_defense(
        campaign_002(), "D-1", "deputy_senior", applicant(categories=["village_work"])
    )
    assert (plan.required, plan.exemption) == (False, "village_work")


# --------------------------------------------------------------------------- 003


def test_003_junior_is_exempt():
    """§5, 003 六(二) 申报初级专业技术职务任职资格人员免于答辩."""
    assert defense_required(campaign_003(), "junior", applicant())[:2] == (False, None)


def test_003_intermediate_defends_at_an_open_venue():
    """§5, 003: intermediate and up defend (only 初级 is exempt); 003 names no venue."""
    plan = plan_defense(campaign_003(), "D-1", "intermediate", applicant())
    assert (plan.required, plan.venue) == (True, None)


def test_a_category_the_unit_struck_no_longer_exempts():
    """§5: exemption categories are claims; the unit confirms or strikes each at its review; a
    struck category no longer exempts, a confirmed one does."""
    person = applicant(categories=["village_work"])
    claimed = plan_defense(campaign_003(), "D-1", "intermediate", person)
    struck = plan_defense(campaign_003(), "D-1", "intermediate", person, confirmed=[])
    kept = plan_defense(campaign_003(), "D-1", "intermediate", person, confirmed=["village_work"])
    assert (claimed.required, struck.required, kept.required) == (False, True, False)


def test_private_enterprise_follows_from_the_employer_kind_not_a_claim():
    """§5, 003 六(三): the private-enterprise category follows from the employer kind, which the
    unit checks anyway; striking every claim leaves it."""
    person = applicant(employer_kind="private_enterprise")
    plan = plan_defense(campaign_003(), "D-1", "intermediate", person, confirmed=[])
    assert (plan.required, plan.exemption) == (False, "private_enterprise")


@pytest.mark.parametrize("kind", ["private_enterprise", "freelance"])
def test_003_private_enterprise_and_freelance_are_exempt(kind):
    """§5, 003 六(三) 民营企业和自由职业专业技术人员免于答辩 (employer kind counts as the
    private_enterprise category)."""
    required, exemption, _ = defense_required(
        campaign_003(), "intermediate", applicant(employer_kind=kind)
    )
    assert (required, exemption) == (False, "private_enterprise")


@pytest.mark.parametrize(
    "category",
    [
        "且末县",
        "若羌县",
        "county_grassroots",
        "village_work",
        "teaching_support",
        "interior_service",
        "first_secretary",
    ],
)
def test_003_named_counties_and_grassroots_categories_are_exempt(category):
    """§5, 003 六(一) 访惠聚/驻村管寺、支教、内地服务管理、深度贫困村第一书记; 且末县、若羌县;
    县级以下基层单位 免于答辩."""
    plan = plan_defense(campaign_003(), "D-1", "intermediate", applicant(categories=[category]))
    assert (plan.required, plan.exemption, plan.venue) == (False, category, None)


def test_003_state_enterprise_in_another_county_defends():
    """§5, 003: a state-enterprise engineer in 库尔勒市 has no exemption."""
    required, exemption, _ = defense_required(
        campaign_003(),
        "intermediate",
        applicant(employer_kind="state_enterprise", affiliation="库尔勒市"),
    )
    assert (required, exemption) == (True, None)


# --------------------------------------------------------------------------- the draw


def test_remote_sample_draw_is_reproducible_and_seeded_from_both_ids():
    """§5 the draw is reproducible (seeded from campaign and declaration ids): strictly below
    the rate is drawn."""
    u = uniform("xj-2020-highway", "D-0001")
    assert remote_sample_drawn("xj-2020-highway", "D-0001", u) is False
    assert remote_sample_drawn("xj-2020-highway", "D-0001", min(u + 1e-9, 1.0)) is True
    first = [remote_sample_drawn("xj-2020-highway", f"D-{i}", 0.5) for i in range(200)]
    again = [remote_sample_drawn("xj-2020-highway", f"D-{i}", 0.5) for i in range(200)]
    other = [remote_sample_drawn("xj-2020-senior", f"D-{i}", 0.5) for i in range(200)]
    assert first == again
    assert first != other


def test_remote_sample_rate_zero_and_one():
    """§5 remote_sample_rate bounds: 0 draws nobody, 1 draws everybody."""
    ids = [f"D-{i}" for i in range(500)]
    assert not any(remote_sample_drawn("c", d, 0.0) for d in ids)
    assert all(remote_sample_drawn("c", d, 1.0) for d in ids)


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_remote_sample_matches_the_rate_over_many_ids(rate):
    """§5 随机抽取 (000, 002): over 10 000 declarations the share drawn is the rate ± 0.02."""
    drawn = sum(remote_sample_drawn("xj-2020-senior", f"D-{i}", rate) for i in range(10_000))
    assert abs(drawn / 10_000 - rate) < 0.02


def test_003_exempt_applicants_get_the_average_on_site_score_of_their_specialty():
    """§5, 003 六(一) 现场答辩环节实行量化赋分的，按照当年参加该专业现场答辩人员的平均分予以赋分: only
    on-site scores of the same specialty count; none before the first."""
    scores = [
        ("highway", "onsite", 80.0),
        ("highway", "onsite", 91.0),
        ("highway", "video", 60.0),
        ("bridge", "onsite", 70.0),
        ("highway", "onsite", None),
    ]
    assert average_onsite_score(scores, "highway") == 85.5
    assert average_onsite_score(scores, "tunnel") is None
    assert average_onsite_score([], "highway") is None
