"""Ingest settings, from LLEM_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    nats_url: str = "nats://127.0.0.1:4222"
    nats_creds: str | None = None
    prefix: str = "llem"
    database_url: str = "postgresql://llem@127.0.0.1:5432/llem"
    batch_size: int = Field(default=500, ge=1, le=10_000)
    batch_timeout_s: float = Field(default=0.25, gt=0, description="Flush at least this often.")
