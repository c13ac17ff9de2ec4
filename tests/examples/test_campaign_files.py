"""The example campaign files (examples/campaigns/), one per notice in shared/seeds (000-004).

Each file loads through domain.campaign_files and validates as a Campaign; its values match its
notice (dates, fees, defense, paper, submission cap); each drives a declaration through its whole
chain to ``certified`` on the pure chain, with the stages that notice implies (materials_pending only
where paper is required, defense_pending only where the applicant defends, at the right venue), and
on the real Temporal workflow (time-skipping server) with its windows shifted to the server's clock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.campaign_files import load_campaign_file, parse_campaign
from domain.defense import remote_sample_drawn
from domain.models import (
    Actor,
    Campaign,
    DecisionCommand,
    DeclarationInput,
    DeclarationView,
    DefenseCommand,
    Level,
    MaterialsReceivedCommand,
    PaymentCommand,
    SubmitCommand,
    VoteCommand,
)
from domain.states import StateName as S
from gateway import DecisionRefused
from tests import factories as f
from tests.chain.driver import Driver
from tests.workflows.helpers import after, create, now, skip_to, wait_state

CAMPAIGNS = Path(__file__).resolve().parents[2] / "examples" / "campaigns"
FILES = {
    "000": "000_transport_2020.yaml",
    "001": "001_aksu_2024.yaml",
    "002": "002_senior_engineers_2020.yaml",
    "003": "003_bayingol_2021.yaml",
    "004": "004_cyber_2021.yaml",
}
EXAMPLE = "# example value: not in the notice"
#: The campaign's instants; only these move when a test shifts a campaign to another clock.
INSTANTS = (
    "declaration_opens_at",
    "declaration_closes_at",
    "review_closes_at",
    "fee_deadline",
    "materials_deadline",
)


def load(notice: str) -> Campaign:
    return load_campaign_file(CAMPAIGNS / FILES[notice])


def bj(text: str) -> datetime:
    """An instant written in Beijing time, e.g. ``bj("2024-08-30 18:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=f.BJ)


def authority(org: str) -> Actor:
    return Actor(id=f"reviewer-{org}", role="authority_reviewer", org=org)


def declaration_for(c: Campaign, level: Level, **applicant: Any) -> DeclarationInput:
    masked = ["name", "photo", "unit"] if c.blind_review else []
    return f.declaration(c, level=level, applicant=f.applicant(**applicant), masked_items=masked)


def vote() -> VoteCommand:
    """A valid, passing vote of a 25-member committee (40号令: 2/3 attend, 2/3 of them in favour)."""
    return VoteCommand(actor=f.COMMITTEE, attending=20, in_favor=16, against=2, abstain=2)


def shifted(c: Campaign, at: datetime) -> Campaign:
    """``c`` with every instant moved by the same whole number of days, so that its declaration
    window opened the day before ``at`` (times of day and every other value kept)."""
    opens = c.declaration_opens_at.astimezone(f.BJ).date()
    delta = timedelta(days=(at.astimezone(f.BJ).date() - opens).days - 1)
    moved = {k: getattr(c, k) + delta for k in INSTANTS if getattr(c, k) is not None}
    out = Campaign.model_validate({**c.model_dump(), **moved})
    assert out.model_dump(exclude=set(INSTANTS)) == c.model_dump(exclude=set(INSTANTS))
    assert out.declaration_opens_at <= at < out.declaration_closes_at
    return out


# --------------------------------------------------------------------------- loading


def test_one_file_per_notice_each_loads_and_names_its_notice():
    """Campaign files (docs/rules.md §15 campaigns): exactly one YAML file per notice 000-004, each
    a valid Campaign, each opening with a comment header naming the notice and marking the values
    the notice does not give."""
    assert sorted(p.name for p in CAMPAIGNS.glob("*.yaml")) == sorted(FILES.values())
    bodies = {
        "000": "新疆维吾尔自治区交通运输厅",
        "001": "阿克苏地区交通运输局",
        "002": "职称社会化评价中心",
        "003": "巴音郭楞职业技术学院",
        "004": "自治区党委网信办",
    }
    ids = set()
    for notice, name in FILES.items():
        text = (CAMPAIGNS / name).read_text(encoding="utf-8")
        assert text.startswith(f"# Campaign file for notice {notice} ")
        header = text.split("\n\n", 1)[0]
        assert bodies[notice] in header and "Title:" in header and "Date:" in header
        assert "Clauses used" in text and EXAMPLE in text
        ids.add(load(notice).id)
    assert len(ids) == len(FILES)


@pytest.mark.parametrize(
    ("notice", "key"),
    [
        ("000", "remote_sample_rate:"),
        ("000", "committee_members:"),
        ("001", "exempt_categories:"),
        ("001", "unit_years:"),
        ("002", "senior:"),  # the fee: 002 names no amount
        ("002", "remote_sample_rate:"),
        ("003", "scored:"),
        ("004", "required_levels:"),
        ("004", "unit_publicity_working_days:"),
    ],
)
def test_values_the_notice_does_not_give_are_marked_as_example_values(notice, key):
    """Campaign files: every value the notice does not give carries "example value: not in the
    notice" (spot checks: sample rates, committee size, 002's fee, 003's scoring, 004's defense)."""
    lines = (CAMPAIGNS / FILES[notice]).read_text(encoding="utf-8").splitlines()
    found = [line for line in lines if line.strip().startswith(key)]
    assert found, key
    assert all(EXAMPLE in line for line in found), found


@pytest.mark.parametrize("notice", sorted(FILES))
def test_yaml_and_json_forms_of_each_campaign_are_the_same_campaign(notice, tmp_path):
    """Campaign files: JSON (the API's POST /campaigns body) and YAML parse to the same Campaign;
    the suffix picks the format."""
    c = load(notice)
    assert parse_campaign(c.model_dump_json(), "json") == c
    as_json = tmp_path / "campaign.JSON"
    as_json.write_text(c.model_dump_json(indent=2), encoding="utf-8")
    assert load_campaign_file(as_json) == c
    as_yml = tmp_path / "campaign.yml"
    as_yml.write_text((CAMPAIGNS / FILES[notice]).read_text(encoding="utf-8"), encoding="utf-8")
    assert load_campaign_file(as_yml) == c


def test_invalid_content_raises_a_value_error_naming_the_file_and_the_pydantic_error(tmp_path):
    """Campaign files: a campaign with a level but no fee for it (docs/rules.md §4, §15: every level
    it reviews has a fee) is refused with the file's name and pydantic's message."""
    text = (CAMPAIGNS / FILES["001"]).read_text(encoding="utf-8")
    broken = tmp_path / "001_broken.yaml"
    broken.write_text(text.replace("  junior: 200\n", ""), encoding="utf-8")
    with pytest.raises(ValueError, match="no fee for level") as err:
        load_campaign_file(broken)
    assert str(broken) in str(err.value) and "validation error for Campaign" in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: a\nid: b\n", "duplicate key 'id'"),
        ("- 1\n- 2\n", "got list"),
        ("", "got empty"),
        ("levels: [junior\n", "not valid YAML"),
        (
            "declaration_opens_at: 2024-07-22T00:00:00\n",
            "Input should have timezone info",
        ),
    ],
)
def test_malformed_yaml_is_refused_with_a_clear_message(tmp_path, text, message):
    """Campaign files: duplicate keys, a non-mapping, broken YAML and an instant without its UTC
    offset (all times are Beijing time, written +08:00) are refused, naming the file."""
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml") as err:
        load_campaign_file(path)
    assert message in str(err.value)


def test_unknown_suffix_and_malformed_json_are_refused(tmp_path):
    """Campaign files: the suffix decides the format (.json, .yaml, .yml); anything else is
    refused, as is JSON with a key twice."""
    path = tmp_path / "campaign.toml"
    path.write_text("id = 'x'", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown campaign file suffix"):
        load_campaign_file(path)
    with pytest.raises(ValueError, match="duplicate key 'id'"):
        parse_campaign('{"id": "a", "id": "b"}', "json", source="inline.json")


# --------------------------------------------------------------------------- values per notice


def test_000_values_match_the_2020_transport_notice():
    """Notice 000 (自治区交通运输厅 2020): 申报 8月10日至9月30日; fees 初级300/中级400/高级500
    (附件2 一(五)); no 评审表 (无需提交职称评审表); 副高 defends, 乌鲁木齐市/昌吉州 on site,
    others 随机抽取 (附件2 三(五)); blacklist 5 years / unit 3 (四(三))."""
    c = load("000")
    assert c.year == 2020 and c.levels == ["junior", "intermediate", "deputy_senior"]
    assert c.declaration_opens_at == bj("2020-08-10 00:00")
    assert c.declaration_closes_at == bj("2020-10-01 00:00")
    assert c.review_closes_at is None and c.fee_deadline is None and c.materials_deadline is None
    assert c.fees == {"junior": 300, "intermediate": 400, "deputy_senior": 500}
    assert c.paper_materials_required is False and c.blind_review is False
    assert c.defense.required_levels == ["deputy_senior"]
    assert c.defense.onsite_affiliations == ["乌鲁木齐市", "昌吉州"]
    assert c.defense.remote_selection == "sample" and c.defense.remote_sample_rate is not None
    assert set(c.defense.exempt_categories) == {"village_work", "teaching_support"}
    assert (c.blacklist.applicant_years, c.blacklist.unit_years) == (5, 3)
    assert c.blacklist.applicant_from_next_year is False
    assert c.unit_publicity_working_days == 5


def test_001_values_match_the_2024_aksu_notice():
    """Notice 001 (阿克苏地区交通运输局 2024-07-17): 申报 2024-07-22 — 08-30 18:00, 审核/缴费/材料
    to 9月10日; fees 200/400/550; 高级 defends, 中级及以下 exempt; 评审表 on paper; 盲评; 退回后2日内;
    3 submissions to the committee; pledge: 3 years from the following year; 继续教育 2021-2024;
    资历 counted to 2024-12-31."""
    c = load("001")
    assert c.id == "aks-2024-transport" and c.year == 2024
    assert c.declaration_opens_at == bj("2024-07-22 00:00")
    assert c.declaration_closes_at == bj("2024-08-30 18:00")
    assert c.review_closes_at == c.fee_deadline == c.materials_deadline == bj("2024-09-11 00:00")
    assert c.fees == {"junior": 200, "intermediate": 400, "deputy_senior": 550}
    assert c.defense.required_levels == ["deputy_senior", "senior"]
    assert c.defense.remote_selection == "all" and c.defense.onsite_affiliations == []
    assert c.paper_materials_required is True and c.blind_review is True
    assert c.correction_window_days == 2 and c.max_committee_submissions == 3
    assert c.submission_cap_scope == "committee" and c.deadline_applies_to == "committee_arrival"
    assert c.resubmit_to == "returner"
    assert c.blacklist.applicant_years == 3 and c.blacklist.applicant_from_next_year is True
    assert c.continuing_education.default_years == [2021, 2022, 2023, 2024]
    assert c.continuing_education.annual_hours == 90
    assert c.continuing_education.professional_hours == 60
    assert c.continuing_education.private_enterprise_first_time_exempt is True
    assert c.seniority_cutoff == date(2024, 12, 31)


def test_002_values_match_the_2020_senior_titles_notice():
    """Notice 002 (正高级工程师等5个系列, 2020-07-24): 材料申报 8月2日—9月2日; 上报次数不得超过3次(含初次
    上报); no 评审表 (五(六)); 正高 全部参加答辩 (六(一)); 副高: 乌鲁木齐市、昌吉州直、吐鲁番市直 on
    site, others 随机抽取 (六(二)); blacklist 5 / 3 (七(五)); no fee amount in the notice."""
    c = load("002")
    assert c.year == 2020 and c.series == "engineering" and c.levels == ["senior"]
    assert c.declaration_opens_at == bj("2020-08-02 00:00")
    assert c.declaration_closes_at == bj("2020-09-03 00:00")
    assert c.paper_materials_required is False
    assert c.max_committee_submissions == 3 and c.submission_cap_scope == "committee"
    assert c.resubmit_to == "unit"
    assert c.defense.required_levels == ["deputy_senior", "senior"]
    assert c.defense.no_exemption_levels == ["senior"]
    assert c.defense.onsite_affiliations == ["乌鲁木齐市", "昌吉州直", "吐鲁番市直"]
    assert c.defense.remote_selection == "sample"
    assert (c.blacklist.applicant_years, c.blacklist.unit_years) == (5, 3)
    assert c.continuing_education.default_years == list(range(2014, 2021))
    assert set(c.fees) == {"senior"}  # an example amount: 002 gives none


def test_003_values_match_the_2021_bayingol_notice():
    """Notice 003 (巴州 2021-08-20): 网上申报 8月25日—9月18日; 纸质材料报送及缴费 to 9月20日; fees 中级380
    / 初级220 (八(一)); 初级 and 民营企业/自由职业 and 访惠聚… exempt from 答辩 (六); 评审表 on paper
    (七(二)); 上报次数不得超过3次 (四)."""
    c = load("003")
    assert c.year == 2021 and c.levels == ["junior", "intermediate"]
    assert c.declaration_opens_at == bj("2021-08-25 00:00")
    assert c.declaration_closes_at == bj("2021-09-19 00:00")
    assert c.fee_deadline == c.materials_deadline == bj("2021-09-21 00:00")
    assert c.review_closes_at is None
    assert c.fees == {"junior": 220, "intermediate": 380}
    assert c.paper_materials_required is True
    assert c.defense.required_levels == ["intermediate", "deputy_senior", "senior"]
    assert {
        "private_enterprise", "village_work", "teaching_support", "interior_service",
        "first_secretary", "county_grassroots", "且末县", "若羌县",
    } == set(c.defense.exempt_categories)  # fmt: skip
    assert c.defense.onsite_affiliations == ["巴音郭楞蒙古自治州"]
    assert c.max_committee_submissions == 3 and c.submission_cap_scope == "committee"
    assert c.continuing_education.years_by_level == {
        "junior": [2021],
        "intermediate": [2018, 2019, 2020, 2021],
    }
    assert (c.blacklist.applicant_years, c.blacklist.unit_years) == (5, 3)


def test_004_values_match_the_2021_cyber_notice():
    """Notice 004 (自治区党委网信办 2021-09-18): 网上申报 10月10日至11月15日, 纸质材料 to 11月25日; fees
    副高550/中级400/初级300; 申报人提交材料次数不得超过3次 (the applicant's submissions), 逾期端口将关闭
    (only an unsubmitted declaration is cut); 评审表 on paper; 继续教育 2021, 90/60/30 学时."""
    c = load("004")
    assert c.year == 2021 and c.levels == ["junior", "intermediate", "deputy_senior"]
    assert c.declaration_opens_at == bj("2021-10-10 00:00")
    assert c.declaration_closes_at == bj("2021-11-16 00:00")
    assert c.materials_deadline == bj("2021-11-26 00:00") and c.fee_deadline is None
    assert c.fees == {"junior": 300, "intermediate": 400, "deputy_senior": 550}
    assert c.max_committee_submissions == 3 and c.submission_cap_scope == "applicant"
    assert c.deadline_applies_to == "applicant_submit"
    assert c.paper_materials_required is True
    assert c.defense.required_levels == []
    ce = c.continuing_education
    assert (ce.annual_hours, ce.professional_hours, ce.public_hours) == (90, 60, 30)
    assert ce.default_years == [2021]
    assert (c.blacklist.applicant_years, c.blacklist.unit_years) == (5, 3)


# --------------------------------------------------------------------------- pure chain

HEAD = ["draft", "unit_review", "unit_publicity", "unit_recommendation"]
TAIL = ["committee_review", "result_publicity", "certified"]


def expected_stages(*, authorities: bool, paper: bool, defense: bool) -> list[str]:
    return [
        *HEAD,
        *(["authority_review"] if authorities else []),
        "committee_formal_review",
        "fee_pending",
        *(["materials_pending"] if paper else []),
        *(["defense_pending"] if defense else []),
        *TAIL,
    ]


def drive(c: Campaign, level: Level, at: datetime, **applicant: Any) -> Driver:
    """The pure chain of one declaration to campaign ``c``, created at ``at`` (the existing driver
    builds its campaign from overrides: every field of ``c`` is one)."""
    d = Driver(at, decl=declaration_for(c, level, **applicant), **c.model_dump())
    assert d.campaign == c
    return d


def decide(actor: Actor, stage: str, **kw: Any) -> DecisionCommand:
    return DecisionCommand(actor=actor, stage=stage, outcome="approve", **kw)


def certify(d: Driver, *, fee: int, venue: str | None) -> list[str]:
    """Drive ``d`` from draft to certified; return the stages it went through."""
    c = d.campaign
    assert c.declaration_opens_at <= d.now < c.declaration_closes_at
    d.do(SubmitCommand(actor=f.APPLICANT))
    d.do(decide(f.UNIT, "unit_review", opinion="材料真实、完整、有效"))
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    d.do(decide(f.UNIT, "unit_recommendation", opinion="本单位已对申报材料逐一审核…同意推荐",
                          publicity_result_ref="公示结果证明-1"))  # fmt: skip
    for org in c.authority_levels:
        d.do(decide(authority(org), "authority_review", opinion="同意推荐"))
    assert d.state == S.committee_formal_review
    d.do(decide(f.COMMITTEE, "committee_formal_review", opinion="通过形式审核"))
    assert d.state == S.fee_pending and d.chain.s.fee_due == fee
    wrong = d.refuse(PaymentCommand(actor=f.FINANCE, amount=fee + 1, receipt_no="R-0"))
    assert f"应缴 {fee} 元" in wrong
    d.do(PaymentCommand(actor=f.FINANCE, amount=fee, receipt_no="R-1"))
    if c.paper_materials_required:
        assert d.state == S.materials_pending and d.chain.s.form_id
        d.do(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id=d.chain.s.form_id))
    else:
        paper = MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-1")
        assert "不需要报送纸质材料" in d.refuse(paper)
    if venue is None:
        assert d.state == S.committee_review
    else:
        assert d.state == S.defense_pending and d.chain.s.defense.venue == venue
        score = 86.0 if c.defense.scored else None
        mode = "onsite" if venue == "onsite" else "video"
        d.do(DefenseCommand(actor=f.COMMITTEE, passed=True, mode=mode, score=score))
    d.do(vote())
    assert d.state == S.result_publicity
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    assert d.state == S.certified and d.chain.s.result is not None
    return [e.stage_after or "" for e in d.audit if e.stage_after != e.stage_before]


#: Instants inside each notice's declaration window (two days after it opens, 10:00).
INSIDE = {
    "000": bj("2020-08-12 10:00"),
    "001": bj("2024-07-24 10:00"),
    "002": bj("2020-08-04 10:00"),
    "003": bj("2021-08-27 10:00"),
    "004": bj("2021-10-12 10:00"),
}


def test_000_deputy_senior_of_urumqi_defends_on_site_and_sends_no_paper():
    """Notice 000: 副高级 答辩, 乌鲁木齐市单位参加现场答辩 (附件2 三(五)); 无需提交职称评审表, so no
    materials_pending; fee 高级500 after 通过形式审核 (附件2 一(五))."""
    c = load("000")
    d = drive(c, "deputy_senior", INSIDE["000"], affiliation="乌鲁木齐市")
    stages = certify(d, fee=500, venue="onsite")
    assert stages == expected_stages(authorities=True, paper=False, defense=True)


@pytest.mark.parametrize(("level", "fee"), [("intermediate", 400), ("junior", 300)])
def test_000_intermediate_and_junior_do_not_defend(level, fee):
    """Notice 000: only 副高级 defends (附件2 三(五)); 中级 400, 初级 300 (附件2 一(五))."""
    d = drive(load("000"), level, INSIDE["000"], affiliation="伊犁哈萨克自治州")
    stages = certify(d, fee=fee, venue=None)
    assert stages == expected_stages(authorities=True, paper=False, defense=False)


@pytest.mark.parametrize("drawn", [True, False])
def test_000_deputy_senior_elsewhere_defends_remotely_only_when_drawn(drawn):
    """Notice 000: 其它地（州、市）随机抽取，采用视频或电话答辩 (附件2 三(五)); the draw is reproducible
    from the campaign and declaration ids (docs/rules.md §5); 驻村管寺/支教 never defend."""
    c = load("000")
    rate = c.defense.remote_sample_rate
    assert rate is not None
    for _ in range(200):  # declaration ids are random: take the first one the draw treats so
        d = drive(c, "deputy_senior", INSIDE["000"], affiliation="伊犁哈萨克自治州")
        if remote_sample_drawn(c.id, d.chain.s.declaration_id, rate) is drawn:
            break
    else:
        pytest.fail(f"no declaration {'drawn' if drawn else 'left out'} in 200 tries")
    stages = certify(d, fee=500, venue="remote" if drawn else None)
    assert stages == expected_stages(authorities=True, paper=False, defense=drawn)
    assert d.chain.s.defense.drawn is drawn
    exempt = drive(c, "deputy_senior", INSIDE["000"], affiliation="乌鲁木齐市",
                   categories=["village_work"])  # fmt: skip
    assert exempt.chain.s.defense.required is False
    assert exempt.chain.s.defense.exemption == "village_work"


def test_001_deputy_senior_sends_paper_and_defends_remotely():
    """Notice 001: 高级 defends (四(五)), by video or phone, the campaign file's choice (四(五) names
    no venue: docs/rules.md §5); 评审表 on paper after 已接收材料 (四(四)); fee 高级550 (四(六)); 盲评
    masks name, photo and unit (四(一)3)."""
    d = drive(load("001"), "deputy_senior", INSIDE["001"])
    stages = certify(d, fee=550, venue="remote")
    assert stages == expected_stages(authorities=True, paper=True, defense=True)
    assert d.chain.s.declaration.masked_items == ["name", "photo", "unit"]


@pytest.mark.parametrize(("level", "fee"), [("intermediate", 400), ("junior", 200)])
def test_001_intermediate_and_below_are_exempt_from_defense(level, fee):
    """Notice 001: 申报中级及以下职称评审的，免于答辩 (四(五)); 中级400, 初级200 (四(六))."""
    d = drive(load("001"), level, INSIDE["001"])
    stages = certify(d, fee=fee, venue=None)
    assert stages == expected_stages(authorities=True, paper=True, defense=False)


@pytest.mark.parametrize(
    ("affiliation", "categories", "venue"),
    [("乌鲁木齐市", [], "onsite"), ("喀什地区", ["village_work"], "remote")],
)
def test_002_every_senior_applicant_defends_and_sends_no_paper(affiliation, categories, venue):
    """Notice 002: 申报正高级专业技术人员全部参加答辩 (六(一)), whatever their categories and never
    sampled out; 乌鲁木齐市 units on site (六(二)); 无需提交职称评审表 (五(六))."""
    c = load("002")
    d = drive(c, "senior", INSIDE["002"], affiliation=affiliation, categories=categories)
    stages = certify(d, fee=c.fees["senior"], venue=venue)
    assert stages == expected_stages(authorities=True, paper=False, defense=True)


def test_003_intermediate_of_the_prefecture_defends_on_site_with_a_score():
    """Notice 003: 中级 defends (六(二) only 初级 exempt), at the 现场答辩 (六(一)), scored here;
    评审表 with watermark on paper (七(二)); fee 中级380 (八(一))."""
    d = drive(load("003"), "intermediate", INSIDE["003"], affiliation="巴音郭楞蒙古自治州")
    stages = certify(d, fee=380, venue="onsite")
    assert stages == expected_stages(authorities=True, paper=True, defense=True)
    assert d.chain.s.defense.score == 86.0


@pytest.mark.parametrize(
    ("level", "fee", "applicant"),
    [
        ("junior", 220, {}),
        ("intermediate", 380, {"employer_kind": "freelance"}),
        ("intermediate", 380, {"employer_kind": "private_enterprise"}),
        ("intermediate", 380, {"categories": ["且末县"]}),
        ("intermediate", 380, {"categories": ["county_grassroots"]}),
    ],
)
def test_003_junior_private_enterprise_and_listed_categories_do_not_defend(level, fee, applicant):
    """Notice 003: 初级 免于答辩 (六(二)); 民营企业和自由职业 免于答辩 (六(三)); 且末县、县级以下基层单位
    免于答辩 (六(一)); fees 初级220, 中级380 (八(一)); paper still required (七(二))."""
    applicant.setdefault("affiliation", "巴音郭楞蒙古自治州")
    d = drive(load("003"), level, INSIDE["003"], **applicant)
    stages = certify(d, fee=fee, venue=None)
    assert stages == expected_stages(authorities=True, paper=True, defense=False)


@pytest.mark.parametrize(("level", "fee"), [("deputy_senior", 550), ("junior", 300)])
def test_004_declarations_send_paper_and_names_no_defense(level, fee):
    """Notice 004: 须报送原件 评审表 after 通过形式审核 (附件2 一(二)); fees 副高550, 初级300 (附件2
    一(三)); the notice names no 答辩 (read as: nobody defends)."""
    d = drive(load("004"), level, INSIDE["004"])
    stages = certify(d, fee=fee, venue=None)
    assert stages == expected_stages(authorities=True, paper=True, defense=False)


def test_004_the_cap_counts_the_applicants_own_submissions():
    """Notice 004: 申报人提交材料次数不得超过3次 (四(二), submission_cap_scope: applicant): a unit
    return on the third submission already ends the declaration, before any committee review."""
    c = load("004")
    d = drive(c, "intermediate", INSIDE["004"])
    for _ in range(2):
        d.do(SubmitCommand(actor=f.APPLICANT))
        d.do(DecisionCommand(actor=f.UNIT, stage="unit_review", outcome="return",
                                       reasons=["missing_material"]))  # fmt: skip
        assert d.state == S.returned
    d.do(SubmitCommand(actor=f.APPLICANT))
    d.do(DecisionCommand(actor=f.UNIT, stage="unit_review", outcome="return",
                                   reasons=["missing_material"]))  # fmt: skip
    assert d.state == S.not_accepted and d.chain.s.committee_submissions == 0


# --------------------------------------------------------------------------- Temporal


async def certify_on_temporal(
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    notice: str,
    level: Level,
    *,
    fee: int,
    venue: str | None,
    **applicant: Any,
) -> DeclarationView:
    """One declaration to notice ``notice``'s campaign on the real workflow, from draft to the
    committee's acceptance, the fee, the paper (where required), the defense (where required), the
    vote and the result publicity, to ``certified``. The campaign's instants are shifted (same
    shift for all) so that its declaration window is open at the test server's clock."""
    at = await now(env)
    c = shifted(load(notice), at)
    d = await create(client, worker.task_queue, at, campaign=c,
                     decl=declaration_for(c, level, **applicant))  # fmt: skip
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve", opinion="材料真实、完整、有效")
    assert view.state == "unit_publicity"
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(client, d.id, "unit_recommendation")
    view = await d.decide(f.UNIT, "unit_recommendation", "approve", opinion="同意推荐",
                          publicity_result_ref="公示结果证明-1")  # fmt: skip
    for org in c.authority_levels:
        view = await d.decide(authority(org), "authority_review", "approve")
    assert view.state == "committee_formal_review" and view.committee_submissions == 1
    view = await d.decide(f.COMMITTEE, "committee_formal_review", "approve", opinion="通过形式审核")
    assert view.state == "fee_pending"
    assert view.fee.due == fee and view.materials.required is c.paper_materials_required
    with pytest.raises(DecisionRefused, match=f"应缴 {fee} 元"):
        await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=fee - 1,
                                                      receipt_no="R-0"))  # fmt: skip
    view = await d.send("record_payment", PaymentCommand(actor=f.FINANCE, amount=fee,
                                                         receipt_no="R-1"))  # fmt: skip
    assert view.fee.paid and view.fee.receipt_no == "R-1"
    if c.paper_materials_required:
        assert view.state == "materials_pending" and view.materials.form_id
        view = await d.send("record_materials_received",
                            MaterialsReceivedCommand(actor=f.COMMITTEE,
                                                     form_id=view.materials.form_id))  # fmt: skip
        assert view.materials.received
    if venue is None:
        assert view.state == "committee_review" and view.defense.venue is None
    else:
        assert view.state == "defense_pending" and view.defense.venue == venue
        score = 86.0 if c.defense.scored else None
        view = await d.send("record_defense", DefenseCommand(
            actor=f.COMMITTEE, passed=True, mode="onsite" if venue == "onsite" else "phone",
            score=score))  # fmt: skip
    view = await d.send("record_vote", vote())
    assert view.state == "result_publicity"
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    view = await wait_state(client, d.id, "certified")
    assert view.result is not None and view.result.certificate_no
    return view


@pytest.mark.usefixtures("worker")
async def test_000_on_temporal_urumqi_deputy_senior_pays_500_sends_no_paper_defends_on_site(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 000 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): fee 高级500 after 通过形式审核 (附件2 一(五)), 无需提交职称评审表, 副高 of
    乌鲁木齐市 defends on site (附件2 三(五)), then vote and result publicity to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "000", "deputy_senior",
                                     fee=500, venue="onsite", affiliation="乌鲁木齐市")  # fmt: skip
    assert view.materials.required is False


@pytest.mark.usefixtures("worker")
async def test_001_on_temporal_deputy_senior_pays_550_sends_paper_defends_remotely(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 001 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): two authority levels, 已接收材料 → fee 高级550 (四(六)) and the watermarked
    评审表 on paper (四(四)), 高级 defends by video or phone (四(五)), to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "001", "deputy_senior",
                                     fee=550, venue="remote")  # fmt: skip
    assert view.materials.received and view.masked_items == ["name", "photo", "unit"]


@pytest.mark.usefixtures("worker")
async def test_002_on_temporal_senior_defends_without_paper(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 002 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): 主管单位 recommends (五(三)), no 评审表 (五(六)), the example fee, and 正高级
    全部参加答辩 (六(一)) — remotely for a unit outside 乌鲁木齐市/昌吉州直/吐鲁番市直 — to certified."""
    c = load("002")
    view = await certify_on_temporal(time_skipping, client, worker, "002", "senior",
                                     fee=c.fees["senior"], venue="remote",
                                     affiliation="伊犁哈萨克自治州")  # fmt: skip
    assert view.materials.required is False and view.defense.required is True


@pytest.mark.usefixtures("worker")
async def test_003_on_temporal_intermediate_pays_380_sends_paper_defends_on_site(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 003 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): 通过形式审核 → 评审表 with watermark and fee 中级380 (七(二), 八(一)), 中级
    defends at the prefecture's 现场答辩 with a score (六), to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "003", "intermediate",
                                     fee=380, venue="onsite",
                                     affiliation="巴音郭楞蒙古自治州")  # fmt: skip
    assert view.defense.score == 86.0


@pytest.mark.usefixtures("worker")
async def test_004_on_temporal_deputy_senior_pays_550_sends_paper_without_defense(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 004 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): 通过形式审核 → fee 副高级550 (附件2 一(三)) and the 评审表 original on paper
    (附件2 一(二)); the notice names no 答辩; to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "004", "deputy_senior",
                                     fee=550, venue=None)  # fmt: skip
    assert view.materials.received and view.applicant_submissions == 1
