"""API settings, from LLEM_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llem_control.connection import NatsSettings


class ApiSettings(NatsSettings):
    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    database_url: str = "postgresql://llem@127.0.0.1:5432/llem"
    prefix: str = "llem"
    # the scheduler's own setting (same variable): runners in the fleet view are gone this long after a beat
    runner_ttl_s: float = Field(
        default=20.0, gt=0, description="A runner is gone this long after its last beat."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; empty: none.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest request body accepted.")
    write_rate_per_minute: int = Field(default=60, ge=1, description="Writes per client and minute.")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    db_pool_max_size: int = Field(default=10, ge=1)
    export_dir: Path | None = Field(
        default=None,
        description="Serve this directory (a `llem export` output) at /export/, as static files.",
    )
    web_dir: Path | None = Field(
        default=None,
        description="Serve this built web app (web/dist) at /, client-side routes falling back to index.html.",
    )
    gzip_minimum_bytes: int = Field(default=500, ge=1, description="Smallest body that is gzip-compressed.")
    leaderboard_cache_entries: int = Field(
        default=256,
        ge=0,
        description="Leaderboard answers kept until the runs table changes (by filters and constraints); 0: off.",
    )
