"""The proposed materials catalogues of the five notices (examples/catalogues, docs/rules.md §19):
each is a valid ``materials_catalogue`` of its campaign, cites its clause, and requires what its
notice says must be uploaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from domain.campaign_files import load_campaign_file
from domain.materials import applicable
from domain.models import Campaign, MaterialKind

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CATALOGUES = sorted((EXAMPLES / "catalogues").glob("*.yaml"))


def _with_catalogue(path: Path) -> Campaign:
    campaign = load_campaign_file(EXAMPLES / "campaigns" / path.name)
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))["materials_catalogue"]
    return Campaign.model_validate({**campaign.model_dump(), "materials_catalogue": catalogue})


def test_there_is_one_catalogue_per_notice() -> None:
    assert [p.name[:3] for p in CATALOGUES] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_each_catalogue_fits_its_campaign_and_cites_its_clause(path: Path) -> None:
    campaign = _with_catalogue(path)
    text = path.read_text(encoding="utf-8")
    for name, kind in campaign.materials_catalogue.items():
        assert isinstance(kind, MaterialKind) and kind.label, name
        line = next(line for line in text.splitlines() if line.startswith(f"  {name}:"))
        assert "#" in line, f"{name}: no clause cited"
        assert set(kind.levels) <= set(campaign.levels), name
    # every notice has the unit upload its publicity result (000 附件2 一(三), 001 四(一)8,
    # 002 五(二), 003 五(二), 004 模板1)
    assert campaign.materials_catalogue["publicity_result"].uploader == "unit"


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.stem)
def test_the_applicant_must_upload_the_degree_and_the_pledge(path: Path) -> None:
    """000-004 all ask for the degree with its 学信网 record and a signed pledge (承诺书)."""
    campaign = _with_catalogue(path)
    kinds = applicable(campaign, campaign.levels[-1], "directed")
    assert kinds["degree"].required and kinds["degree"].uploader == "applicant"
    assert kinds["pledge"].required


def test_routes_narrow_the_kinds_001() -> None:
    """001 四(一)6: continuing education is no hard requirement for private-enterprise
    applicants (their kind is optional), required on the directed route."""
    campaign = _with_catalogue(EXAMPLES / "catalogues" / "001_aksu_2024.yaml")
    directed = applicable(campaign, "intermediate", "directed")
    private = applicable(campaign, "intermediate", "private_enterprise")
    assert directed["continuing_education"].required and "continuing_education" not in private
    assert not private["continuing_education_private"].required
