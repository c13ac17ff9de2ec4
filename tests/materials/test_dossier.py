"""The dossier carries the materials (docs/rules.md §10.5, §19): their metadata and hashes and
their own audit chain; exported with files, a zip whose every file the offline verifier hashes."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

from settings import Settings
from store.db import Store
from store.dossier import build_dossier
from store.dossier_verify import main, verify_bundle, verify_dossier
from store.materials.dossier import write_bundle
from store.materials.objects import open_objects
from testing import factories as f
from testing import samples
from testing.api import Api
from tests.materials.helpers import campaign, upload


async def filed_with_materials(api: Api) -> tuple[str, list[dict]]:
    d = await api.file(await campaign(api))
    first = (await upload(api, d, f.APPLICANT, "degree", samples.pdf("v1"))).json()
    second = (await upload(api, d, f.APPLICANT, "degree", samples.pdf("v2"))).json()
    photo = (await upload(api, d, f.APPLICANT, "photo", samples.jpeg(), filename="p.jpg")).json()
    await api.call("GET", f"/declarations/{d}/materials/{second['material_id']}", f.UNIT)
    return d, [first, second, photo]


def dossier_of(settings: Settings, declaration_id: str) -> dict:
    store = Store(settings.database_url)
    try:
        with store.session(readonly=True) as session:
            return build_dossier(session, declaration_id)
    finally:
        store.dispose()


async def test_the_dossier_lists_every_file_and_its_chain(api: Api, settings: Settings) -> None:
    d, uploaded = await filed_with_materials(api)
    dossier = dossier_of(settings, d)
    section = dossier["materials"]
    assert [i["material_id"] for i in section["items"]] == [u["material_id"] for u in uploaded]
    assert [i["sha256"] for i in section["items"]] == [u["sha256"] for u in uploaded]
    assert [e["action"] for e in section["timeline"]] == ["upload_material"] * 3 + ["read_material"]
    verdict = verify_dossier(json.loads(json.dumps(dossier)))
    assert verdict.ok and verdict.materials == 3 and verdict.material_events == 4


async def test_the_verifier_catches_a_changed_hash_or_a_dropped_event(
    api: Api, settings: Settings
) -> None:
    d, _ = await filed_with_materials(api)
    dossier = json.loads(json.dumps(dossier_of(settings, d)))
    changed = copy.deepcopy(dossier)
    changed["materials"]["items"][0]["sha256"] = "0" * 64
    verdict = verify_dossier(changed)
    assert not verdict.ok and "sha256 differ" in (verdict.problem or "")
    dropped = copy.deepcopy(dossier)
    del dropped["materials"]["timeline"][1]
    assert not verify_dossier(dropped).ok
    forged = copy.deepcopy(dossier)
    forged["materials"]["timeline"][3]["actor_id"] = "somebody-else"
    verdict = verify_dossier(forged)
    assert not verdict.ok and verdict.first_bad_seq == 4
    stripped = copy.deepcopy(dossier)
    del stripped["materials"]  # the signature covers the materials: dropping them shows
    verdict = verify_dossier(stripped)
    assert not verdict.ok and "altered after signing" in (verdict.problem or "")


async def test_a_bundle_carries_the_files_and_each_is_hashed(
    api: Api, settings: Settings, tmp_path: Path, capsys: object
) -> None:
    d, uploaded = await filed_with_materials(api)
    dossier = dossier_of(settings, d)
    path = tmp_path / "dossier.zip"
    with path.open("wb") as out:
        assert write_bundle(dossier, open_objects(settings), out) == 3
    verdict = verify_bundle(str(path))
    assert verdict.ok and verdict.files_checked == 3
    assert main([str(path)]) == 0
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == f"materials/{uploaded[2]['sha256']}":
                data = data[:-1] + b"\x00"
            target.writestr(name, data)
    verdict = verify_bundle(str(tampered))
    assert not verdict.ok and "does not hash" in (verdict.problem or "")
    assert main([str(tampered)]) == 1


async def test_the_console_exports_the_bundle(api: Api, settings: Settings) -> None:
    from api.auth import mint_token
    from api.console.auth import COOKIE

    d, _ = await filed_with_materials(api)
    api.http.cookies.set(COOKIE, mint_token(settings, "auditor-1", "auditor", ""))
    response = await api.http.get(
        f"/console/audit/declarations/{d}/dossier", params={"files": "true"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert "dossier.json" in bundle.namelist()
        assert len([n for n in bundle.namelist() if n.startswith("materials/")]) == 3
