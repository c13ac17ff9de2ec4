"""The example campaign files (examples/campaigns/), one per notice 000-004.

Each file loads through domain.campaign_files and validates as a Campaign; every value in it names
the clause of its notice it comes from, or says that the notice is silent (then it is the service's
default, or an example value such as an id); its values match its notice, clause by clause,
including what the service's rules make of them (fees, flags, who defends). Each file then drives a
declaration through its whole chain to ``certified`` on the pure chain and on the real Temporal
workflow (time-skipping server, windows shifted to the server's clock), with the stages that notice
implies.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.campaign_files import load_campaign_file, parse_campaign
from domain.defense import defense_required, remote_sample_drawn
from domain.eligibility import eligibility_flags
from domain.fees import fee_due
from domain.models import (
    CAMPAIGN_INSTANTS,
    Actor,
    Applicant,
    Appraisal,
    AppraisalPolicy,
    BlacklistPolicy,
    Campaign,
    ContinuingEducationYear,
    DecisionCommand,
    DeclarationInput,
    DeclarationView,
    DefenseCommand,
    DefensePolicy,
    Level,
    MaterialsReceivedCommand,
    PaymentCommand,
    Region,
    Route,
    SubmitCommand,
    VoteCommand,
)
from domain.states import StateName as S
from gateway import DecisionRefused
from testing import factories as f
from testing.declarations import after, create, now, skip_to, wait_state
from tests.chain.driver import Driver

CAMPAIGNS = Path(__file__).resolve().parents[2] / "examples" / "campaigns"
FILES = {
    "000": "000_transport_2020.yaml",
    "001": "001_aksu_2024.yaml",
    "002": "002_senior_titles_2020.yaml",
    "003": "003_bayingol_2021.yaml",
    "004": "004_cyber_2021.yaml",
}
#: The notice is silent and the value is the service's default (docs/rules.md).
DEFAULT = "default: not in the notice"
#: The notice is silent but the service needs a value (an id, an organisation, a share).
EXAMPLE = "example value: not in the notice"
#: A comment quoting a clause: Chinese characters or full-width punctuation.
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
#: Fields the service reads only from campaigns stored before version 3 (docs/rules.md §15).
IGNORED = {
    "": ("authority_levels", "committee_members", "route_fees", "specialties"),
    "defense": ("onsite_affiliations",),
    "blacklist": ("applicant_from_next_year",),
}
#: Registered committee size the service sends with a vote (docs/rules.md §11).
MEMBERS = 25
#: What finance records for notice 002, whose notice names no fee (the office's amount).
CHARGED = 800


def load(notice: str) -> Campaign:
    return load_campaign_file(CAMPAIGNS / FILES[notice])


def text_of(notice: str) -> str:
    return (CAMPAIGNS / FILES[notice]).read_text(encoding="utf-8")


def bj(text: str) -> datetime:
    """An instant written in Beijing time, e.g. ``bj("2024-08-30 18:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=f.BJ)


# --------------------------------------------------------------------------- reading the files


def value_lines(text: str) -> list[tuple[int, tuple[str, ...], str, str]]:
    """Every line of a campaign file that sets a value: (line number, key path, value, comment).

    A mapping key with nothing after the colon opens a block and sets no value itself; a list
    item is a value of the key above it. Comments are written as ``  # …`` after the value."""
    out: list[tuple[int, tuple[str, ...], str, str]] = []
    stack: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        body, _, comment = raw.partition("  # ")
        indent = len(body) - len(body.lstrip())
        item = body.strip()
        if item.startswith("- "):
            item, indent = item[2:], indent + 2
            if ":" not in item.split('"')[0]:
                out.append((number, tuple(k for _, k in stack), item, comment))
                continue
        key, _, value = item.partition(":")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (*(k for _, k in stack), key.strip())
        if value.strip():
            out.append((number, path, value.strip(), comment))
        else:
            stack.append((indent, key.strip()))
    return out


def model_default(path: tuple[str, ...]) -> Any:
    """The service's default of the campaign field at ``path`` (e.g. ``("defense", "venue")``)."""
    model: type[BaseModel] = Campaign
    for key in path[:-1]:
        annotation = model.model_fields[key].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel), path
        model = annotation
    return model.model_fields[path[-1]].get_default(call_default_factory=True)


def raw_value(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


# --------------------------------------------------------------------------- loading


def test_one_file_per_notice_each_loads_and_names_its_notice():
    """Campaign files (docs/rules.md §15): exactly one YAML file per notice 000-004, each a valid
    Campaign, each opening with a header naming the notice's issuing body, title and date, and
    saying how a value shows where it comes from."""
    assert sorted(p.name for p in CAMPAIGNS.glob("*.yaml")) == sorted(FILES.values())
    bodies = {
        "000": "新疆维吾尔自治区交通运输厅",
        "001": "阿克苏地区交通运输局",
        "002": "职称社会化评价中心",
        "003": "巴音郭楞职业技术学院",
        "004": "自治区党委网信办",
    }
    ids = set()
    for notice in FILES:
        text = text_of(notice)
        assert text.startswith(f"# Campaign file for notice {notice}, ")
        header = text.split("\n\n", 1)[0]
        assert bodies[notice] in header and "Title:" in header and "Date:" in header
        assert DEFAULT in header and EXAMPLE in header
        ids.add(load(notice).id)
    assert len(ids) == len(FILES)


@pytest.mark.parametrize("notice", sorted(FILES))
def test_every_value_names_its_clause_or_says_the_notice_is_silent(notice):
    """Campaign files (docs/rules.md, Sources): every field of the campaign is written out, and
    every value carries, on its line, the clause it comes from quoted in Chinese, or says that the
    notice is silent ("default: not in the notice" or "example value: not in the notice")."""
    data = yaml.safe_load(text_of(notice))
    for block, model in (("", Campaign), ("defense", DefensePolicy),
                         ("blacklist", BlacklistPolicy), ("appraisals", AppraisalPolicy)):  # fmt: skip
        written = set(data[block] if block else data)
        expected = set(model.model_fields) - set(IGNORED.get(block, ())) - {"materials_catalogue"}
        assert written == expected, (block, expected ^ written)
    lines = value_lines(text_of(notice))
    bare = [
        (number, ".".join(path), value)
        for number, path, value, comment in lines
        if not (CHINESE.search(comment) or DEFAULT in comment or EXAMPLE in comment)
    ]
    assert bare == []


@pytest.mark.parametrize("notice", sorted(FILES))
def test_where_the_notice_is_silent_the_file_keeps_the_services_default(notice):
    """docs/rules.md (a default never ends a declaration): a value marked "default: not in the
    notice" is exactly the service's default for that field, so no file invents a rule (a
    correction window, a cap, a venue, a fee deadline) its notice does not state."""
    data = yaml.safe_load(text_of(notice))
    marked = [(path, value) for _, path, value, comment in value_lines(text_of(notice))
              if DEFAULT in comment]  # fmt: skip
    assert marked
    for path, _ in marked:
        assert raw_value(data, path) == model_default(path), ".".join(path)


@pytest.mark.parametrize("notice", sorted(FILES))
def test_no_file_sets_a_field_the_service_ignores(notice):
    """docs/rules.md §15: the fields version 3 replaced (authority_levels, committee_members,
    route_fees, onsite_affiliations, applicant_from_next_year; specialties by series_specialties)
    are not written; the materials catalogue is filled elsewhere."""
    data = yaml.safe_load(text_of(notice))
    for block, keys in IGNORED.items():
        fields = data[block] if block else data
        assert not set(keys) & set(fields), (block, keys)
    assert "materials_catalogue" not in data


@pytest.mark.parametrize(
    ("notice", "key"),
    [
        ("000", "id"),
        ("000", "confirming_org"),
        ("001", "confirming_org"),
        ("002", "top_authority"),
        ("002", "remote_sample_rate"),
        ("003", "top_authority"),
        ("004", "confirming_org"),
    ],
)
def test_values_the_notice_does_not_give_are_marked_as_example_values(notice, key):
    """Campaign files: a value the service needs but the notice does not give (its id, a body the
    notice does not name, 002's 随机抽取 share) carries "example value: not in the notice"."""
    found = [comment for _, path, _, comment in value_lines(text_of(notice)) if path[-1] == key]
    assert found and all(EXAMPLE in comment for comment in found)


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
    as_yml.write_text(text_of(notice), encoding="utf-8")
    assert load_campaign_file(as_yml) == c


def test_invalid_content_raises_a_value_error_naming_the_file_and_the_pydantic_error(tmp_path):
    """Campaign files: a campaign with a level but no fee for it (docs/rules.md §4: every level it
    reviews has a fee, or an explicit null) is refused with the file's name and pydantic's
    message."""
    text = text_of("001")
    broken = tmp_path / "001_broken.yaml"
    broken.write_text(re.sub(r"\n  junior: 200 [^\n]*", "", text), encoding="utf-8")
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


# --------------------------------------------------------------------------- rules per notice


@pytest.mark.parametrize(
    ("notice", "window", "cap", "scope", "deadline"),
    [
        ("000", None, None, "committee", "applicant_submit"),  # names none; 三(二) 申报时间
        ("001", 2, 3, "committee", "committee_arrival"),  # 四(一)1; 一(一) 视为放弃
        ("002", None, 3, "committee", "applicant_submit"),  # 四(三) 上报次数不得超过3次(含初次上报)
        ("003", None, 3, "committee", "applicant_submit"),  # 四 上报次数不得超过3次
        ("004", None, 3, "applicant", "applicant_submit"),  # 四(二) 申报人提交材料次数不得超过3次
    ],
)
def test_terminal_rules_apply_only_where_the_notice_sets_them(notice, window, cap, scope, deadline):
    """docs/rules.md §2.5, §3: only 001 四(一)1 sets a correction window (退回后2日内) and only
    001 一(一) ends a declaration that has not reached the committee by the deadline; the cap of 3
    is 001 四(一)1 提交评审委员会审核次数不超过3次, 002 四(三) and 003 四 上报次数不得超过3次 (reports to
    the committee's review) and 004 四(二) 申报人提交材料次数不得超过3次 (every submission by the
    applicant); 000 names no cap."""
    c = load(notice)
    assert c.correction_window_days == window
    assert (c.max_committee_submissions, c.submission_cap_scope) == (cap, scope)
    assert c.deadline_applies_to == deadline


def person(**overrides: Any) -> Applicant:
    """An applicant with nothing to flag by default: continuing education, appraisals and a
    Mandarin certificate given per test."""
    data: dict[str, Any] = {"continuing_education": [], "appraisals": [], "mandarin_level": None}
    data.update(overrides)
    return f.applicant(**data)


def studied(*years: int, public: int = 0, professional: int = 0) -> list[ContinuingEducationYear]:
    return [
        ContinuingEducationYear(year=y, public_hours=public, professional_hours=professional)
        for y in years
    ]


def appraised(*years: int, result: str = "合格") -> list[Appraisal]:
    return [Appraisal.model_validate({"year": y, "result": result}) for y in years]


def ce_short(c: Campaign, level: Level, applicant: Applicant, route: Route = "directed") -> bool:
    return "continuing_education_short" in eligibility_flags(c, level, route, applicant)


def test_000_values_match_the_2020_transport_notice():
    """Notice 000 (自治区交通运输厅 2020): 一 工程系列公路、运输 at three levels and 交通经济 高级经济师;
    三(二) 申报时间 8月10日至9月30日; 附件2 一(五) fees 初级300/中级400/高级500, 无需提交职称评审表;
    附件2 三(五) 副高 全面实行答辩, 乌鲁木齐市、昌吉州 on site and the others by video or phone,
    驻村管寺、支教 exempt; 四(一) 120学时网络课程; 附件2 三(六) no language test; 四(三) bars 5 / 3."""
    c = load("000")
    assert c.year == 2020 and c.levels == ["junior", "intermediate", "deputy_senior"]
    series = c.reviewed_series()
    assert series["engineering"].specialties == ["highway", "transport"]
    assert series["engineering"].levels == ["junior", "intermediate", "deputy_senior"]
    assert (series["economics"].specialties, series["economics"].levels) == (
        ["transport_economics"], ["deputy_senior"],
    )  # fmt: skip
    assert c.declaration_opens_at == bj("2020-08-10 00:00")
    assert c.declaration_closes_at == bj("2020-10-01 00:00")
    assert c.review_closes_at is None and c.fee_deadline is None and c.materials_deadline is None
    assert c.fees == {"junior": 300, "intermediate": 400, "deputy_senior": 500}
    assert list(c.routes) == ["directed"]
    assert c.paper_materials_required is False and c.blind_review is False
    # 附件2 三(五): who defends, where; 全面实行 leaves nobody out of the defense.
    p = c.defense
    assert p.required_levels == ["deputy_senior"] and p.venue == "by_region"
    assert {"650100", "652300", "652301"} <= set(p.onsite_regions)  # 乌鲁木齐市, 昌吉州, 昌吉市
    assert "654000" not in p.onsite_regions  # 伊犁哈萨克自治州: 其它地（州、市）
    assert p.venue_levels == ["deputy_senior"]
    assert p.remote_selection == "all" and p.remote_sample_rate is None and not p.scored
    assert defense_required(c, "deputy_senior", person())[0] is True
    assert defense_required(c, "deputy_senior", person(categories=["village_work"]))[:2] == (
        False, "village_work",
    )  # fmt: skip
    assert defense_required(c, "intermediate", person())[0] is False
    # 四(一) 完成120学时网络课程, checked in the campaign year.
    assert not ce_short(
        c, "intermediate", person(continuing_education=studied(2020, professional=120))
    )
    assert ce_short(c, "intermediate", person(continuing_education=studied(2020, professional=90)))
    # 附件2 三(六) 外(汉)语…不作硬性要求; 附件2 一(二)7 近3年合格及以上考核登记表.
    assert c.mandarin_required is False
    flags = eligibility_flags(c, "intermediate", "directed", person(
        appraisals=[*appraised(2017, 2018), *appraised(2019, result="基本合格")],
        continuing_education=studied(2020, professional=120)))  # fmt: skip
    assert flags == ["appraisal_basic"]
    assert (c.blacklist.applicant_years, c.blacklist.unit_years, c.blacklist.scope) == (
        5, 3, "series",
    )  # fmt: skip
    assert c.unit_publicity_working_days == 5 and c.result_confirmation_required is True
    assert (c.committee_org, c.top_authority, c.confirming_org) == (
        "xj-transport-committee", "xj-transport-dept", "xj-hrss",
    )  # fmt: skip
    # 附件2 一(五) 前往自治区交通运输厅缴纳评审费用
    assert c.fee_offices() == ["xj-transport-finance"]


def test_001_values_match_the_2024_aksu_notice():
    """Notice 001 (阿克苏地区交通运输局 2024-07-17): 开头 工程系列公路、运输 and 经济系列交通经济; 一(一)
    申报 07-22 — 08-30 18:00, not at the committee by then 视为放弃; 一(二)-(四) 审核、缴费、材料 to 9月10日;
    四(六) 200/400/550 on both routes; 四(一)1 退回后2日内, 3 submissions to the committee; 四(一)3
    盲评; 四(一)6 90 学时 (专业课 60) 2021-2024, 民营企业初次 exempt; 四(一)7 普通话三级乙等; 四(二)
    资历 to 2024-12-31; 四(四) 评审表 on paper; 四(五) 高级 defends, no venue named; 四(九) the
    自治区 bars; 二(一) 定向评价 and 二(二)/三(二) 民营企业专项 through 同级公共就业服务机构."""
    c = load("001")
    assert c.id == "aks-2024-transport" and c.year == 2024
    series = c.reviewed_series()
    assert series["engineering"].specialties == ["highway", "transport"]
    assert (series["economics"].specialties, series["economics"].levels) == (
        ["transport_economics"], ["deputy_senior"],
    )  # fmt: skip
    assert c.declaration_opens_at == bj("2024-07-22 00:00")
    assert c.declaration_closes_at == bj("2024-08-30 18:00")
    assert c.review_closes_at == c.fee_deadline == c.materials_deadline == bj("2024-09-11 00:00")
    assert c.fees == {"junior": 200, "intermediate": 400, "deputy_senior": 550}
    for route in ("directed", "private_enterprise"):
        assert [fee_due(c, lvl, route) for lvl in c.levels] == [200, 400, 550]
    assert c.resubmit_to == "returner"
    assert c.paper_materials_required is True and c.blind_review is True
    assert c.seniority_cutoff == date(2024, 12, 31)
    # 四(五): 高级 defends, 中级及以下 免于答辩; the notice names no venue.
    assert c.defense.required_levels == ["deputy_senior", "senior"]
    assert c.defense.venue == "open" and c.defense.onsite_regions == []
    assert defense_required(c, "intermediate", person())[0] is False
    # 四(一)6: 90 a year of which 60 professional, 2021-2024; 民营企业 初次 not required.
    full = studied(2021, 2022, 2023, 2024, public=30, professional=60)
    assert not ce_short(c, "deputy_senior", person(continuing_education=full))
    no_public = studied(2021, 2022, 2023, 2024, professional=90)
    assert not ce_short(c, "deputy_senior", person(continuing_education=no_public))
    short = [*full[:3], *studied(2024, public=40, professional=50)]
    assert ce_short(c, "deputy_senior", person(continuing_education=short))
    first_time = person(employer_kind="private_enterprise", first_time=True)
    assert not ce_short(c, "intermediate", first_time, "private_enterprise")
    assert ce_short(
        c, "intermediate", person(employer_kind="private_enterprise"), "private_enterprise"
    )
    # 四(一)7 普通话水平不得低于三级乙等, for 事业单位 staff.
    assert c.mandarin_required is True
    flags = eligibility_flags(c, "intermediate", "directed", person(
        mandarin_level="三级甲等", continuing_education=full,
        appraisals=appraised(2021, 2022, 2023)))  # fmt: skip
    assert flags == []
    assert "mandarin_below_required" in eligibility_flags(c, "intermediate", "directed", person())
    # 四(九) 按照国家、自治区相关规定: 五年 / 三年, the same series (附件3 is the applicant's pledge).
    assert (c.blacklist.applicant_years, c.blacklist.unit_years, c.blacklist.scope) == (
        5, 3, "series",
    )  # fmt: skip
    # 二(一) 定向评价 (scoped); 二(二), 三(二) 经同级公共就业服务机构审核、推荐.
    assert c.routes["directed"].scoped is True and c.routes["directed"].authority_chain is None
    assert c.routes["private_enterprise"].authority_chain == ["aks-employment-service"]
    assert c.routes["private_enterprise"].scoped is False
    assert set(c.routes) == {"directed", "private_enterprise"}
    assert (c.committee_org, c.top_authority, c.confirming_org) == (
        "aks-transport-committee", "aks-transport-bureau", "aks-hrss",
    )  # fmt: skip
    assert c.fee_offices() == ["aks-transport-finance"]  # 四(六) 地区交通运输局财务审计办公室
    assert c.result_confirmation_required is True


def test_002_values_match_the_2020_senior_titles_notice():
    """Notice 002 (正高级工程师、正高级经济师等5个系列（专业）, 2020-07-24): 二 the five series and their
    levels; 一 材料申报 8月2日—9月2日; 五(六) no amount and no 评审表; 四(三) 上报次数不得超过3次
    (含初次上报), 经修改后再上报; 六(一) 正高 全部参加答辩 (no venue); 六(二) 副高: 乌鲁木齐市、昌吉州直、
    吐鲁番市直 on site, others 随机抽取; 五(一)6 公共科目2014-2020年; 七(五) bars 5 / 3; 五(四) 委托评审
    via the 自治区专业技术人员职称办公室; 五(五) 援疆."""
    c = load("002")
    assert c.year == 2020 and c.levels == ["junior", "intermediate", "deputy_senior", "senior"]
    series = c.reviewed_series()
    assert set(series) == {
        "engineering", "economics", "cadre_college_teachers", "technical_school_teachers",
    }  # fmt: skip
    assert series["engineering"].levels == ["senior"]  # 正高级工程师
    assert "human_resources_management" in series["economics"].specialties
    assert c.declaration_opens_at == bj("2020-08-02 00:00")
    assert c.declaration_closes_at == bj("2020-09-03 00:00")
    # 五(六): where to pay, not how much: no fee is invented.
    assert c.fees == dict.fromkeys(c.levels)
    assert all(fee_due(c, lvl, route) is None for lvl in c.levels for route in c.routes)
    assert c.paper_materials_required is False and c.materials_deadline is None
    assert c.resubmit_to == "unit"
    p = c.defense
    assert p.required_levels == ["deputy_senior", "senior"] and p.no_exemption_levels == ["senior"]
    assert p.exempt_categories == []
    assert p.venue == "by_region" and p.venue_levels == ["deputy_senior"]
    assert {"650100", "652300", "650400"} <= set(p.onsite_regions)
    assert "652301" not in p.onsite_regions  # 昌吉州直单位: the 州 itself, not 昌吉市
    assert p.remote_selection == "sample" and p.remote_sample_rate is not None
    assert defense_required(c, "senior", person(categories=["village_work"]))[0] is True
    assert defense_required(c, "intermediate", person())[0] is False
    # 五(一)6 公共科目2014-2020年.
    public = studied(*range(2014, 2021), public=24)
    assert not ce_short(c, "senior", person(continuing_education=public))
    assert ce_short(c, "senior", person(continuing_education=public[1:]))
    assert ce_short(c, "senior", person(continuing_education=studied(*range(2014, 2021),
                                                                     professional=60)))  # fmt: skip
    assert (c.blacklist.applicant_years, c.blacklist.unit_years, c.blacklist.scope) == (
        5, 3, "series",
    )  # fmt: skip
    assert set(c.routes) == {"directed", "entrusted", "aid_xinjiang"}
    assert c.routes["aid_xinjiang"].authority_chain == []  # 五(五) 经派出单位…审核同意，即可申报
    assert c.routes["entrusted"].authority_chain is None
    assert (c.committee_org, c.top_authority, c.confirming_org) == (
        "xj-title-evaluation-center", "xj-title-office", "xj-title-office",
    )  # fmt: skip
    # 五(六) 前往自治区人力资源和社会保障厅缴纳评审费用
    assert c.fee_offices() == ["xj-hrss-finance"]
    assert c.mandarin_required is False and c.result_confirmation_required is True


def test_003_values_match_the_2021_bayingol_notice():
    """Notice 003 (巴州 2021-08-20): 二 four specialties at 初、中级; 一 网上申报 8月25日—9月18日,
    纸质材料报送及缴费 9月18日—9月20日; 八(一) 中级380 / 初级220, 八(二) 初次确定 100 / 380; 四
    上报次数不得超过3次; 六 only 初级 exempt by level, and the 六(一)/六(三) categories; 五(一)4
    continuing education per level; 五(一)7 民营企业不需提供 appraisals; 七(二) 评审表 on paper;
    五(四) 援疆."""
    c = load("003")
    assert c.year == 2021 and c.levels == ["junior", "intermediate"]
    assert set(c.reviewed_series()["engineering"].specialties) == {
        "chemical_engineering", "petroleum", "textile", "electric_power",
    }  # fmt: skip
    assert c.declaration_opens_at == bj("2021-08-25 00:00")
    assert c.declaration_closes_at == bj("2021-09-19 00:00")
    assert c.fee_deadline == c.materials_deadline == bj("2021-09-21 00:00")
    assert c.review_closes_at is None and c.resubmit_to == "unit"
    assert c.fees == {"junior": 220, "intermediate": 380}
    assert (fee_due(c, "junior", "directed"), fee_due(c, "intermediate", "directed")) == (220, 380)
    assert fee_due(c, "junior", "initial_determination") == 100  # 八(二) 初次确定初级
    assert fee_due(c, "intermediate", "initial_determination") == 380  # 初次确定中级、授予(中级)
    assert fee_due(c, "junior", "aid_xinjiang") == 220
    assert c.paper_materials_required is True
    # 六(二) 初级 免于答辩; 六(一), 六(三) the categories; the notice names no venue.
    p = c.defense
    assert p.required_levels == ["intermediate"] and p.venue == "open" and not p.scored
    assert set(p.exempt_categories) == {
        "fanghuiju", "village_work", "teaching_support", "interior_service", "first_secretary",
        "qiemo_county", "ruoqiang_county", "county_grassroots", "private_enterprise",
    }  # fmt: skip
    assert defense_required(c, "intermediate", person())[0] is True
    assert defense_required(c, "junior", person())[0] is False
    assert defense_required(c, "intermediate", person(employer_kind="freelance"))[0] is False
    assert defense_required(c, "intermediate", person(categories=["qiemo_county"]))[0] is False
    # 五(一)4: 初级 当年 公需课及专业课; 中级 近4年公需课 and 当年专业课.
    this_year = studied(2021, public=20, professional=40)
    assert not ce_short(c, "junior", person(continuing_education=this_year))
    assert ce_short(c, "junior", person(continuing_education=studied(2021, professional=40)))
    four = [*studied(2018, 2019, 2020, public=20), *this_year]
    assert not ce_short(c, "intermediate", person(continuing_education=four))
    assert ce_short(c, "intermediate", person(continuing_education=four[1:]))
    assert ce_short(c, "intermediate", person(
        continuing_education=[*four[:3], *studied(2021, public=20)]))  # fmt: skip
    # 五(一)7 近三年年度考核登记表…（民营企业不需提供）.
    assert "appraisal_missing" in eligibility_flags(c, "junior", "directed", person())
    private = person(employer_kind="private_enterprise", continuing_education=this_year)
    assert eligibility_flags(c, "junior", "directed", private) == []
    assert (c.blacklist.applicant_years, c.blacklist.unit_years, c.blacklist.scope) == (
        5, 3, "series",
    )  # fmt: skip
    assert set(c.routes) == {"directed", "initial_determination", "aid_xinjiang"}
    assert c.routes["aid_xinjiang"].authority_chain == []  # 五(四) 经派出单位…审核同意, 即可申报
    assert (c.committee_org, c.top_authority, c.confirming_org) == (
        "bz-engineering-committee", "bz-hrss", "bz-hrss",
    )  # fmt: skip
    # 七(二) 及时缴纳评审费用 names no finance office: the committee's own office records it.
    assert c.finance_orgs == [] and c.fee_offices() == ["bz-engineering-committee"]
    assert c.mandarin_required is False and c.result_confirmation_required is True


def test_004_values_match_the_2021_cyber_notice():
    """Notice 004 (自治区党委网信办 2021-09-18): 标题 工程系列网络安全和信息化专业; 三(二) 网上申报
    10月10日至11月15日, 纸质材料 to 11月25日; 附件2 一(三) 副高550/中级400/初级300, 具体缴费方式另行通知;
    四(二) 申报人提交材料次数不得超过3次, 逾期端口将关闭; 四(一) 90/60/30 学时 from 2021; 附件2 三(一)
    no language test; 四(四) no 答辩, 网信办干部处 collects; 附件2 三(二) 直接认定, 三(三) 援疆."""
    c = load("004")
    assert c.year == 2021 and c.levels == ["junior", "intermediate", "deputy_senior"]
    assert c.reviewed_series()["engineering"].specialties == ["cybersecurity_and_informatization"]
    assert c.declaration_opens_at == bj("2021-10-10 00:00")
    assert c.declaration_closes_at == bj("2021-11-16 00:00")
    assert c.materials_deadline == bj("2021-11-26 00:00") and c.fee_deadline is None
    assert c.fees == {"junior": 300, "intermediate": 400, "deputy_senior": 550}
    assert fee_due(c, "deputy_senior", "direct_recognition") == 550
    assert c.paper_materials_required is True and c.blind_review is False
    assert c.defense.required_levels == []
    assert defense_required(c, "deputy_senior", person())[0] is False
    # 四(一) 总学时每年累计不少于90学时（其中：公需科目不少于30学时、专业科目不少于60学时）, 2021.
    assert not ce_short(c, "junior", person(continuing_education=studied(2021, public=30,
                                                                         professional=60)))  # fmt: skip
    assert ce_short(c, "junior", person(continuing_education=studied(2021, public=20,
                                                                     professional=70)))  # fmt: skip
    assert c.mandarin_required is False  # 附件2 三(一) 外(汉)语…不作硬性要求
    assert (c.blacklist.applicant_years, c.blacklist.unit_years, c.blacklist.scope) == (
        5, 3, "series",
    )  # fmt: skip
    assert set(c.routes) == {"directed", "aid_xinjiang", "direct_recognition"}
    assert c.routes["aid_xinjiang"].authority_chain == []
    assert (c.committee_org, c.top_authority, c.confirming_org) == (
        "xj-cyber-committee", "xj-cac", "xj-hrss",
    )  # fmt: skip
    assert c.finance_orgs == [] and c.fee_offices() == ["xj-cyber-committee"]  # 另行通知
    assert c.result_confirmation_required is True


# --------------------------------------------------------------------------- pure chain

#: A unit's registered region (docs/rules.md §11) per place the tests use.
REGIONS = {
    "乌鲁木齐市": Region(code="650100", name="乌鲁木齐市"),
    "伊犁哈萨克自治州": Region(code="654000", name="伊犁哈萨克自治州"),
    "阿克苏市": Region(code="652901", name="阿克苏市"),
    "库尔勒市": Region(code="652801", name="库尔勒市"),
}


def authority(org: str) -> Actor:
    return Actor(id=f"reviewer-{org}", role="authority_reviewer", org=org)


def committee(c: Campaign) -> Actor:
    """A member of staff of the campaign's own committee (docs/rules.md §11)."""
    return Actor(id="committee-office", role="committee", org=c.committee_org or "")


def finance(c: Campaign) -> Actor:
    """A clerk of an office that records this campaign's fees."""
    return Actor(id="finance-clerk", role="finance", org=c.fee_offices()[0])


def confirmer(c: Campaign) -> Actor:
    """A reviewer of the body that confirms the result (审核确认, 40号令; docs/rules.md §2.10)."""
    return Actor(id="confirming-reviewer", role="authority_reviewer", org=c.confirming_org or "")


def chain_of(c: Campaign, route: Route) -> list[str]:
    """The authority chain the service gives a declaration of a unit registered directly below
    the campaign's top authority: the route's fixed chain where it names one."""
    fixed = c.routes[route].authority_chain
    return list(fixed) if fixed is not None else [c.top_authority or ""]


def declaration_for(
    c: Campaign,
    level: Level,
    *,
    route: Route = "directed",
    region: str = "乌鲁木齐市",
    **applicant: Any,
) -> DeclarationInput:
    """A declaration in the first series and specialty the campaign reviews at ``level``."""
    series, spec = next((name, s) for name, s in c.reviewed_series().items() if level in s.levels)
    masked = ["name", "photo", "unit"] if c.blind_review else []
    return f.declaration(
        c, level=level, route=route, series=series, specialty=spec.specialties[0],
        authority_chain=chain_of(c, route), region=REGIONS[region],
        applicant=f.applicant(**applicant), masked_items=masked,
    )  # fmt: skip


def vote(c: Campaign) -> VoteCommand:
    """A valid, passing vote of the registered 25 members (40号令: 2/3 present, 2/3 of those
    voting in favour); the service sends the registered size with it."""
    return VoteCommand(actor=committee(c), attending=20, in_favor=16, against=2, abstain=2,
                       members=MEMBERS)  # fmt: skip


def shifted(c: Campaign, at: datetime) -> Campaign:
    """``c`` with every instant moved by the same whole number of days, so that its declaration
    window opened the day before ``at`` (times of day and every other value kept)."""
    opens = c.declaration_opens_at.astimezone(f.BJ).date()
    delta = timedelta(days=(at.astimezone(f.BJ).date() - opens).days - 1)
    moved = {k: getattr(c, k) + delta for k in CAMPAIGN_INSTANTS if getattr(c, k) is not None}
    out = Campaign.model_validate({**c.model_dump(), **moved})
    instants = set(CAMPAIGN_INSTANTS)
    assert out.model_dump(exclude=instants) == c.model_dump(exclude=instants)
    assert out.declaration_opens_at <= at < out.declaration_closes_at
    return out


HEAD = ["draft", "unit_review", "unit_publicity", "unit_recommendation"]


def expected_stages(c: Campaign, *, paper: bool, defense: bool) -> list[str]:
    return [
        *HEAD,
        "authority_review",
        "committee_formal_review",
        "fee_pending",
        *(["materials_pending"] if paper else []),
        *(["defense_pending"] if defense else []),
        "committee_review",
        "result_publicity",
        *(["result_confirmation"] if c.result_confirmation_required else []),
        "certified",
    ]


def drive(c: Campaign, level: Level, at: datetime, **kw: Any) -> Driver:
    """The pure chain of one declaration to campaign ``c``, created at ``at`` (the driver builds
    its campaign from overrides: every field of ``c`` is one)."""
    d = Driver(at, decl=declaration_for(c, level, **kw), **c.model_dump())
    assert d.campaign == c
    return d


def decide(actor: Actor, stage: str, **kw: Any) -> DecisionCommand:
    return DecisionCommand(actor=actor, stage=stage, outcome="approve", **kw)


def certify(d: Driver, *, fee: int | None, venue: str | None, mode: str = "video") -> list[str]:
    """Drive ``d`` from draft to certified; return the stages it went through. ``venue``: None
    (no defense), ``onsite`` / ``remote`` (the venue the campaign fixes) or ``open`` (any mode,
    here ``mode``)."""
    c = d.campaign
    assert c.declaration_opens_at <= d.now < c.declaration_closes_at
    d.do(SubmitCommand(actor=f.APPLICANT))
    d.do(decide(f.UNIT, "unit_review", opinion="材料真实、完整、有效"))
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    d.do(decide(f.UNIT, "unit_recommendation", opinion="本单位已对申报材料逐一审核…同意推荐",
                          publicity_result_ref="公示结果证明-1"))  # fmt: skip
    for org in d.decl.authority_chain:
        d.do(decide(authority(org), "authority_review", opinion="同意推荐"))
    assert d.state == S.committee_formal_review
    d.do(decide(committee(c), "committee_formal_review", opinion="通过形式审核"))
    assert d.state == S.fee_pending and d.chain.s.fee_due == fee
    if fee is not None:
        wrong = d.refuse(PaymentCommand(actor=finance(c), amount=fee + 1, receipt_no="R-0"))
        assert f"应缴 {fee} 元" in wrong
    d.do(PaymentCommand(actor=finance(c), amount=fee or CHARGED, receipt_no="R-1"))
    if c.paper_materials_required:
        assert d.state == S.materials_pending and d.chain.s.form_id
        d.do(MaterialsReceivedCommand(actor=committee(c), form_id=d.chain.s.form_id))
    else:
        paper = MaterialsReceivedCommand(actor=committee(c), form_id="RF-1")
        assert "不需要报送纸质材料" in d.refuse(paper)
    if venue is None:
        assert d.state == S.committee_review
    else:
        assert d.state == S.defense_pending
        if venue != "open":
            assert d.chain.s.defense.venue == venue
            mode = "onsite" if venue == "onsite" else mode
        score = 86.0 if c.defense.scored else None
        d.do(DefenseCommand(actor=committee(c), passed=True, mode=mode, score=score))
    d.do(vote(c))
    assert d.state == S.result_publicity
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    if c.result_confirmation_required:
        assert d.state == S.result_confirmation
        d.do(decide(confirmer(c), "result_confirmation", opinion="审核确认"))
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
    """Notice 000: 副高级 答辩, 乌鲁木齐市单位参加现场答辩 (附件2 三(五)), the unit's registered
    region deciding; 无需提交职称评审表, so no materials_pending; fee 高级500 after 通过形式审核
    (附件2 一(五)); the result confirmed (40号令 审核确认) before certified."""
    c = load("000")
    d = drive(c, "deputy_senior", INSIDE["000"], region="乌鲁木齐市")
    stages = certify(d, fee=500, venue="onsite")
    assert stages == expected_stages(c, paper=False, defense=True)


def test_000_deputy_senior_elsewhere_always_defends_by_video_or_phone():
    """Notice 000: 全面实行专业水平答辩制度 for 副高级; 其它地（州、市）…采用视频或电话答辩
    (附件2 三(五)): nobody is drawn out of the defense; 驻村管寺 never defends."""
    c = load("000")
    d = drive(c, "deputy_senior", INSIDE["000"], region="伊犁哈萨克自治州")
    assert d.chain.s.defense.required is True and d.chain.s.defense.drawn is None
    stages = certify(d, fee=500, venue="remote")
    assert stages == expected_stages(c, paper=False, defense=True)
    exempt = drive(c, "deputy_senior", INSIDE["000"], categories=["village_work"])
    assert exempt.chain.s.defense.required is False
    assert exempt.chain.s.defense.exemption == "village_work"


@pytest.mark.parametrize(("level", "fee"), [("intermediate", 400), ("junior", 300)])
def test_000_intermediate_and_junior_do_not_defend(level, fee):
    """Notice 000: only 副高级 defends (附件2 三(五)); 中级 400, 初级 300 (附件2 一(五))."""
    c = load("000")
    d = drive(c, level, INSIDE["000"], region="伊犁哈萨克自治州")
    assert certify(d, fee=fee, venue=None) == expected_stages(c, paper=False, defense=False)


def test_001_deputy_senior_sends_paper_and_defends_in_the_mode_the_committee_chose():
    """Notice 001: 高级 defends (四(五)), which names no venue: the committee's on-site defense is
    recorded as held; 评审表 on paper after 已接收材料 (四(四)); fee 高级550 (四(六)); 盲评 masks
    name, photo and unit (四(一)3)."""
    c = load("001")
    d = drive(c, "deputy_senior", INSIDE["001"], region="阿克苏市")
    stages = certify(d, fee=550, venue="open", mode="onsite")
    assert stages == expected_stages(c, paper=True, defense=True)
    assert d.chain.s.declaration.masked_items == ["name", "photo", "unit"]
    assert d.chain.s.defense.mode == "onsite"


@pytest.mark.parametrize(("level", "fee"), [("intermediate", 400), ("junior", 200)])
def test_001_intermediate_and_below_are_exempt_from_defense(level, fee):
    """Notice 001: 申报中级及以下职称评审的，免于答辩 (四(五)); 中级400, 初级200 (四(六))."""
    c = load("001")
    d = drive(c, level, INSIDE["001"], region="阿克苏市")
    assert certify(d, fee=fee, venue=None) == expected_stages(c, paper=True, defense=False)


def test_001_private_enterprise_route_goes_through_the_public_employment_service():
    """Notice 001 二(二), 三(二): 民营企业专项评审…经同级公共就业服务机构审核、推荐，由评审委员会评审: the
    route's own chain, one level, instead of the unit's 主管部门; same fee (四(六))."""
    c = load("001")
    d = drive(c, "intermediate", INSIDE["001"], route="private_enterprise", region="阿克苏市",
              employer_kind="private_enterprise")  # fmt: skip
    assert d.chain.s.declaration.authority_chain == ["aks-employment-service"]
    assert certify(d, fee=400, venue=None) == expected_stages(c, paper=True, defense=False)


@pytest.mark.parametrize("region", ["乌鲁木齐市", "伊犁哈萨克自治州"])
def test_002_every_senior_applicant_defends_wherever_the_committee_holds_it(region):
    """Notice 002: 申报正高级专业技术人员全部参加答辩 (六(一)), whatever their categories, never
    drawn out, at no fixed venue (六(二) concerns 副高级); 无需提交职称评审表 (五(六)); no fee in the
    notice: finance records what the office charged."""
    c = load("002")
    d = drive(c, "senior", INSIDE["002"], region=region, categories=["village_work"])
    stages = certify(d, fee=None, venue="open", mode="onsite")
    assert stages == expected_stages(c, paper=False, defense=True)
    assert d.chain.s.defense.drawn is None


def test_002_deputy_senior_of_urumqi_defends_on_site():
    """Notice 002 六(二): 申报副高级…乌鲁木齐市、昌吉州直单位及吐鲁番市直单位参加现场答辩."""
    c = load("002")
    d = drive(c, "deputy_senior", INSIDE["002"], region="乌鲁木齐市")
    stages = certify(d, fee=None, venue="onsite")
    assert stages == expected_stages(c, paper=False, defense=True)


@pytest.mark.parametrize("drawn", [True, False])
def test_002_deputy_senior_elsewhere_defends_remotely_only_when_drawn(drawn):
    """Notice 002 六(二): 其它地（州、市）随机抽取，采用视频或电话答辩; the draw is reproducible from the
    campaign and declaration ids (docs/rules.md §5)."""
    c = load("002")
    rate = c.defense.remote_sample_rate
    assert rate is not None
    for _ in range(200):  # declaration ids are random: take the first one the draw treats so
        d = drive(c, "deputy_senior", INSIDE["002"], region="伊犁哈萨克自治州")
        if remote_sample_drawn(c.id, d.chain.s.declaration_id, rate) is drawn:
            break
    else:
        pytest.fail(f"no declaration {'drawn' if drawn else 'left out'} in 200 tries")
    stages = certify(d, fee=None, venue="remote" if drawn else None)
    assert stages == expected_stages(c, paper=False, defense=drawn)
    assert d.chain.s.defense.drawn is drawn


def test_003_intermediate_defends_where_the_committee_holds_it_and_sends_paper():
    """Notice 003: 中级 defends (六(二) only 初级 exempt), no venue rule (六); 评审表 with
    watermark on paper (七(二)); fee 中级380 (八(一))."""
    c = load("003")
    d = drive(c, "intermediate", INSIDE["003"], region="库尔勒市")
    stages = certify(d, fee=380, venue="open", mode="onsite")
    assert stages == expected_stages(c, paper=True, defense=True)


@pytest.mark.parametrize(
    ("level", "fee", "applicant"),
    [
        ("junior", 220, {}),
        ("intermediate", 380, {"employer_kind": "freelance"}),
        ("intermediate", 380, {"employer_kind": "private_enterprise"}),
        ("intermediate", 380, {"categories": ["qiemo_county"]}),
        ("intermediate", 380, {"categories": ["county_grassroots"]}),
    ],
)
def test_003_junior_private_enterprise_and_listed_categories_do_not_defend(level, fee, applicant):
    """Notice 003: 初级 免于答辩 (六(二)); 民营企业和自由职业 免于答辩 (六(三)); 且末县、县级以下基层单位
    免于答辩 (六(一)); fees 初级220, 中级380 (八(一)); paper still required (七(二))."""
    c = load("003")
    d = drive(c, level, INSIDE["003"], region="库尔勒市", **applicant)
    assert certify(d, fee=fee, venue=None) == expected_stages(c, paper=True, defense=False)


@pytest.mark.parametrize(("level", "fee"), [("deputy_senior", 550), ("junior", 300)])
def test_004_declarations_send_paper_and_nobody_defends(level, fee):
    """Notice 004: 须报送原件 评审表 after 通过形式审核 (附件2 一(二)); fees 副高550, 初级300 (附件2
    一(三)); 四(四) 由评审委员会对申报人员业绩成果进行评价: no 答辩."""
    c = load("004")
    d = drive(c, level, INSIDE["004"])
    assert certify(d, fee=fee, venue=None) == expected_stages(c, paper=True, defense=False)


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


@pytest.mark.parametrize("notice", ["000", "002", "003", "004"])
def test_a_unit_return_waits_past_a_few_days_where_the_notice_sets_no_correction_window(notice):
    """docs/rules.md §3: without a correction window in the notice, a returned declaration stays
    correctable well past 001's two days (000: returned on 08-12, still correctable on 08-22; its
    三(二) 申报时间 runs to 9月30日)."""
    c = load(notice)
    d = drive(c, "intermediate" if "intermediate" in c.levels else "senior", INSIDE[notice])
    d.do(SubmitCommand(actor=f.APPLICANT))
    d.do(DecisionCommand(actor=f.UNIT, stage="unit_review", outcome="return",
                         reasons=["missing_material"]))  # fmt: skip
    d.advance(timedelta(days=10))
    assert d.state == S.returned
    d.do(SubmitCommand(actor=f.APPLICANT))
    assert d.state == S.unit_review


# --------------------------------------------------------------------------- Temporal


async def certify_on_temporal(
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    notice: str,
    level: Level,
    *,
    fee: int | None,
    venue: str | None,
    mode: str = "video",
    **kw: Any,
) -> DeclarationView:
    """One declaration to notice ``notice``'s campaign on the real workflow, from draft to the
    committee's acceptance, the fee, the paper (where required), the defense (where required), the
    vote, the result publicity and its confirmation, to ``certified``. The campaign's instants are
    shifted (same shift for all) so that its declaration window is open at the test server's
    clock."""
    at = await now(env)
    c = shifted(load(notice), at)
    decl = declaration_for(c, level, **kw)
    d = await create(client, worker.task_queue, at, campaign=c, decl=decl)
    await d.submit()
    view = await d.decide(f.UNIT, "unit_review", "approve", opinion="材料真实、完整、有效")
    assert view.state == "unit_publicity"
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    await wait_state(client, d.id, "unit_recommendation")
    view = await d.decide(f.UNIT, "unit_recommendation", "approve", opinion="同意推荐",
                          publicity_result_ref="公示结果证明-1")  # fmt: skip
    for org in decl.authority_chain:
        view = await d.decide(authority(org), "authority_review", "approve")
    assert view.state == "committee_formal_review" and view.committee_submissions == 1
    view = await d.decide(committee(c), "committee_formal_review", "approve",
                          opinion="通过形式审核")  # fmt: skip
    assert view.state == "fee_pending"
    assert view.fee.due == fee and view.materials.required is c.paper_materials_required
    if fee is not None:
        with pytest.raises(DecisionRefused, match=f"应缴 {fee} 元"):
            await d.send("record_payment", PaymentCommand(actor=finance(c), amount=fee - 1,
                                                          receipt_no="R-0"))  # fmt: skip
    view = await d.send("record_payment", PaymentCommand(actor=finance(c), amount=fee or CHARGED,
                                                         receipt_no="R-1"))  # fmt: skip
    assert view.fee.paid and view.fee.receipt_no == "R-1"
    if c.paper_materials_required:
        assert view.state == "materials_pending" and view.materials.form_id
        view = await d.send("record_materials_received",
                            MaterialsReceivedCommand(actor=committee(c),
                                                     form_id=view.materials.form_id))  # fmt: skip
        assert view.materials.received
    if venue is None:
        assert view.state == "committee_review" and view.defense.required is False
    else:
        assert view.state == "defense_pending"
        if venue != "open":
            assert view.defense.venue == venue
            mode = "onsite" if venue == "onsite" else mode
        score = 86.0 if c.defense.scored else None
        view = await d.send("record_defense", DefenseCommand(
            actor=committee(c), passed=True, mode=mode, score=score))  # fmt: skip
    view = await d.send("record_vote", vote(c))
    assert view.state == "result_publicity"
    await skip_to(env, after(view.deadlines.publicity_ends, minutes=1))
    if c.result_confirmation_required:
        await wait_state(client, d.id, "result_confirmation")
        await d.decide(confirmer(c), "result_confirmation", "approve", opinion="审核确认")
    view = await wait_state(client, d.id, "certified")
    assert view.result is not None and view.result.certificate_no
    return view


@pytest.mark.usefixtures("worker")
async def test_000_on_temporal_urumqi_deputy_senior_pays_500_sends_no_paper_defends_on_site(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 000 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): fee 高级500 after 通过形式审核 (附件2 一(五)), 无需提交职称评审表, 副高 of a
    乌鲁木齐市 unit defends on site (附件2 三(五)), vote, result publicity and 审核确认 to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "000", "deputy_senior",
                                     fee=500, venue="onsite", region="乌鲁木齐市")  # fmt: skip
    assert view.materials.required is False


@pytest.mark.usefixtures("worker")
async def test_001_on_temporal_deputy_senior_pays_550_sends_paper_defends_as_held(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 001 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): 已接收材料 → fee 高级550 (四(六)) and the watermarked 评审表 on paper (四(四)),
    高级 defends in the mode the committee used (四(五) names no venue), to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "001", "deputy_senior",
                                     fee=550, venue="open", mode="onsite",
                                     region="阿克苏市")  # fmt: skip
    assert view.materials.received and view.masked_items == ["name", "photo", "unit"]


@pytest.mark.usefixtures("worker")
async def test_002_on_temporal_senior_defends_without_paper_and_pays_what_the_office_charged(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 002 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): 主管单位 recommends (五(三)), no 评审表 (五(六)), no fee in the notice (the
    office's amount is recorded), 正高级 全部参加答辩 (六(一)), to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "002", "senior", fee=None,
                                     venue="open", region="伊犁哈萨克自治州")  # fmt: skip
    assert view.materials.required is False and view.defense.required is True


@pytest.mark.usefixtures("worker")
async def test_003_on_temporal_intermediate_pays_380_sends_paper_and_defends(
    time_skipping: WorkflowEnvironment, client: Client, worker: Worker
) -> None:
    """Notice 003 on the real workflow (dates shifted to the test server's clock, every other value
    as in the file): 通过形式审核 → 评审表 with watermark and fee 中级380 (七(二), 八(一)), 中级
    defends (六(二)), to certified."""
    view = await certify_on_temporal(time_skipping, client, worker, "003", "intermediate",
                                     fee=380, venue="open", mode="onsite",
                                     region="库尔勒市")  # fmt: skip
    assert view.defense.mode == "onsite"


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
