"""docs/rules.md §11 and §2.4: the organisation registry's own rules (a consistent registry; a
declaration's chain derived from its unit's registered authorities; its region the unit's), the
GB 11643 check of the ID number (§2.1), and registry files read with the place of each row."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.identity import check_digit, id_number_problem, normalise_id_number
from domain.models import Organisation
from domain.organisation_files import (
    CSV_COLUMNS,
    load_registry_file,
    parse_registry,
    registry_row_problems,
)
from domain.organisations import (
    ChainProblem,
    ancestors,
    campaign_scope_refusal,
    derive_chain,
    region_of,
    registry_problems,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "organisations"


def org(
    org_id: str, kind: str = "authority", parent: str | None = None, **more: object
) -> Organisation:
    data: dict[str, object] = {"id": org_id, "kind": kind, "name": org_id, "parent_id": parent}
    if kind == "committee":
        data["members"] = 25
    return Organisation.model_validate({**data, **more})


def by_id(*orgs: Organisation) -> dict[str, Organisation]:
    return {o.id: o for o in orgs}


# 001 四(九) 用人单位及各县（市）人社部门; 三(一) 逐级申报: unit → county HR → prefecture bureau.
AKSU = by_id(
    org("aks-transport-bureau"),
    org("aks-akesu-hr", parent="aks-transport-bureau"),
    org(
        "aks-akesu-highway-station",
        "unit",
        "aks-akesu-hr",
        region={"code": "652901", "name": "阿克苏市"},
    ),
)


# --------------------------------------------------------------------------- a consistent registry


def test_a_consistent_registry_has_no_problem_11() -> None:
    """§11: parents exist and are authorities, ids once, no circle: nothing to say."""
    assert registry_problems(AKSU.values()) == []


def test_a_parent_must_be_registered_11() -> None:
    """§11 (000 附件2 一(三) 提交上级主管单位): the authority above must be a registered one; in
    an import it may be registered by an earlier row or already."""
    problems = registry_problems([org("U-1", "unit", "county-hr")])
    assert [(p.org_id, p.index, p.field) for p in problems] == [("U-1", 0, "parent_id")]
    assert "not registered" in problems[0].message
    assert registry_problems([org("U-1", "unit", "county-hr")], by_id(org("county-hr"))) == []
    later = [org("U-1", "unit", "county-hr"), org("county-hr")]  # the parent comes after
    assert registry_problems(later) == []


def test_a_parent_must_be_an_authority_11() -> None:
    """§11: only an authority (主管部门) is above another body; a unit under a unit, or under a
    committee, is refused naming the parent's kind."""
    for kind in ("unit", "committee", "finance_office", "sending_unit"):
        problems = registry_problems([org("P", kind), org("U-1", "unit", "P")])
        assert [(p.org_id, p.field) for p in problems] == [("U-1", "parent_id")], kind
        assert kind in problems[0].message


def test_an_id_given_twice_in_one_import_is_refused_at_its_second_row_11() -> None:
    problems = registry_problems([org("A"), org("B"), org("A")])
    assert [(p.org_id, p.index, p.field) for p in problems] == [("A", 2, "id")]
    assert "第 1 项" in problems[0].message


def test_parents_running_in_a_circle_are_refused_11() -> None:
    """§11 no cycles: A under B under A, also through what is registered already."""
    problems = registry_problems([org("A", parent="B"), org("B", parent="A")])
    assert {(p.org_id, p.field) for p in problems} == {("A", "parent_id"), ("B", "parent_id")}
    assert all("circle" in p.message for p in problems)
    existing = by_id(org("A", parent="B"), org("C"))
    (problem,) = registry_problems([org("B", parent="A")], existing)
    assert problem.org_id == "B" and "circle" in problem.message


def test_an_organisation_cannot_be_its_own_parent_11() -> None:
    with pytest.raises(ValidationError, match="own parent"):
        org("A", parent="A")


def test_a_committee_has_its_members_and_nothing_else_has_11() -> None:
    """§2.8, §11: the quorum is measured against the committee's registered members."""
    with pytest.raises(ValidationError, match="members"):
        Organisation(id="C", kind="committee", name="评审委员会")
    with pytest.raises(ValidationError, match="only a committee"):
        Organisation(id="U", kind="unit", name="单位", members=3)
    assert org("C", "committee").members == 25


# --------------------------------------------------------------------------- the derived chain


def test_the_chain_is_the_units_authorities_nearest_first_up_to_the_top_000_002_003() -> None:
    """§2.4 (000 附件2 一(三) 逐级提交; 002, 003 五(三) 主管单位…推荐): nearest first, up to and
    including the campaign's top authority, and no further."""
    unit = AKSU["aks-akesu-highway-station"]
    assert derive_chain(unit, AKSU, "aks-transport-bureau") == [
        "aks-akesu-hr",
        "aks-transport-bureau",
    ]
    assert derive_chain(unit, AKSU, "aks-akesu-hr") == ["aks-akesu-hr"]
    above = {**AKSU, "xj-hrss": org("xj-hrss")}
    above["aks-transport-bureau"] = org("aks-transport-bureau", parent="xj-hrss")
    assert derive_chain(unit, above, "aks-transport-bureau") == [
        "aks-akesu-hr",
        "aks-transport-bureau",
    ]


def test_a_unit_whose_authorities_do_not_reach_the_top_has_no_chain_2_4() -> None:
    """§2.4: a unit under another campaign's bodies, or with none above it, cannot file here."""
    unit = AKSU["aks-akesu-highway-station"]
    with pytest.raises(ChainProblem, match="do not reach"):
        derive_chain(unit, AKSU, "xj-transport-dept")
    orphan = org("U-9", "unit")
    with pytest.raises(ChainProblem, match="（无）"):
        derive_chain(orphan, {"U-9": orphan}, "aks-transport-bureau")


def test_ancestors_stop_at_a_missing_parent_or_a_circle_11() -> None:
    unit = org("U", "unit", "A")
    assert ancestors(unit, by_id(unit)) == []
    circle = by_id(unit, org("A", parent="B"), org("B", parent="A"))
    assert [o.id for o in ancestors(unit, circle)] == ["A", "B"]


def test_the_region_is_the_units_registered_region_5_11() -> None:
    """§5 (000 附件2 三(五) 乌鲁木齐市、昌吉州单位参加现场答辩): the venue reads the unit's region."""
    region = region_of(AKSU["aks-akesu-highway-station"])
    assert region is not None and (region.code, region.name) == ("652901", "阿克苏市")
    assert region_of(org("U", "unit")) is None


# --------------------------------------------------------------------------- the ID number


def test_id_numbers_are_normalised_and_checked_gb_11643_2_1() -> None:
    """§2.1: trimmed, upper-case X, 18 characters with a valid GB 11643 check digit."""
    first17 = "11010519491231002"
    assert check_digit(first17) == "X"  # the standard's own example
    assert id_number_problem(f" {first17}x ") is None
    assert normalise_id_number(f" {first17}x ") == f"{first17}X"
    assert "check digit" in (id_number_problem(f"{first17}1") or "")
    assert "18" in (id_number_problem("1101051949") or "")
    assert "17 digits" in (id_number_problem("1101051949123100AX") or "")


# --------------------------------------------------------------------------- registry files


def test_csv_rows_are_read_with_their_lines_and_each_bad_row_named_11() -> None:
    """A CSV import names each bad row by its line (the header is line 1; a quoted cell may span
    lines), its id and its field; the good rows are read."""
    text = (
        "\ufeffid,kind,name,region_code,region_name,parent_id,members,email\n"
        "aks-transport-bureau,authority,阿克苏地区交通运输局,652900,阿克苏地区,,,\n"
        'aks-committee,committee,"阿克苏地区交通运输局\n评审委员会",652900,阿克苏地区,,25,\n'
        "U-1,unit,单位,,,aks-transport-bureau,3,\n"
        "U-2,shop,商店,,,,,\n"
        "\n"
        "U-3,unit,单位三,6529,,aks-transport-bureau,,not-an-address\n"
    )
    parsed = parse_registry(text, "csv")
    assert [o.id for o in parsed.organisations] == ["aks-transport-bureau", "aks-committee"]
    assert parsed.lines == [2, 3]
    where = {(p.line, p.org_id, p.field) for p in parsed.problems}
    assert (5, "U-1", "(row)") in where  # members for a unit
    assert (6, "U-2", "kind") in where
    assert (8, "U-3", "region.name") in where and (8, "U-3", "email") in where
    assert str(parsed.problems[0]).startswith("第 5 行 / line 5 U-1")


def test_a_csv_header_must_name_the_known_columns_11() -> None:
    with pytest.raises(ValueError, match="header"):
        parse_registry("id,kind,label\nA,unit,x\n", "csv")
    with pytest.raises(ValueError, match="header"):
        parse_registry("id,name\nA,x\n", "csv")
    assert CSV_COLUMNS[:3] == ("id", "kind", "name")


def test_yaml_rows_carry_the_line_of_their_list_item_and_json_its_index_11() -> None:
    text = (
        "# a registry\n"
        "organisations:\n"
        "  - {id: A, kind: authority, name: 甲}\n"
        "  - id: U-1\n"
        "    kind: unit\n"
        "    name: 单位\n"
        "    parent_id: B\n"
    )
    parsed = parse_registry(text, "yaml")
    assert parsed.lines == [3, 4]
    (problem,) = registry_row_problems(parsed)
    assert (problem.line, problem.index, problem.org_id, problem.field) == (
        4,
        1,
        "U-1",
        "parent_id",
    )
    assert registry_row_problems(parsed, by_id(org("B"))) == []
    as_json = parse_registry(
        '[{"id": "A", "kind": "authority", "name": "甲"}, {"id": "A"}]', "json"
    )
    assert [(p.index, p.line, p.field) for p in as_json.problems] == [
        (1, None, "kind"),
        (1, None, "name"),
    ]
    assert str(as_json.problems[0]).startswith("第 2 项 / item 2 A")


@pytest.mark.parametrize(
    ("text", "fmt", "why"),
    [
        ("{id: A", "yaml", "not a readable"),
        ("a: 1\na: 2\n", "yaml", "not a readable"),
        ('{"id": "A"}', "json", "list"),
        ('[{"id": "A", "id": "B"}]', "json", "duplicate"),
        ("", "yaml", "list"),
    ],
)
def test_a_file_that_is_not_a_registry_list_is_refused_whole(text: str, fmt: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_registry(text, fmt, source="upload")  # type: ignore[arg-type]


def test_the_five_example_registries_are_consistent_and_agree_on_shared_bodies() -> None:
    """examples/organisations: each file alone is a consistent registry; a body two notices name
    (the 自治区人社厅) is registered the same way in both, so importing every file works."""
    seen: dict[str, Organisation] = {}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        parsed = load_registry_file(path)
        assert parsed.problems == [] and registry_row_problems(parsed, {}) == [], path.name
        for o in parsed.organisations:
            assert seen.setdefault(o.id, o) == o, (path.name, o.id)
    assert len(seen) > 40


# --------------------------------------------------------------------------- who acts for a campaign


def test_committee_and_finance_act_only_for_their_campaigns_11() -> None:
    """§11 (001 一(一) 阿克苏地区交通运输局评审委员会; 四(六) 财务审计办公室): committee staff act for the
    campaigns of their committee, finance for those naming their office (by default the
    committee's own office); a campaign made before the registry names neither and any acts for
    it; every other role is not this rule's (its own organisation check decides)."""
    named = ("aks-committee", ["aks-finance"])
    assert campaign_scope_refusal("committee", "aks-committee", *named) is None
    assert campaign_scope_refusal("finance", "aks-finance", *named) is None
    other = campaign_scope_refusal("committee", "other-committee", *named)
    assert other is not None and other[0] == "not_this_committee" and "aks-committee" in other[1]
    office = campaign_scope_refusal("finance", "aks-committee", *named)
    assert office is not None and office[0] == "not_this_finance_office"
    own_office = ["aks-committee"]  # Campaign.fee_offices() where finance_orgs is empty (003, 004)
    assert campaign_scope_refusal("finance", "aks-committee", "aks-committee", own_office) is None
    assert campaign_scope_refusal("committee", "anyone", None, []) is None
    assert campaign_scope_refusal("finance", "anyone", None, []) is None
    for role in ("applicant", "unit_reviewer", "authority_reviewer", "auditor", "admin"):
        assert campaign_scope_refusal(role, "other-committee", *named) is None
