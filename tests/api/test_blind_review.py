"""Blind review (盲评, docs/rules.md §9, 001; §15): under a campaign with ``blind_review``,
committee members see the declaration with the applicant's name, ID number and unit masked, and
the unit masked wherever else it appears; everyone else, and every campaign without blind
review, shows them."""

from __future__ import annotations

import json

from settings import Settings
from testing import factories as f
from testing.api import AUDITOR, Api

MASK = "***"


async def test_committee_sees_the_masked_view_under_blind_review(
    api: Api, settings: Settings
) -> None:
    c = await api.campaign(blind_review=True)
    d = await api.file(c)
    await api.to_committee(d)
    real = await api.view(d, f.ADMIN)
    name, id_number = real["applicant"]["name"], real["applicant"]["id_number"]
    assert real["applicant"]["unit_id"] == "U-001" and real["unit_id"] == "U-001"

    masked = await api.view(d, f.COMMITTEE)
    assert masked["applicant"] == {"name": MASK, "id_number": MASK, "unit_id": MASK,
                                   "affiliation": MASK}  # fmt: skip
    assert masked["unit_id"] == MASK
    # §9 v3: the region and the authority bodies of the chain identify the person too.
    assert masked["region"] is None
    assert masked["authority_chain"] == [MASK] * len(real["authority_chain"])
    text = json.dumps(masked, ensure_ascii=False)
    assert name not in text and id_number not in text and "U-001" not in text
    assert masked["state"] == real["state"] == "committee_formal_review"

    # A committee decision answers with the masked view too.
    decided = await api.decide(d, f.COMMITTEE, "committee_formal_review")
    assert decided["applicant"]["name"] == MASK and decided["state"] == "fee_pending"
    # So do the lists and the inbox.
    listed = await api.get("/declarations", f.COMMITTEE, campaign_id=c.id)
    assert [i["applicant"]["name"] for i in listed["items"]] == [MASK]
    # The history, read by the committee, names neither the applicant nor the unit.
    history = await api.get(f"/declarations/{d}/history", f.COMMITTEE)
    text = json.dumps(history, ensure_ascii=False)
    assert name not in text and id_number not in text and "U-001" not in text
    assert all(e["actor_id"] == MASK for e in history["events"] if e["actor_role"] == "applicant")
    # The auditor and the unit read it in full.
    assert (await api.view(d, AUDITOR))["applicant"]["name"] == name
    assert (await api.view(d, f.UNIT))["applicant"]["id_number"] == id_number
    full = await api.get(f"/declarations/{d}/history", AUDITOR)
    assert "U-001" in json.dumps(full, ensure_ascii=False)


async def test_without_blind_review_the_committee_sees_the_applicant(api: Api) -> None:
    c = await api.campaign(blind_review=False)
    d = await api.file(c)
    real = await api.view(d, f.ADMIN)
    seen = await api.view(d, f.COMMITTEE)
    assert seen["applicant"] == real["applicant"] and seen["unit_id"] == "U-001"
