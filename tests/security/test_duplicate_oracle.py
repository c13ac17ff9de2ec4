"""Finding 8, oracle (001: one live declaration per person, title and year): the duplicate
declaration's 409 told any applicant whether an ID number had applied, and named that
declaration. Now only the account that filed the live declaration is told which one it is;
anyone else gets a 409 that says nothing about another person's file."""

from __future__ import annotations

from domain.models import Actor
from testing import factories as f
from testing.api import Api


async def test_the_duplicate_409_names_the_declaration_only_to_its_own_account(api: Api) -> None:
    c = await api.campaign()
    body = f.declaration_body(c, level="deputy_senior")
    mine = (await api.post("/declarations", f.APPLICANT, body, expect=201))["id"]
    await api.recorded(mine)

    stranger = Actor(id="applicant-9", role="applicant", org=f.APPLICANT.org)
    answer = await api.call("POST", "/declarations", stranger, body, expect=409)
    text = answer.text
    assert mine not in text and "draft" not in text
    assert body["applicant"]["name"] not in text and body["unit_id"] not in text
    assert "only the account that filed it" in text

    again = await api.call("POST", "/declarations", f.APPLICANT, body, expect=409)
    assert mine in again.text and "draft" in again.text
