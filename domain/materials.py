"""Uploaded materials (网上申报, docs/rules.md §19): which kinds a declaration needs, what a file
is, when it is whole, and what a file name may be. Pure rules: no storage, database or HTTP.

- A kind of the campaign's ``materials_catalogue`` applies to a declaration when its ``levels``
  and ``routes`` name the declaration's (an empty list names all).
- A required kind is **missing** while it has no current file; under blind review (001 四(一)3
  "所有填写内容及上传附件中涉及本人姓名、照片和工作单位信息均需遮盖") a required kind the applicant
  uploads is missing too while none of its current files is marked masked (遮盖).
- The type of a file is read from its first bytes, never from its name: PDF, JPEG or PNG. A file
  whose end is missing (a PDF without ``%%EOF``, a JPEG without its end-of-image marker, a PNG
  without ``IEND``) is incomplete: a cut-off upload or a damaged scan, refused like one the
  notices count as not uploaded (004 附件2 二(二) "附件材料无法打开的情况，一律视为无相关附件材料").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

from domain.models.base import Level, Route
from domain.models.campaign import Campaign, MaterialKind

__all__ = [
    "CONTENT_TYPES",
    "REASON_PREFIX",
    "FileType",
    "Uploader",
    "applicable",
    "bad_filename",
    "incomplete",
    "is_material_id",
    "kind_label",
    "missing_kinds",
    "missing_refusal",
    "new_material_id",
    "reason_kinds",
    "sniff",
    "unit_kinds_missing_refusal",
]

FileType = Literal["pdf", "jpeg", "png"]
Uploader = Literal["applicant", "unit"]

#: The media type each accepted file type is served with.
CONTENT_TYPES: dict[FileType, str] = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
#: A return's reason code naming the material at fault: ``material:<kind>`` (§10.4, §19).
REASON_PREFIX = "material:"
#: ``M-`` and twelve hex digits: what a material id looks like.
_MATERIAL_ID = re.compile(r"^M-[0-9a-f]{12}$")
#: How far from the end a PDF's ``%%EOF`` or a JPEG's end-of-image marker may sit (trailing
#: bytes some scanners and cameras append).
TAIL_BYTES = 1024
MAX_FILENAME = 200


def new_material_id(hex12: str) -> str:
    """The id of a material from twelve random hex digits (the caller draws them)."""
    if not re.fullmatch(r"[0-9a-f]{12}", hex12):
        raise ValueError("a material id needs twelve lowercase hex digits")
    return f"M-{hex12}"


def is_material_id(ref: str | None) -> bool:
    return bool(ref) and _MATERIAL_ID.fullmatch(ref or "") is not None


def applies(kind: MaterialKind, level: str, route: str) -> bool:
    return (not kind.levels or level in kind.levels) and (not kind.routes or route in kind.routes)


def applicable(
    campaign: Campaign, level: Level | str, route: Route | str
) -> dict[str, MaterialKind]:
    """The catalogue's kinds that apply to a declaration of this level and route."""
    return {
        name: kind
        for name, kind in campaign.materials_catalogue.items()
        if applies(kind, level, route)
    }


def kind_label(name: str, kind: MaterialKind | None) -> str:
    """``学历证书 (degree)``, or the bare name when the catalogue gives no label."""
    return f"{kind.label} ({name})" if kind is not None and kind.label else name


def missing_kinds(
    kinds: dict[str, MaterialKind],
    held: Iterable[tuple[str, bool]],
    *,
    masked_required: bool,
    uploaders: Sequence[Uploader] = ("applicant", "unit"),
) -> list[str]:
    """Required kinds among ``kinds`` (uploaded by one of ``uploaders``) with no current file,
    in catalogue order. ``held`` lists the current files as ``(kind, masked)``. Under blind
    review (``masked_required``) a required applicant kind with no masked file is missing."""
    present: dict[str, bool] = {}
    for name, masked in held:
        present[name] = present.get(name, False) or masked
    out = []
    for name, kind in kinds.items():
        if not kind.required or kind.uploader not in uploaders:
            continue
        unmasked_only = masked_required and kind.uploader == "applicant" and not present.get(name)
        if name not in present or unmasked_only:
            out.append(name)
    return out


def missing_refusal(missing: Sequence[str], kinds: dict[str, MaterialKind], *, blind: bool) -> str:
    """Why a submission (or the unit's approval) is refused while required material is missing:
    the notices put the consequence of a missing upload on the applicant (001 四(一)1
    "因漏传、错传、未传导致的后果，由申报人承担")."""
    names = "、".join(kind_label(name, kinds.get(name)) for name in missing)
    masked = "（盲评须上传遮盖后的文件 masked copies are required）" if blind else ""
    return (
        f"缺少必传材料：{names}{masked}；漏传、错传、未传导致的后果由申报人承担 (001 四(一)1, "
        f"docs/rules.md §19) / required materials missing: {', '.join(missing)}"
    )


def unit_kinds_missing_refusal(missing: Sequence[str], kinds: dict[str, MaterialKind]) -> str:
    """Why the unit's recommendation is refused while its own stamped material is missing
    (000 附件2 一(三)(四): 上传单位公示结果 … 上传加盖公章的推荐意见)."""
    names = "、".join(kind_label(name, kinds.get(name)) for name in missing)
    return (
        f"推荐单位尚未上传：{names} (000 附件2 一(三)(四), docs/rules.md §19) / the unit has not "
        f"uploaded: {', '.join(missing)}"
    )


def reason_kinds(reasons: Iterable[str]) -> list[str]:
    """The kinds a return's ``material:<kind>`` reason codes name."""
    return [r[len(REASON_PREFIX) :] for r in reasons if r.startswith(REASON_PREFIX)]


# --------------------------------------------------------------------------- the file itself


def sniff(head: bytes) -> FileType | None:
    """The type of a file from its first bytes: PDF (``%PDF-``), JPEG (``FF D8 FF``) or PNG
    (its 8-byte signature); None for anything else."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def incomplete(file_type: FileType, tail: bytes) -> str | None:
    """Why a file of ``file_type`` whose last bytes are ``tail`` is not whole, or None."""
    end = tail[-TAIL_BYTES:]
    if file_type == "pdf" and b"%%EOF" not in end:
        return "PDF 文件不完整（缺少结尾 %%EOF）/ the PDF ends early (no %%EOF): cut off or damaged"
    if file_type == "jpeg" and b"\xff\xd9" not in end:
        return "JPEG 图片不完整（缺少结束标记）/ the JPEG ends early (no end-of-image marker)"
    if file_type == "png" and not end.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        return "PNG 图片不完整（缺少 IEND）/ the PNG ends early (no IEND chunk)"
    return None


def bad_filename(name: str) -> str | None:
    """Why an uploaded file's name is refused, or None: it must be a plain name (no folder, no
    ``..``, no control character), at most 200 characters. Files are stored by their hash; the
    name is only shown to readers, so a path in it is a client error, not a place to write."""
    if not name or not name.strip():
        return "缺少文件名 / the file has no name"
    if len(name) > MAX_FILENAME:
        return (
            f"文件名过长（最多 {MAX_FILENAME} 字符）/ the file name is longer than {MAX_FILENAME}"
        )
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        return "文件名不能包含路径 / the file name must be a plain name, not a path"
    if re.match(r"^[A-Za-z]:", name):
        return "文件名不能包含路径 / the file name must be a plain name, not a path"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in name):
        return "文件名含有控制字符 / the file name holds control characters"
    return None
