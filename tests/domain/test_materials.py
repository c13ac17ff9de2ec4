"""The pure rules of uploaded materials (docs/rules.md §19): which kinds apply and are missing
(001 四(一)1, 四(一)3), what a file is by its first bytes, when it is whole, which names are
plain."""

from __future__ import annotations

import pytest

from domain.materials import (
    applies,
    bad_filename,
    incomplete,
    is_material_id,
    missing_kinds,
    reason_kinds,
    sniff,
)
from domain.models import MaterialKind

KINDS = {
    "degree": MaterialKind(required=True),
    "photo": MaterialKind(required=True, types=["jpeg", "png"]),
    "mandarin": MaterialKind(required=False),
    "senior_work": MaterialKind(required=True, levels=["deputy_senior"]),
    "publicity_result": MaterialKind(required=True, uploader="unit"),
}


def test_levels_and_routes_narrow_a_kind() -> None:
    kind = MaterialKind(levels=["deputy_senior"], routes=["directed"])
    assert applies(kind, "deputy_senior", "directed")
    assert not applies(kind, "intermediate", "directed")
    assert not applies(kind, "deputy_senior", "private_enterprise")
    assert applies(MaterialKind(), "junior", "entrusted")


def test_a_required_kind_without_a_current_file_is_missing_001() -> None:
    """001 四(一)1 因漏传、错传、未传导致的后果，由申报人承担: the applicant's kinds, by default
    with the unit's; optional kinds never."""
    assert missing_kinds(KINDS, [], masked_required=False, uploaders=("applicant",)) == [
        "degree",
        "photo",
        "senior_work",
    ]
    held = [("degree", False), ("photo", False), ("senior_work", False)]
    assert missing_kinds(KINDS, held, masked_required=False) == ["publicity_result"]
    assert missing_kinds(KINDS, held, masked_required=False, uploaders=("applicant",)) == []


def test_under_blind_review_the_applicant_needs_a_masked_copy_001() -> None:
    """001 四(一)3 所有…上传附件中涉及本人姓名、照片和工作单位信息均需遮盖; the unit's own
    material is not the applicant's to mask."""
    held = [
        ("degree", False),
        ("photo", True),
        ("senior_work", False),
        ("senior_work", True),
        ("publicity_result", False),
    ]
    assert missing_kinds(KINDS, held, masked_required=True) == ["degree"]
    assert missing_kinds(KINDS, held, masked_required=False) == []


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "png"),
        (b"GIF89a", None),
        (b"PK\x03\x04", None),
        (b" %PDF-1.4", None),
        (b"", None),
    ],
)
def test_the_type_is_read_from_the_first_bytes(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_a_file_without_its_end_is_incomplete() -> None:
    assert incomplete("pdf", b"...\nstartxref\n123\n%%EOF\n") is None
    assert incomplete("pdf", b"...\nendobj\n") is not None
    assert incomplete("jpeg", b"\x00\x01\xff\xd9") is None
    assert incomplete("jpeg", b"\x00\x01\x02") is not None
    assert incomplete("png", b"\x00\x00\x00\x00IEND\xaeB`\x82") is None
    assert incomplete("png", b"IDAT") is not None


@pytest.mark.parametrize(
    "name",
    [
        "../x.pdf",
        "a/b.pdf",
        "C:\\scan.pdf",
        "C:scan.pdf",
        "..",
        ".",
        "",
        "   ",
        "a\x00.pdf",
        "scan\u202efdp.exe",
        "tab\there.pdf",
        "x" * 201,
    ],
)
def test_names_that_are_paths_or_hide_characters_are_refused(name: str) -> None:
    assert bad_filename(name) is not None


@pytest.mark.parametrize("name", ["学历证书.pdf", "scan 01.jpeg", "a..b.pdf", "x" * 200])
def test_plain_names_pass(name: str) -> None:
    assert bad_filename(name) is None


def test_material_ids_and_reason_codes() -> None:
    assert is_material_id("M-0123456789ab") and not is_material_id("M-0123")
    assert not is_material_id("公示结果-1") and not is_material_id(None)
    assert reason_kinds(["unclear_scan", "material:degree", "material:photo"]) == [
        "degree",
        "photo",
    ]
