"""Findings 1 and 2, objections (docs/rules.md §10.8, §17).

1. Objection flood: any signed-in account could push a declaration in publicity past Temporal's
   payload limits with large objections (128 of 4,000 emoji locked out the unit, the applicant
   and the committee). Now a text is at most 2,000 characters, one person has at most 3 open
   objections per declaration, a publicity takes at most 100, the texts stay out of the carried
   state and out of update results, and the declaration keeps answering through the worst case.
2. ``POST …/objections`` answered the whole unmasked view to callers who get 403 on ``GET``: it
   now answers ``{"objection_id"}`` and nothing else.
"""

from __future__ import annotations

from domain.chain.publicity import MAX_OPEN_PER_PERSON, MAX_PER_PUBLICITY, MAX_TEXT
from domain.models import Actor
from testing import factories as f
from testing.api import Api

#: Four bytes each in UTF-8: the largest text a caller may send.
EMOJI = "😀"
#: What one event of a declaration's history may hold, far below Temporal's 2 MB per payload.
EVENT_BUDGET = 64 * 1024


def citizen(n: int) -> Actor:
    return Actor(id=f"citizen-{n:03d}", role="applicant")


async def in_unit_publicity(api: Api) -> str:
    c = await api.campaign()
    d = await api.file(c)
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    await api.decide(d, f.UNIT, "unit_review")
    assert (await api.view(d))["state"] == "unit_publicity"
    return d


async def test_an_objection_flood_locks_nobody_out(api: Api) -> None:
    d = await in_unit_publicity(api)
    path = f"/declarations/{d}/objections"
    biggest = {"text": EMOJI * MAX_TEXT}
    too_long = await api.call("POST", path, citizen(0), {"text": EMOJI * 2 * MAX_TEXT}, 422)
    assert str(MAX_TEXT) in too_long.text

    lodged = []
    for n in range(MAX_PER_PUBLICITY):
        person = citizen(n // MAX_OPEN_PER_PERSON)
        lodged.append((await api.post(path, person, biggest, expect=201))["objection_id"])
    fourth = citizen(0)
    assert (await api.call("POST", path, fourth, biggest, expect=409)).status_code == 409
    over = await api.call("POST", path, citizen(900), biggest, expect=409)
    assert str(MAX_PER_PUBLICITY) in over.text

    # Everyone can still read and act on the declaration.
    view = await api.view(d)
    assert view["state"] == "unit_publicity" and len(view["objections"]) == MAX_PER_PUBLICITY
    await api.get(f"/declarations/{d}", f.APPLICANT)
    resolution = {"upheld": False, "opinion": "不属实"}
    await api.post(f"{path}/{lodged[0]}/resolution", f.UNIT, resolution)
    assert sum(o["resolved"] for o in (await api.view(d))["objections"]) == 1

    history = await api.env.client.get_workflow_handle(f"declaration-{d}").fetch_history()
    largest = max(event.ByteSize() for event in history.events)
    assert largest < EVENT_BUDGET, f"an event of {largest} bytes"


async def test_lodging_an_objection_answers_its_id_and_nothing_else(api: Api) -> None:
    d = await in_unit_publicity(api)
    stranger = citizen(1)
    await api.get(f"/declarations/{d}", stranger, expect=403)
    answer = await api.post(f"/declarations/{d}/objections", stranger, {"text": "学历存疑"}, 201)
    assert list(answer) == ["objection_id"]
