"""Runner settings, read once at the entry point from LLEM_* environment variables."""

from __future__ import annotations

import socket

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from llem_schemas.jobs import SUBJECT_TOKEN


def _default_runner_id() -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:64] or "runner"


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    nats_url: str = "nats://127.0.0.1:4222"
    nats_creds: str | None = Field(default=None, description="Path of a NATS credentials file.")
    prefix: str = "llem"
    runner_id: str = Field(default_factory=_default_runner_id, pattern=SUBJECT_TOKEN)
    pools: list[str] = Field(default_factory=lambda: ["default"])
    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    in_progress_interval_s: float = Field(
        default=10.0, gt=0, description="How often a running job's AckWait is reset (must be < AckWait)."
    )
    reconnect_wait_s: int = 2
    model_dir: str | None = Field(default=None, description="Relative GGUF paths in jobs resolve here.")
