"""Campaigns in the shape of notices 000-004 (shared/seeds), for the pure-rule tests.

Values a notice gives are cited; values it does not give are marked "example value".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from domain.models import Applicant, Campaign, Region

CST = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    """An instant written in Beijing time, e.g. ``at("2024-09-27 10:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=CST)


def campaign_000(**changes: Any) -> Campaign:
    """000: 2020 自治区公路（运输）、交通经济 — fees 300/400/500, 副高 all defend (全面实行), units
    registered in 乌鲁木齐市/昌吉州 on site, the others by video or phone, 驻村管寺/支教 exempt."""
    data: dict[str, Any] = {
        "id": "xj-2020-highway",
        "name": "2020 年度自治区公路（运输）、交通经济专业职称评审",
        "year": 2020,
        "series": "engineering",
        "levels": ["junior", "intermediate", "deputy_senior"],
        "declaration_opens_at": at("2020-08-10 00:00"),
        "declaration_closes_at": at("2020-10-01 00:00"),  # 8月10日至9月30日
        "fees": {"junior": 300, "intermediate": 400, "deputy_senior": 500},
        "defense": {
            "required_levels": ["deputy_senior"],
            "exempt_categories": ["village_work", "teaching_support"],
            "venue": "by_region",
            "onsite_regions": ["乌鲁木齐市", "昌吉州"],
            "remote_selection": "all",  # 全面实行专业水平答辩制度
        },
    }
    data.update(changes)
    return Campaign.model_validate(data)


def campaign_001(**changes: Any) -> Campaign:
    """001: 2024 阿克苏地区 — fees 200/400/550, 高级 defend (no venue named), 2-day correction
    window, 3 submissions, review window to 9月10日, Mandarin required."""
    data: dict[str, Any] = {
        "id": "aks-2024-transport",
        "name": "阿克苏地区 2024 年度工程系列公路、运输及经济系列交通经济专业职称评审",
        "year": 2024,
        "series": "engineering",
        "levels": ["junior", "intermediate", "deputy_senior"],
        "declaration_opens_at": at("2024-07-22 00:00"),
        "declaration_closes_at": at("2024-08-30 18:00"),
        "review_closes_at": at("2024-09-11 00:00"),
        "fees": {"junior": 200, "intermediate": 400, "deputy_senior": 550},
        "correction_window_days": 2,  # 四(一)1 应于退回后2日内…提交
        "max_committee_submissions": 3,  # 四(一)1 提交评审委员会审核次数不超过3次
        "deadline_applies_to": "committee_arrival",  # 一(一) 未…提交…视为放弃
        "defense": {"required_levels": ["deputy_senior", "senior"], "remote_selection": "all"},
        # 四(一)6 每年须完成不少于90学时（专业课不少于60学时）, 近4年（2021-2024年）; 民营企业…初次
        "continuing_education": [
            {
                "years": [2021, 2022, 2023, 2024],
                "min_total": 90,
                "min_professional": 60,
                "exempt_first_time_private": True,
            },
        ],
        "mandarin_required": True,  # 四(一)7
        "seniority_cutoff": date(2024, 12, 31),
    }
    data.update(changes)
    return Campaign.model_validate(data)


def campaign_002(**changes: Any) -> Campaign:
    """002: 2020 正高级工程师等5个系列 — 正高 all defend (venue not named), 副高: units of
    乌鲁木齐市、昌吉州直、吐鲁番市直 on site, others drawn at random (a sampled 答辩范围)."""
    data: dict[str, Any] = {
        "id": "xj-2020-senior",
        "name": "2020 年自治区正高级工程师、正高级经济师等5个系列（专业）职称评审",
        "year": 2020,
        "series": "engineering",
        "levels": ["deputy_senior", "senior"],
        "declaration_opens_at": at("2020-08-02 00:00"),
        "declaration_closes_at": at("2020-09-03 00:00"),
        "fees": {"deputy_senior": 500, "senior": 800},  # example values: 002 gives no amounts
        "defense": {
            "required_levels": ["deputy_senior", "senior"],
            # example value, to show that 正高 defends whatever its categories
            "exempt_categories": ["village_work"],
            "no_exemption_levels": ["senior"],
            "venue": "by_region",
            "onsite_regions": ["乌鲁木齐市", "昌吉州直", "吐鲁番市直"],
            "venue_levels": ["deputy_senior"],
            "remote_selection": "sample",
            "remote_sample_rate": 0.3,  # example value
        },
    }
    data.update(changes)
    return Campaign.model_validate(data)


def campaign_003(**changes: Any) -> Campaign:
    """003: 2021 巴州 — fees 220/380, 中级 and up defend, 初级 exempt, private enterprise and
    freelance exempt, 且末县/若羌县 and county grassroots exempt."""
    data: dict[str, Any] = {
        "id": "bz-2021-engineering",
        "name": "巴州 2021 年度工程系列职称评审",
        "year": 2021,
        "series": "engineering",
        "levels": ["junior", "intermediate"],
        "declaration_opens_at": at("2021-08-25 00:00"),
        "declaration_closes_at": at("2021-09-19 00:00"),  # 8月25日—9月18日
        "fees": {"junior": 220, "intermediate": 380},
        "defense": {
            "required_levels": ["intermediate", "deputy_senior", "senior"],
            "exempt_categories": [
                "private_enterprise",
                "village_work",
                "teaching_support",
                "interior_service",
                "first_secretary",
                "county_grassroots",
                "且末县",
                "若羌县",
            ],
            "remote_selection": "all",
            "scored": True,
        },
        "continuing_education": [
            {
                "years": [2021],
                "levels": ["junior"],
                "min_total": 90,
                "min_professional": 60,
                "min_public": 30,
            },
            {
                "years": [2018, 2019, 2020, 2021],
                "levels": ["intermediate"],
                "min_total": 90,
                "min_professional": 60,
                "min_public": 30,
            },
        ],
    }
    data.update(changes)
    return Campaign.model_validate(data)


def campaign_004(**changes: Any) -> Campaign:
    """004: 2021 网络安全和信息化 — fees 300/400/550, the cap counts applicant submissions."""
    data: dict[str, Any] = {
        "id": "xj-2021-cyber",
        "name": "2021 年度自治区工程系列网络安全和信息化专业职称评审",
        "year": 2021,
        "series": "engineering",
        "levels": ["junior", "intermediate", "deputy_senior"],
        "declaration_opens_at": at("2021-10-10 00:00"),
        "declaration_closes_at": at("2021-11-16 00:00"),  # 10月10日至11月15日
        "fees": {"junior": 300, "intermediate": 400, "deputy_senior": 550},
        "submission_cap_scope": "applicant",
        "deadline_applies_to": "applicant_submit",
        # 自2021年起 每年 ≥ 90 学时, 专业课 ≥ 60, 公需课 ≥ 30
        "continuing_education": [
            {"years": [2021], "min_total": 90, "min_professional": 60, "min_public": 30},
        ],
    }
    data.update(changes)
    return Campaign.model_validate(data)


def region(name: str) -> Region:
    """A registered region by its name (codes are example values)."""
    codes = {"乌鲁木齐市": "650100", "昌吉州": "652300", "阿克苏地区": "652900",
             "喀什地区": "653100", "昌吉州直": "652300", "吐鲁番市直": "650400"}  # fmt: skip
    return Region(code=codes.get(name, "659000"), name=name)


def applicant(**changes: Any) -> Applicant:
    data: dict[str, Any] = {
        "name": "张三",
        "id_number": "650100199001011234",
        "affiliation": "阿克苏地区",
        "employer_kind": "public_institution",
        "mandarin_level": "二级乙等",
    }
    data.update(changes)
    return Applicant.model_validate(data)
