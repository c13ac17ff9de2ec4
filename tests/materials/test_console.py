"""The console's materials (docs/rules.md §19): the list with the catalogue's completeness, the
upload form, inline viewing with the reader's watermark, and the unit told what is missing before
it approves."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from settings import Settings
from testing import factories as f
from testing import samples
from testing.api import Api
from tests.console.helpers import Console, Session
from tests.materials.helpers import campaign, material_rows, upload_required

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


async def post_upload(
    session: Session,
    declaration_id: str,
    kind: str,
    content: bytes,
    name: str,
    *,
    masked: bool = True,
    csrf: str | None = None,
    expect: int = 303,
) -> str:
    page = f"/console/declarations/{declaration_id}"
    token = csrf if csrf is not None else await session.csrf(page)
    data = {"csrf": token, "kind": kind, **({"masked": "true"} if masked else {})}
    response = await session.http.post(
        f"{page}/materials", data=data, files={"file": (name, content, "application/pdf")}
    )
    assert response.status_code == expect, response.text
    return response.text


async def test_the_applicant_uploads_in_the_console_and_sees_what_is_missing(
    api: Api, console: Console, settings: Settings
) -> None:
    d = await api.file(await campaign(api))
    applicant = await console.sign_in(f.APPLICANT)
    page = (await applicant.get(f"/console/declarations/{d}")).text
    assert 'id="materials"' in page and "缺 missing" in page
    assert 'enctype="multipart/form-data"' in page and 'value="degree"' in page
    assert 'value="publicity_result"' not in page.split("上传材料 upload")[1]  # the unit's
    await post_upload(applicant, d, "degree", samples.pdf("学历证书"), "学历证书.pdf")
    page = (await applicant.get(f"/console/declarations/{d}", done="upload_material")).text
    assert "学历证书.pdf" in page and "材料已上传" in page
    [row] = material_rows(settings, d)
    link = f"/console/declarations/{d}/materials/{row['id']}"
    assert link in page
    viewed = await applicant.get(link)
    assert viewed.headers["x-watermarked"] == "true"
    assert "inline" in viewed.headers["content-disposition"]
    text = PdfReader(io.BytesIO(viewed.content)).pages[0].extract_text()
    assert f.APPLICANT.id in text and d in text


async def test_a_forged_upload_form_keeps_nothing(
    api: Api, console: Console, settings: Settings
) -> None:
    d = await api.file(await campaign(api))
    applicant = await console.sign_in(f.APPLICANT)
    await post_upload(applicant, d, "degree", samples.pdf(), "x.pdf", csrf="0" * 64, expect=403)
    assert material_rows(settings, d) == []


async def test_a_refused_upload_shows_the_reason_on_the_page(
    api: Api, console: Console, settings: Settings
) -> None:
    d = await api.file(await campaign(api))
    applicant = await console.sign_in(f.APPLICANT)
    page = await post_upload(applicant, d, "degree", b"plain text", "x.pdf", expect=415)
    assert "只接收 PDF、JPEG、PNG" in page and 'id="materials"' in page


async def test_the_unit_sees_what_is_missing_before_it_recommends(
    api: Api, console: Console, settings: Settings
) -> None:
    d = await api.file(await campaign(api))
    await upload_required(api, d, samples.pdf(), samples.jpeg())
    await api.post(f"/declarations/{d}/submit", f.APPLICANT)
    unit = await console.sign_in(f.UNIT)
    page = (await unit.get(f"/console/declarations/{d}")).text
    assert "材料不全" not in page  # the applicant's kinds are complete: the unit may approve
    assert "material:degree" in page  # a return may name the material at fault
    view = await api.decide(d, f.UNIT, "unit_review", opinion="材料真实完整")
    await api.skip_past(view["deadlines"]["publicity_ends"])
    await api.wait_state(d, "unit_recommendation")
    page = (await unit.get(f"/console/declarations/{d}")).text
    assert "材料不全" in page and "publicity_result" in page
    assert 'value="publicity_result"' in page  # the unit's upload form
    await post_upload(
        unit, d, "publicity_result", samples.pdf("公示结果"), "公示结果.pdf", masked=False
    )
    await post_upload(
        unit, d, "unit_recommendation", samples.pdf("推荐意见"), "推荐.pdf", masked=False
    )
    page = (await unit.get(f"/console/declarations/{d}")).text
    assert "材料不全" not in page
    result = next(r for r in material_rows(settings, d) if r["kind"] == "publicity_result")
    assert f'value="{result["id"]}"' in page  # offered as the publicity_result_ref
