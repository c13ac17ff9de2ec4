"""A declaration's materials (网上申报 uploads, docs/rules.md §19): upload, list, read, and the
checks the unit's decisions make against them. Shared by the JSON routes
(:mod:`api.routes.materials`) and the console, so both answer and audit alike.

**Who uploads what, when.** The applicant who filed the declaration uploads the kinds the
catalogue gives to the applicant, while the declaration is theirs to change: ``draft`` and
``returned`` (not while the unit reviews it: the unit answers for what it saw, 谁审查，谁负责; a
file it finds wrong is returned with a ``material:<kind>`` reason code). The reviewers of the
declaration's unit upload the unit's kinds (the stamped recommendation 推荐意见, the publicity and
its result 公示结果) from ``unit_review`` to ``unit_recommendation``. Anyone else, or another stage:
403 or 409, audited on the declaration's chain.

**Who reads what.** Whoever may read the declaration reads its files; under blind review (001
四(一)3) the committee reads only the files marked masked (遮盖). Every read is an audit event of
the materials chain naming the reader. A PDF or image goes out with the reader's visible
watermark; the untouched original (whose SHA-256 the audit trail names) only to auditors,
administrators and whoever uploaded it.
"""

from __future__ import annotations

from api.materials.decisions import check_decision
from api.materials.intake import upload
from api.materials.reading import download, listing, material_events
from api.materials.target import APPLICANT_STATES, UNIT_STATES

__all__ = [
    "APPLICANT_STATES",
    "UNIT_STATES",
    "check_decision",
    "download",
    "listing",
    "material_events",
    "upload",
]
