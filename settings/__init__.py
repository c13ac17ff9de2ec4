"""The one Settings object, below the API, the worker and the store; :mod:`settings.logs` turns
its log level and format into the process's structlog configuration."""

from __future__ import annotations

import gc
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE = Path("var") / "reviewchain.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVIEWCHAIN_", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{DEFAULT_SQLITE.as_posix()}")
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "review-chain"
    jwt_secret: str = "dev-only-secret-change-me-0123456789abcdef"
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


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
