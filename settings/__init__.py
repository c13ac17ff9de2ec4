"""The one Settings object, below the API, the worker and the store; :mod:`settings.logs` turns
its log level and format into the process's structlog configuration."""

from __future__ import annotations

import gc
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE = Path("var") / "reviewchain.sqlite3"
#: The development secret: public (it is in this file), so production refuses it.
DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"
#: Shortest HS256 secret production accepts (RFC 7518 §3.2: at least the hash's 256 bits).
MIN_SECRET_BYTES = 32
#: Where a development process keeps the audit signing key it generated (store/signing.py).
DEV_SIGNING_KEY_FILE = Path("var") / "audit-signing-key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEWCHAIN_", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{DEFAULT_SQLITE.as_posix()}")
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "review-chain"
    #: ``production`` refuses to start on weak or missing secrets (:func:`startup_problems`).
    env: Literal["development", "production"] = "development"
    #: HS256 tokens (the CLI mints them); empty: HS256 is off (tokens of ``jwks_url`` only).
    jwt_secret: str = DEV_JWT_SECRET
    #: An identity provider's published keys (Keycloak: …/protocol/openid-connect/certs):
    #: RS256/ES256 tokens checked against them, ``jwt_issuer`` and ``jwt_audience``.
    jwks_url: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    #: Longest lifetime a token may have (``exp`` minus ``iat``, or minus now): seconds or
    #: ISO 8601 (``PT12H``).
    jwt_max_lifetime: timedelta = timedelta(hours=12)
    #: Temporal payload encryption (gateway/codec.py): ``id:base64-key`` entries separated by
    #: commas, 32-byte AES keys; the first encrypts, all decrypt. Empty: payloads in clear.
    payload_keys: str = ""
    #: Also decode unencrypted payloads: only while workflows started before ``payload_keys``
    #: was set still run (their histories hold plaintext); while on, anyone who reaches Temporal
    #: can send commands.
    payload_accept_plaintext: bool = False
    #: Origins (comma-separated) whose browser may call ``/codec/*`` (the Temporal UI's).
    codec_cors_origins: str = ""
    #: The audit signing key (Ed25519, base64 of the 32-byte seed; ``cli.py keys signing``).
    #: Empty: development generates one in :data:`DEV_SIGNING_KEY_FILE`; production refuses.
    signing_key: str = ""
    signing_key_file: str = DEV_SIGNING_KEY_FILE.as_posix()
    #: Public keys (base64, comma-separated) of earlier signing keys, still trusted when
    #: verifying checkpoints and dossiers they signed.
    signing_previous_public_keys: str = ""
    #: The console's own origin (``https://review.example.cn``) for its form posts' Origin
    #: check; empty: the origin the request was addressed to.
    public_origin: str = ""
    #: Repeated refusals of one caller on one target within this many seconds are audited
    #: once, with a count (api/refusals.py).
    refusal_window_seconds: float = Field(default=60.0, ge=0)
    timezone: str = "Asia/Shanghai"
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    log_level: str = "INFO"
    #: Worker tuning (issue: run it like production).
    max_concurrent_activities: int = 100
    max_concurrent_workflow_tasks: int = 100
    max_cached_workflows: int = 1000
    graceful_shutdown_seconds: float = 30.0
    #: Where this process's Temporal SDK serves its Prometheus metrics (e.g. 127.0.0.1:9464);
    #: empty turns them off. The API's /metrics includes them.
    sdk_metrics_bind_address: str = ""
    #: Largest request body the API reads (api/limits.py); larger ones answer 413.
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    #: Garbage collector of the worker and API processes (:func:`tune_gc`): objects allocated
    #: between two young collections; 0 keeps Python's defaults.
    gc_young_threshold: int = Field(default=10_000, ge=0)
    #: Where uploaded materials are kept (docs/rules.md §19): ``file:./var/materials`` (a
    #: directory) or ``s3://bucket`` (an S3-compatible object store, e.g. MinIO, at
    #: ``s3_endpoint``). Objects are named by their SHA-256; the database keeps the metadata.
    storage_url: str = "file:./var/materials"
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = "us-east-1"
    #: Where an upload is spooled while it is hashed and checked, before it is committed
    #: (empty: ``.incoming`` inside a ``file:`` store, the system's temporary directory for S3).
    upload_spool_dir: str = ""

    #: Reminders and notifications leave the outbox (docs/rules.md §3) by e-mail over SMTP:
    #: ``smtp://host:port`` (plain), ``smtp+starttls://host:587`` or ``smtps://host:465``, with
    #: ``user:password@`` when the relay asks for a login. Empty: no e-mail.
    smtp_url: str = ""
    smtp_from: str = "职称评审系统 Review Chain <noreply@reviewchain.localhost>"
    #: …and by webhook: every notification POSTed as JSON to this URL (a 政务 messaging gateway,
    #: a WeCom or DingTalk group bot), signed with HMAC-SHA256 of the body under ``webhook_secret``
    #: in ``X-ReviewChain-Signature``. Empty: no webhook.
    webhook_url: str = ""
    webhook_secret: str = ""
    #: A delivery that failed this many times is dead-lettered (shown to the committee, which
    #: may send it again); between attempts the sender waits ``delivery_backoff_seconds``,
    #: doubling each time up to ``delivery_backoff_max_seconds`` (on Temporal's clock).
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_backoff_seconds: float = Field(default=60.0, gt=0)
    delivery_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    #: Deliveries claimed per activity, and connections (SMTP) or requests (webhook) at once.
    delivery_batch_size: int = Field(default=500, ge=1, le=5000)
    delivery_concurrency: int = Field(default=8, ge=1, le=100)
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    #: How often (wall clock) each worker looks in the outbox for due notifications it was not
    #: told about (written by a process that died before it woke the sender).
    outbox_poll_seconds: float = Field(default=60.0, gt=0)
    #: The console's public address, for the link in each message (empty: ``public_origin``;
    #: both empty: no link).
    console_url: str = ""
    #: Development only: the Maildir the local mail sink writes to (``python3 dev.py run``),
    #: listed at ``/console/dev/mail``. Never set in production.
    dev_mailbox: str = ""

    @property
    def delivers_outbox(self) -> bool:
        """Whether any channel is configured: only then does the worker run the sender."""
        return bool(self.smtp_url or self.webhook_url)

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError(
                "REVIEWCHAIN_WEBHOOK_URL needs REVIEWCHAIN_WEBHOOK_SECRET: every webhook is "
                "signed (X-ReviewChain-Signature)"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


class UnsafeSettings(RuntimeError):
    """The process refuses to start: its settings would let anyone in (see the message)."""


def identity_problems(settings: Settings) -> list[str]:
    """What is wrong with how callers are identified: errors in production, warnings otherwise."""
    problems = []
    secret = settings.jwt_secret.encode("utf-8")
    if not secret and not settings.jwks_url:
        problems.append(
            "REVIEWCHAIN_JWT_SECRET is empty and REVIEWCHAIN_JWKS_URL is not set: no token "
            "could ever be checked"
        )
    elif secret and settings.jwt_secret == DEV_JWT_SECRET:
        problems.append(
            "REVIEWCHAIN_JWT_SECRET is the public development secret: anyone can mint tokens"
        )
    elif secret and len(secret) < MIN_SECRET_BYTES:
        problems.append(
            f"REVIEWCHAIN_JWT_SECRET is {len(secret)} bytes; at least {MIN_SECRET_BYTES} random "
            "bytes are needed (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if settings.jwks_url and not (settings.jwt_issuer and settings.jwt_audience):
        problems.append(
            "REVIEWCHAIN_JWKS_URL needs REVIEWCHAIN_JWT_ISSUER and REVIEWCHAIN_JWT_AUDIENCE: "
            "without them a token the provider issued for another application is accepted"
        )
    return problems


def startup_problems(settings: Settings, *, identity: bool = True) -> list[str]:
    """Why this process must not start in production (empty: it may); ``identity``: include
    how callers are identified (the API; the worker checks no token)."""
    problems = identity_problems(settings) if identity else []
    if not settings.payload_keys:
        problems.append(
            "REVIEWCHAIN_PAYLOAD_KEYS is not set: Temporal payloads (ID numbers, decisions) are "
            "stored in clear and anyone who reaches Temporal can send commands as anyone "
            "(python cli.py keys payload)"
        )
    if not settings.signing_key:
        problems.append(
            "REVIEWCHAIN_SIGNING_KEY is not set: the audit checkpoints and dossiers would be "
            "signed with a key generated on this machine (python cli.py keys signing)"
        )
    if settings.dev_mailbox:
        problems.append(
            "REVIEWCHAIN_DEV_MAILBOX is set: the console would list every mail the development "
            "sink received to anyone signed in"
        )
    return problems


def tune_gc(settings: Settings) -> None:
    """Once a long-running process has started: freeze what start-up allocated (modules,
    schemas, the SDK's tables) so that no collection scans it again, and collect young objects
    less often. With Python's defaults, the worker's full collections walked every object it
    ever made and paused it for up to 150 ms under load (bench/RESULTS.md §4). The older
    generations keep Python's multipliers: making them rarer too let the cyclic garbage of
    evicted workflows (each a sandbox with its own module copies) grow the worker to 3 GB with
    20,000 open declarations."""
    if settings.gc_young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(settings.gc_young_threshold, 10, 10)


def check_startup(settings: Settings, *, identity: bool = True) -> list[str]:
    """Refuse to start (:class:`UnsafeSettings`, naming every problem) in production on any of
    :func:`startup_problems`, and anywhere on an identity no token could pass; otherwise return
    the problems for the caller to log as warnings. The API and the worker call it when they
    are built, so a bad setting stops the process at start, not at its first request."""
    problems = startup_problems(settings, identity=identity)
    fatal = [p for p in problems if "no token could ever be checked" in p]
    if settings.env == "production":
        fatal = problems
    if fatal:
        raise UnsafeSettings(
            f"refusing to start (REVIEWCHAIN_ENV={settings.env}): " + "; ".join(fatal)
        )
    return problems
