"""Runner settings, read once at the entry point from LLEM_* environment variables (CLI flags override)."""

from __future__ import annotations

import socket
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from llem_control.connection import NatsSettings
from llem_schemas.jobs import SUBJECT_TOKEN


def _default_runner_id() -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname())[:64] or "runner"


class RunnerSettings(NatsSettings):
    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    prefix: str = "llem"
    runner_id: str = Field(default_factory=_default_runner_id, pattern=SUBJECT_TOKEN)
    pools: list[str] = Field(default_factory=lambda: ["default"])
    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    in_progress_interval_s: float = Field(
        default=10.0, gt=0, description="Upper bound; the runner also keeps it under a third of AckWait."
    )
    reconnect_wait_s: int = Field(default=2, ge=1)
    shutdown_grace_s: float = Field(
        default=30.0, ge=0, description="On SIGTERM, time to finish the current job."
    )
    model_dir: str | None = Field(default=None, description="Relative GGUF paths in jobs resolve here.")
    state_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "llem",
        description="Idle-baseline cache, model hashes and the metric spool.",
    )
    spool_max_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)

    @model_validator(mode="after")
    def _private_inbox(self) -> RunnerSettings:
        """Replies to this runner come to `_INBOX_<runner_id>.>`, the one inbox its credentials may
        subscribe to (`llem runner add` scopes it so); LLEM_NATS_INBOX_PREFIX overrides."""
        if self.nats_inbox_prefix is None:
            self.nats_inbox_prefix = f"_INBOX_{self.runner_id}"
        return self
