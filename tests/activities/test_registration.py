"""Every activity is registered under the name the workflow calls, with its retry options."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import cast

from temporalio import activity
from temporalio.client import Client

from activities import LOCAL_OPTIONS, NON_RETRYABLE, REMOTE_OPTIONS, all_activities
from store.db import Store


def test_all_activities_are_async_and_named_as_the_retry_options(tmp_path: Path) -> None:
    db = Store(f"sqlite:///{(tmp_path / 'rc.sqlite3').as_posix()}")
    client = cast(Client, object())  # only held by the activities that send updates
    try:
        registered = all_activities(db, client)
    finally:
        db.dispose()
    names = []
    for fn in registered:
        definition = activity._Definition.from_callable(fn)
        assert definition is not None and definition.name is not None
        assert inspect.iscoroutinefunction(fn), f"{definition.name} must not need an executor"
        names.append(definition.name)
    assert sorted(names) == sorted(NON_RETRYABLE)
    assert set(REMOTE_OPTIONS) | set(LOCAL_OPTIONS) <= set(names)
    for options in (*REMOTE_OPTIONS.values(), *LOCAL_OPTIONS.values()):
        assert options["start_to_close_timeout"].total_seconds() > 0
