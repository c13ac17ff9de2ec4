"""The console writes what it shows in words: a code as its Chinese label beside the id, yes/no
as 是/否, nothing as —, never a Python value (``True``, ``None``, ``required=False``); whoever
lodged an objection is its objector (异议人), whatever their role; declaration ids never wrap; and a
publicity waits on no one until an objection is lodged."""

from __future__ import annotations

import html
import re

from api.console.present import detail_items
from domain.models import Actor
from settings import Settings
from testing import factories as f
from testing import samples
from testing.api import Api
from tests.console.helpers import Console
from tests.materials.helpers import campaign, upload_required

#: A colleague who objects: signed in as an applicant (of another declaration), not this one's.
COLLEAGUE = Actor(id="colleague-1", role="applicant")
#: ``True``, ``False``, ``None`` or ``key=value`` (a calendar's version, ``2026=chinese-calendar
#: 1.11.0``, is a name, not a Python value).
PYTHON_VALUES = re.compile(r"\b(True|False|None)\b|\b[A-Za-z_]\w*=")


def shown(page: str) -> str:
    """The text a reader sees: no markup, scripts or styles."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def row_of(page: str, needle: str) -> str:
    """The row of the page's history table holding ``needle``."""
    at = page.index(needle, page.index('class="list events"'))
    return page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]


async def test_a_declaration_with_objections_flags_and_materials_reads_in_words(
    api: Api, console: Console, settings: Settings
) -> None:
    c = await campaign(api)
    unappraised = f.applicant(appraisals=[], continuing_education=[])
    body = f.declaration_body(c, applicant=unappraised)
    d = (await api.post("/declarations", f.APPLICANT, body, expect=201))["id"]
    await api.recorded(d)
    await upload_required(api, d, samples.pdf(), samples.jpeg())
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    await api.decide(d, f.UNIT, "unit_recommendation", expect=409)  # refused, and audited
    view = await api.decide(d, f.UNIT, "unit_review", opinion="材料真实完整")
    assert view["state"] == "unit_publicity" and view["flags"]
    assert view["pending"] is None  # nothing to do: the publicity ends by itself

    unit = await console.sign_in(f.UNIT)
    page = (await unit.get(f"/console/declarations/{d}")).text
    assert "公示中，暂无待处理的异议" in page and "处理异议" not in shown(page)
    inbox = (await unit.get("/console/inbox")).text
    assert d not in inbox.split("<aside")[0]  # the reminders beside the list may name it

    objections = f"/declarations/{d}/objections"
    lodged = await api.post(objections, COLLEAGUE, {"text": "学历存疑"}, expect=201)
    await api.post(
        f"/declarations/{d}/objections/{lodged['objection_id']}/resolution",
        f.UNIT,
        {"upheld": False, "opinion": "经核实不成立"},
    )
    await api.post(objections, f.ANYONE, {"text": "业绩存疑"}, expect=201)
    pending = (await api.view(d))["pending"]
    assert pending["action"] == "resolve_objections" and pending["role"] == "unit_reviewer"

    auditor = await console.sign_in(Actor(id="auditor-1", role="auditor"))
    pages = {
        "unit's declaration": (await unit.get(f"/console/declarations/{d}")).text,
        "unit's inbox": (await unit.get("/console/inbox")).text,
        "audit trail": (await auditor.get(f"/console/audit/declarations/{d}")).text,
        "refused attempts": (
            await auditor.get("/console/audit/actors", actor_id="", outcome="refused")
        ).text,
        "campaign audit": (await auditor.get(f"/console/audit/campaigns/{c.id}")).text,
    }
    for name, page in pages.items():
        text = shown(page)
        found = [text[m.start() - 30 : m.end() + 30] for m in PYTHON_VALUES.finditer(text)]
        assert found == [], f"{name} shows Python values: {found}"

    page = pages["unit's declaration"]
    text = shown(page)
    assert "等待 处理异议 resolve_objections" in text
    assert "缺年度考核结果 appraisal_missing" in text  # a flag, labelled
    assert "级别 level 副高级 deputy_senior" in text  # the level, labelled
    assert "异议成立 upheld ：否" in text and "异议人 colleague-1" in text
    lodging = row_of(page, "<code>objection.lodged</code>")
    assert "异议人" in lodging and "申报人" not in lodging
    assert "审核决定：环节不符 <code>decide.wrong_stage</code>" in page  # the refusal, labelled
    assert "学历学位证书及学信网报告 <code>degree</code>" in page  # a material kind, labelled
    assert f'<td class="nowrap"><a href="/console/declarations/{d}">' in pages["unit's inbox"]
    assert f'<td class="nowrap"><a href="/console/declarations/{d}">' in pages["campaign audit"]
    trail = pages["audit trail"]
    assert "异议人" in row_of(trail, "<code>objection.lodged</code>")


def test_an_events_facts_are_labelled_down_to_nested_codes() -> None:
    """A refiled declaration's flags (``before``/``after``), a command a refused attempt kept
    and a deadline at midnight read as labelled words."""
    facts = [
        shown(str(fact))
        for fact in detail_items(
            {
                "flags": {"before": ["appraisal_missing"], "after": []},
                "command": {"stage": "unit_review", "republish": False, "score": None},
                "at": "2024-10-10T16:00:00Z",
                "via": "console",
            }
        )
    ]
    assert facts == [
        "资格提示 flags ：调整前 before ：缺年度考核结果 appraisal_missing ；调整后 after ：—",
        "提交的内容 command ：环节 stage ：单位审核 unit_review ；重新公示 republish ：否；"
        "答辩成绩 score ：—",
        "时间 at ：2024-10-10 24:00",
    ]
