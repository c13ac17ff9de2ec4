"""The object store and the database never disagree (docs/rules.md §19), on a directory and on
S3: objects are content-addressed and written once; an upload whose database write fails after
its object was committed leaves no visible material, and its retry succeeds; the sweep removes
only objects no row names."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.materials import intake as api_materials
from settings import Settings
from store.db import Store
from store.materials import records
from store.materials.objects import open_objects
from store.materials.records import referenced_hashes, sweep_orphans
from testing import factories as f
from testing import samples
from testing.api import Api
from tests.materials.helpers import (
    campaign,
    listing,
    material_rows,
    spooled,
    stored_objects,
    upload,
)

PDF = samples.pdf("对象存储 object store")


def test_objects_are_content_addressed_and_written_once(settings: Settings) -> None:
    objects = open_objects(settings)
    spool = objects.spool()
    for start in range(0, len(PDF), 100):
        spool.write(PDF[start : start + 100])
    sha = spool.finish()
    assert sha == hashlib.sha256(PDF).hexdigest() and spool.size == len(PDF)
    assert spool.head.startswith(b"%PDF-") and spool.tail.endswith(PDF[-20:])
    assert objects.put(sha, spool.path) is True
    assert not spool.path.exists()
    again = objects.spool()
    again.write(PDF)
    assert objects.put(again.finish(), again.path) is False  # the same bytes: nothing new
    assert b"".join(objects.read(sha, chunk=1000)) == PDF
    assert [name for name, _ in objects.objects()] == [sha]
    with pytest.raises(KeyError):
        list(objects.read("0" * 64))
    with pytest.raises(ValueError):
        objects.exists("../../etc/passwd")
    objects.delete(sha)
    assert not objects.exists(sha)


def test_a_discarded_spool_leaves_nothing(settings: Settings) -> None:
    objects = open_objects(settings)
    spool = objects.spool()
    spool.write(b"%PDF-1.4 half an upload")
    spool.discard()
    assert spooled(settings) == [] and stored_objects(settings) == []


async def test_a_database_failure_after_the_object_is_committed_leaves_nothing_visible(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash between the two writes: the object is in the store, its row is not; no list shows
    it, no audit event names it; the retry records it (the object is not written twice); the
    sweep would remove the object only while no row names it."""
    d = await api.file(await campaign(api))
    original = records.record_upload

    def crash_after_commit(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)  # rows, audit event and the object's commit, then:
        raise RuntimeError("the database connection dropped before COMMIT")

    monkeypatch.setattr(api_materials, "record_upload", crash_after_commit)
    with pytest.raises(RuntimeError):
        await upload(api, d, f.APPLICANT, "degree", PDF, expect=None)
    sha = hashlib.sha256(PDF).hexdigest()
    assert material_rows(settings, d) == []
    assert (await listing(api, d))["items"] == []
    assert (await api.get(f"/declarations/{d}/materials/history", f.ADMIN))["events"] == []
    assert stored_objects(settings) == [sha]  # an orphan: named by no row
    assert spooled(settings) == []
    monkeypatch.setattr(api_materials, "record_upload", original)
    retried = (await upload(api, d, f.APPLICANT, "degree", PDF)).json()
    assert retried["sha256"] == sha and len(material_rows(settings, d)) == 1
    store = Store(settings.database_url)
    try:

        def referenced(hashes: Any) -> set[str]:
            with store.session(readonly=True) as session:
                return referenced_hashes(session, hashes)

        now = datetime.now(UTC) + timedelta(days=2)
        swept = sweep_orphans(referenced, open_objects(settings), now=now)
        assert swept.orphans == [] and stored_objects(settings) == [sha]
    finally:
        store.dispose()


async def test_a_database_failure_before_the_commit_writes_no_object(
    api: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = await api.file(await campaign(api))

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(api_materials, "record_upload", fail)
    with pytest.raises(RuntimeError):
        await upload(api, d, f.APPLICANT, "degree", PDF, expect=None)
    assert material_rows(settings, d) == [] and stored_objects(settings) == []
    assert spooled(settings) == []


def test_the_sweep_removes_old_orphans_only(settings: Settings) -> None:
    objects = open_objects(settings)
    hashes = []
    for text in ("kept", "orphan"):
        spool = objects.spool()
        spool.write(samples.pdf(text))
        sha = spool.finish()
        objects.put(sha, spool.path)
        hashes.append(sha)
    kept, orphan = hashes
    stale = objects.spool()
    stale.write(b"%PDF-1.4 an upload that never finished")

    def referenced(batch: Any) -> set[str]:
        return {kept} & set(batch)

    young = sweep_orphans(referenced, objects, now=datetime.now(UTC))
    assert young.orphans == [] and young.spools == 0  # younger than the grace period
    later = datetime.now(UTC) + timedelta(days=2)
    dry = sweep_orphans(referenced, objects, now=later, dry_run=True)
    assert dry.orphans == [orphan] and sorted(stored_objects(settings)) == sorted(hashes)
    swept = sweep_orphans(referenced, objects, now=later)
    assert swept.orphans == [orphan] and swept.spools == 1
    assert stored_objects(settings) == [kept]
