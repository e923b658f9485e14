"""Scheduler settings, from LLEM_* environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from llem_control.connection import NatsSettings
from llem_schemas.subjects import Layout


class SchedulerSettings(NatsSettings):
    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    prefix: str = "llem"
    # The JetStream layout the scheduler declares (it is its one owner); runners read what it declared.
    job_ack_wait_s: float = Field(default=60.0, gt=0)
    job_max_deliver: int = Field(default=5, ge=1, description="Deliveries of a job before it ends failed.")
    runner_ttl_s: float = Field(
        default=20.0, gt=0, description="A runner is gone this long after its last beat."
    )
    no_runner_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="Unfinished jobs of a pool fail when no runner of it was alive this long.",
    )
    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Copies of each stream and bucket: 1 on one server, 3 on a cluster.",
    )
    sweep_interval_s: float = Field(
        default=2.0, gt=0, description="How often liveness and progress are checked."
    )

    def layout(self) -> Layout:
        return Layout(
            self.prefix,
            job_ack_wait_s=self.job_ack_wait_s,
            job_max_deliver=self.job_max_deliver,
            runner_ttl_s=self.runner_ttl_s,
            replicas=self.stream_replicas,
        )
