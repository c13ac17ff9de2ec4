"""The production compose file and image (issue: run it like production). No Docker engine runs
here, so the file is checked as data: every service's command, environment names against
Settings, ports, healthchecks, start order and secrets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = {"postgresql", "temporal", "temporal-ui", "minio", "migrate", "api", "worker", "mailpit"}
#: Services that run once and exit (no healthcheck; others wait for them to complete).
ONE_SHOT = {"migrate"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == SERVICES


def test_images_are_pinned_and_temporal_is_official(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        if "image" in service:
            image = service["image"]
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{name}: {image} is not pinned"
            assert not image.endswith(":latest"), f"{name} uses latest"
    assert services(compose)["temporal"]["image"].startswith("temporalio/")
    assert services(compose)["temporal-ui"]["image"].startswith("temporalio/")
    for built in ("api", "worker", "migrate"):
        assert services(compose)[built]["build"] == "."


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    for name, service in services(compose).items():
        if name not in ONE_SHOT:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES
            wanted = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert condition == {"condition": wanted}, name
    needs = {"postgresql", "temporal", "migrate"}
    assert set(services(compose)["api"]["depends_on"]) == {*needs, "minio"}
    assert set(services(compose)["worker"]["depends_on"]) == needs
    assert services(compose)["temporal"]["depends_on"] == {
        "postgresql": {"condition": "service_healthy"}
    }


def test_the_temporal_server_runs_on_the_postgresql_service(compose: dict[str, Any]) -> None:
    env = services(compose)["temporal"]["environment"]
    assert env["DB"].startswith("postgres") and env["POSTGRES_SEEDS"] == "postgresql"


def test_environment_names_are_settings_fields(compose: dict[str, Any]) -> None:
    fields = {f"REVIEWCHAIN_{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "worker"):
        env = services(compose)[name]["environment"]
        assert env, name
        unknown = set(env) - fields
        assert not unknown, f"{name}: {unknown} are not Settings fields"
        assert {"REVIEWCHAIN_DATABASE_URL", "REVIEWCHAIN_TEMPORAL_ADDRESS",
                "REVIEWCHAIN_JWT_SECRET"} <= set(env)  # fmt: skip
        assert env["REVIEWCHAIN_DATABASE_URL"].startswith("postgresql://")
        assert env["REVIEWCHAIN_TEMPORAL_ADDRESS"] == "temporal:7233"


def test_required_secrets_fail_loudly_when_missing() -> None:
    text = COMPOSE.read_text()
    for secret in (
        "POSTGRES_PASSWORD",
        "REVIEWCHAIN_DB_OWNER_PASSWORD",
        "REVIEWCHAIN_DB_APP_PASSWORD",
        "TEMPORAL_DB_PASSWORD",
        "REVIEWCHAIN_JWT_SECRET",
        "REVIEWCHAIN_PAYLOAD_KEYS",
        "REVIEWCHAIN_SIGNING_KEY",
        "MINIO_ROOT_PASSWORD",
    ):
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses, f"{secret} is not used"
        assert all(use.startswith(":?") for use in uses), f"{secret} must be written ${{VAR:?}}"


def test_commands_ports_and_worker_shutdown(compose: dict[str, Any]) -> None:
    api, worker = services(compose)["api"], services(compose)["worker"]
    assert "api.app:create_app" in api["command"] and "--factory" in api["command"]
    assert "8000:8000" in api["ports"]
    assert worker["command"] == ["python", "worker.py"]
    assert worker["deploy"]["replicas"] >= 2
    grace = int(str(worker["stop_grace_period"]).rstrip("s"))
    assert grace > Settings().graceful_shutdown_seconds, "SIGKILL would cut the graceful drain"
    assert "ports" not in services(compose)["temporal"]


def test_the_image_carries_every_package_and_module() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = [p.rstrip("*") for p in config["packages"]["find"]["include"]]
    for package in packages:
        assert re.search(rf"^COPY {package} ", dockerfile, re.M), f"the image lacks {package}/"
    for module in config["py-modules"]:
        assert f"{module}.py" in dockerfile, f"the image lacks {module}.py"


def test_materials_go_to_the_minio_service(compose: dict[str, Any]) -> None:
    """docs/rules.md §19: the API keeps uploads in MinIO, which has its own healthcheck and
    volume; the API waits until it is healthy."""
    minio = services(compose)["minio"]
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert any(str(v).startswith("materials:") for v in minio["volumes"])
    env = services(compose)["api"]["environment"]
    assert env["REVIEWCHAIN_STORAGE_URL"].startswith("s3://")
    assert env["REVIEWCHAIN_S3_ENDPOINT"] == "http://minio:9000"


def test_workers_send_reminders_to_the_mail_catcher(compose: dict[str, Any]) -> None:
    """Reminders (docs/rules.md §3) leave by SMTP: every worker sends to the Mailpit service,
    whose SMTP port is the one the URL names and whose web UI is published."""
    env = services(compose)["worker"]["environment"]
    assert env["REVIEWCHAIN_SMTP_URL"] == "${REVIEWCHAIN_SMTP_URL:-smtp://mailpit:1025}"
    assert env["REVIEWCHAIN_SMTP_FROM"]
    mailpit = services(compose)["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert mailpit["ports"] == ["127.0.0.1:8025:8025"]  # the mails name people: loopback only
    assert set(mailpit["networks"]) >= set(services(compose)["worker"]["networks"]) & {"backend"}
    assert "readyz" in " ".join(mailpit["healthcheck"]["test"])
