"""Scheduler settings, from LLEM_* environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class SchedulerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    nats_url: str = "nats://127.0.0.1:4222"
    nats_creds: str | None = None
    prefix: str = "llem"
