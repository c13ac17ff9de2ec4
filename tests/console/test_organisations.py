"""The administrator's organisations pages (docs/rules.md §11): the registry as a list and a tree
by parent, a form to register or edit one organisation, and an import with a preview of what it
would change before it is applied; each through the API's own rules and messages. Committee
staff find only their committee's campaigns in the console."""

from __future__ import annotations

import re

from domain.models import Actor
from testing import factories as f
from testing.api import Api
from tests.console.helpers import Console

PAGE = "/console/organisations"


def depth_of(html: str, org_id: str) -> int:
    found = re.search(
        rf'<li class="depth-(\d)" data-depth="\d+">\s*<a href="{PAGE}/{org_id}/edit">', html
    )
    assert found, org_id
    return int(found[1])


async def test_the_registry_is_listed_and_shown_as_a_tree_by_parent_11(
    api: Api, console: Console
) -> None:
    admin = await console.sign_in(f.ADMIN)
    html = (await admin.get(PAGE)).text
    assert 'href="/console/organisations"' in html  # in the administrator's navigation
    assert depth_of(html, "prefecture-transport") == 0
    assert depth_of(html, "county-hr") == 1 and depth_of(html, "U-001") == 2
    assert html.index("/county-hr/edit") < html.index("/U-001/edit") < html.index("/other-hr/edit")
    committees = (await admin.get(PAGE, kind="committee")).text
    table = committees.split('aria-label="机构列表 organisations"')[1]
    assert f.COMMITTEE_ORG in table and "U-001" not in table
    committee = await console.sign_in(f.COMMITTEE)
    await committee.get(PAGE, expect=403)
    assert 'href="/console/organisations"' not in (await committee.get("/console/inbox")).text


async def test_register_and_edit_one_organisation_through_the_apis_rules_11(
    api: Api, console: Console
) -> None:
    """A new organisation is created (an id in use is refused, never overwritten); an edit
    moving a unit under a body that is not an authority is refused with the API's message and
    the form keeps what was typed."""
    admin = await console.sign_in(f.ADMIN)
    fields = {
        "id": "U-CONSOLE",
        "kind": "unit",
        "name": "控制台单位",
        "region_code": "652901",
        "region_name": "阿克苏市",
        "parent_id": "county-hr",
    }
    saved = await admin.post(f"{PAGE}/new", f"{PAGE}/new", fields)
    assert saved.headers["location"] == f"{PAGE}?done=U-CONSOLE"
    org = await api.get("/organisations/U-CONSOLE", f.ADMIN)
    assert (org["parent_id"], org["region"]["name"]) == ("county-hr", "阿克苏市")
    again = await admin.post(f"{PAGE}/new", f"{PAGE}/new", fields, expect=422)
    assert "已登记" in again.text

    edit = f"{PAGE}/U-CONSOLE/edit"
    form = (await admin.get(edit)).text
    assert 'value="控制台单位"' in form and 'value="county-hr"' in form
    wrong = await admin.post(edit, edit, {**fields, "parent_id": "U-001"}, expect=422)
    assert "not an authority" in wrong.text and 'value="U-001"' in wrong.text
    moved = await admin.post(edit, edit, {**fields, "parent_id": "other-hr"})
    assert moved.status_code == 303
    assert (await api.get("/organisations/U-CONSOLE", f.ADMIN))["parent_id"] == "other-hr"
    committee = {"kind": "committee", "name": "新评审委员会"}
    refused = await admin.post(f"{PAGE}/new", f"{PAGE}/new", {"id": "C-X", **committee}, 422)
    assert "members" in refused.text
    await admin.post(f"{PAGE}/new", f"{PAGE}/new", {"id": "C-X", **committee, "members": "9"})
    assert (await api.get("/organisations/C-X", f.ADMIN))["members"] == 9
    many = {"id": "C-Y", **committee, "members": "九"}
    assert "members" in (await admin.post(f"{PAGE}/new", f"{PAGE}/new", many, 422)).text
    await admin.get(f"{PAGE}/nowhere/edit", expect=404)


async def test_an_import_is_previewed_field_by_field_before_it_is_applied_11(
    api: Api, console: Console
) -> None:
    """The preview names what would be created and every changed field (before → after) and
    writes nothing; a bad row shows its line and offers no apply; applying writes it whole."""
    admin = await console.sign_in(f.ADMIN)
    page = f"{PAGE}/import"
    text = (
        "id,kind,name,region_code,region_name,parent_id,members,email\n"
        "U-001,unit,阿克苏市公路管理站,652900,阿克苏地区,other-hr,,\n"
        "U-IMP,unit,导入单位,,,county-hr,,\n"
    )
    preview = await admin.post(page, page, {"step": "preview", "format": "csv", "text": text}, 200)
    html = preview.text
    assert "尚未导入" in html and "<code>U-IMP</code>" in html
    assert re.search(
        r"<code>U-001</code></td><td><code>parent_id</code></td><td>county-hr</td>"
        r"<td>other-hr</td>",
        html,
    )
    assert "确认导入 apply this import" in html
    await api.get("/organisations/U-IMP", f.ADMIN, expect=404)

    bad = text.replace("county-hr,,", "nowhere,,")
    refused = await admin.post(page, page, {"step": "preview", "format": "csv", "text": bad}, 200)
    assert "第 3 行 / line 3 U-IMP (parent_id)" in refused.text
    assert "确认导入 apply this import" not in refused.text

    applied = await admin.post(page, page, {"step": "apply", "format": "csv", "text": text}, 200)
    assert "已导入 imported" in applied.text and "新登记 created 1" in applied.text
    assert (await api.get("/organisations/U-001", f.ADMIN))["parent_id"] == "other-hr"
    broken = await admin.post(page, page, {"step": "apply", "format": "csv", "text": bad}, 422)
    assert "未导入任何机构" in broken.text


async def test_committee_staff_find_only_their_committees_campaigns_11(
    api: Api, console: Console
) -> None:
    mine = await api.campaign()
    theirs = await api.campaign(committee_org="other-committee", finance_orgs=[])
    committee = await console.sign_in(f.COMMITTEE)
    listed = (await committee.get("/console/campaigns")).text
    assert mine.id in listed and theirs.id not in listed
    await committee.get(f"/console/campaigns/{theirs.id}", expect=403)
    await committee.get(f"/console/campaigns/{theirs.id}/meeting", expect=403)
    other = await console.sign_in(Actor(id="c-2", role="committee", org="other-committee"))
    assert theirs.id in (await other.get("/console/campaigns")).text
    admin = await console.sign_in(f.ADMIN)
    everything = (await admin.get("/console/campaigns")).text
    assert mine.id in everything and theirs.id in everything
