"""Every route a notice opens (docs/rules.md §12), on the pure chain, each to ``certified``:
援疆 (002 五(五), 003 五(四), 004 三(三)), 委托评审 (002 五(四)), 直接认定 (004 附件2 三(二)), 初次确定 /
授予 (003 一, 八) and 民营企业专项 (001 二(二))."""

from __future__ import annotations

import hashlib

from domain.eligibility import eligibility_flags
from domain.models import (
    Actor,
    Appraisal,
    Attachment,
    DefenseCommand,
    MaterialsReceivedCommand,
    PaymentCommand,
    RoutePolicy,
    ServiceYear,
    SubmitCommand,
)
from domain.routes import excellent_service_run, service_years_problem
from domain.states import StateName as S
from testing import factories as f
from tests.chain.driver import Driver
from tests.chain.test_paths import NOW, decide, submit, through_unit, vote
from tests.domain.notices import applicant, campaign_004

CONFIRMER = Actor(id="hr-confirmer", role="authority_reviewer", org="xj-hr")
LETTER = Attachment(ref="scan://entrustment.pdf", sha256=hashlib.sha256(b"letter").hexdigest())


def driver(route: str, *, chain: list[str] | None = None, **declaration: object) -> Driver:
    routes = {"directed": RoutePolicy(), route: RoutePolicy(fees={"intermediate": 380})}
    probe = Driver(NOW, routes=routes, confirming_org="xj-hr")
    decl = f.declaration(
        probe.campaign,
        "intermediate",
        route=route,
        authority_chain=chain if chain is not None else [],
        **declaration,
    )
    return Driver(NOW, decl=decl, routes=routes, confirming_org="xj-hr")


def states(d: Driver) -> list[str | None]:
    return [e.stage_after for e in d.audit if e.stage_after != e.stage_before]


def after_acceptance(d: Driver, *, defends: bool = False, votes: bool = False) -> None:
    d.do(decide(f.COMMITTEE, "committee_formal_review", "approve"))
    d.do(PaymentCommand(actor=f.FINANCE, amount=380, receipt_no="R-1"))
    d.do(MaterialsReceivedCommand(actor=f.COMMITTEE, form_id="RF-1"))
    if defends:
        d.do(DefenseCommand(actor=f.COMMITTEE, passed=True, mode="video"))
    if votes:
        d.do(vote())
    d.advance_to(d.chain.s.computed["publicity_ends"].at)
    assert d.state == S.certified


def test_aid_xinjiang_the_sending_units_approval_is_the_recommendation_002_003_004():
    """§12 援疆 (004 三(三) 经派出单位（原所在单位）审核同意，即可申报): no unit publicity, no
    authority level; then the committee as usual; the route's own fee (380)."""
    d = driver("aid_xinjiang", unit_id="SEND-001")
    submit(d)
    d.do(decide(Actor(id="s1", role="unit_reviewer", org="SEND-001"), "unit_review", "approve"))
    assert d.state == S.committee_formal_review
    assert d.chain.s.fee_due == 380
    after_acceptance(d, votes=True)  # intermediate: no defense in this campaign
    assert "unit_publicity" not in states(d) and "authority_review" not in states(d)


def test_entrusted_needs_its_letter_and_the_confirming_bodys_approval_first_002():
    """§12 委托评审 (002 五(四) 开具委托评审函，经自治区专业技术人员职称办公室审核同意后，即可申报): the first
    submission without the letter is refused; with it, the confirming body reviews the letter,
    then the unit's review and the usual chain."""
    d = driver("entrusted")
    assert "委托评审函" in d.refuse(SubmitCommand(actor=f.APPLICANT))
    d.do(SubmitCommand(actor=f.APPLICANT, entrustment=LETTER))
    assert d.state == S.entrustment_review
    view = d.chain.view()
    assert view.pending is not None and view.pending.org == "xj-hr"
    assert "xj-hr" in d.refuse(decide(f.UNIT, "entrustment_review", "approve"))
    d.do(decide(CONFIRMER, "entrustment_review", "approve", opinion="同意委托"))
    assert d.state == S.unit_review
    through_unit(d)
    assert d.state == S.committee_formal_review


def test_an_entrustment_refused_ends_not_accepted():
    d = driver("entrusted", entrustment=LETTER)
    submit(d)
    d.do(decide(CONFIRMER, "entrustment_review", "reject", opinion="委托评审函不符合要求"))
    assert d.state == S.not_accepted


def test_direct_recognition_skips_defense_and_vote_004():
    """§12 直接认定 (004 附件2 三(二) 可直接认定高一级职称): the unit, its publicity, the authority
    chain, formal review; no defense and no vote; result publicity and the certificate."""
    years = [ServiceYear(year=y, place="某县乡镇") for y in (2021, 2022, 2023)]
    d = driver("direct_recognition", chain=["county-hr"], service_years=years)
    assert d.chain.s.defense.required is False
    submit(d)
    through_unit(d)
    d.do(decide(f.COUNTY, "authority_review", "approve"))
    after_acceptance(d)
    assert "defense_pending" not in states(d) and "committee_review" not in states(d)
    assert "unit_publicity" in states(d)


def test_three_consecutive_years_are_needed_for_direct_recognition_004():
    """§12, 004 附件2 三(二) 连续参加上述基层服务工作三年."""

    def years(*ys: int) -> list[ServiceYear]:
        return [ServiceYear(year=y, place="x") for y in ys]

    assert service_years_problem(years(2021, 2022, 2023)) is None
    assert service_years_problem(years(2019, 2021, 2022, 2023)) is None
    assert service_years_problem(years(2021, 2023, 2024)) is not None
    assert service_years_problem(years(2022, 2023)) is not None


def test_three_consecutive_excellent_service_years_for_direct_recognition_004():
    """§6, §12, 004 附件2 三(二) 连续参加上述基层服务工作三年且连续三年考核优秀: the longest run of
    consecutive service years each appraised 优秀; a shorter one flags the declaration
    (``service_not_excellent``) for the committee's formal review, and only on this route."""

    def years(*ys: int) -> list[ServiceYear]:
        return [ServiceYear(year=y, place="x") for y in ys]

    def appraised(results: dict[int, str]) -> list[Appraisal]:
        return [Appraisal.model_validate({"year": y, "result": r}) for y, r in results.items()]

    excellent = appraised({2021: "优秀", 2022: "优秀", 2023: "优秀"})
    mixed = appraised({2020: "优秀", 2021: "优秀", 2022: "基本合格", 2023: "优秀"})
    assert excellent_service_run(years(2021, 2022, 2023), excellent) == 3
    assert excellent_service_run(years(2021, 2022, 2023), mixed) == 1
    assert excellent_service_run(years(2020, 2021, 2022, 2023), mixed) == 2
    gap = appraised({2021: "优秀", 2023: "优秀", 2024: "优秀"})
    assert excellent_service_run(years(2021, 2023, 2024), gap) == 2  # a gap breaks the run
    assert excellent_service_run(years(2022, 2023), excellent) == 2  # 2021 not served
    assert excellent_service_run([], excellent) == 0

    c = campaign_004()
    served = years(2018, 2019, 2020)
    good = applicant(appraisals=[{"year": y, "result": "优秀"} for y in (2018, 2019, 2020)])
    fair = applicant(appraisals=[{"year": y, "result": "合格"} for y in (2018, 2019, 2020)])
    flags = eligibility_flags
    assert "service_not_excellent" not in flags(
        c, "intermediate", "direct_recognition", good, served
    )
    assert "service_not_excellent" in flags(c, "intermediate", "direct_recognition", fair, served)
    assert "service_not_excellent" not in flags(c, "intermediate", "directed", fair, served)


def test_initial_determination_is_unit_committee_fee_publicity_003():
    """§12 初次确定 / 授予 (003 一, 八; 初次确定 intermediate 380): unit review, formal review, the
    fee, result publicity, the certificate; no unit publicity, authority level, defense or
    vote."""
    d = driver("initial_determination")
    submit(d)
    d.do(decide(f.UNIT, "unit_review", "approve"))
    assert d.state == S.committee_formal_review
    after_acceptance(d)
    assert states(d) == [
        "draft",
        "unit_review",
        "committee_formal_review",
        "fee_pending",
        "materials_pending",
        "result_publicity",
        "certified",
    ]


def test_private_enterprise_goes_through_its_fixed_chain_001():
    """§12 民营企业专项 (001 二(二) 同级公共就业服务机构): the route's chain, here one body."""
    employment = Actor(id="pes-1", role="authority_reviewer", org="aks-employment-service")
    d = driver("private_enterprise", chain=["aks-employment-service"])
    submit(d)
    through_unit(d)
    assert d.state == S.authority_review
    assert "aks-employment-service" in d.refuse(decide(f.COUNTY, "authority_review", "approve"))
    d.do(decide(employment, "authority_review", "approve"))
    assert d.state == S.committee_formal_review
