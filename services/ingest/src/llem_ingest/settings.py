"""Ingest settings, from LLEM_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llem_control.connection import NatsSettings


class IngestSettings(NatsSettings):
    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    prefix: str = "llem"
    database_url: str = "postgresql://llem@127.0.0.1:5432/llem"
    batch_size: int = Field(default=500, ge=1, le=10_000)
    batch_timeout_s: float = Field(default=0.1, gt=0, le=0.25, description="Flush at least this often.")
    writers: int = Field(default=2, ge=1, le=16, description="Batches decoded and written concurrently.")
    pipeline_depth: int = Field(default=2, ge=1, le=64, description="Fetched batches waiting for a writer.")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, description="Prometheus /metrics port.")
    retention_days: float | None = Field(
        default=None, gt=0, description="Drop raw metric samples older than this; null: keep them all."
    )
    retention_interval_s: float = Field(default=3600, gt=0, description="How often retention runs.")
