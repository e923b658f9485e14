"""llem event contract: pydantic models, subjects and stream definitions. No framework imports."""

from llem_schemas.base import SCHEMA_VERSION, Event, Model
from llem_schemas.events import (
    EVENT_TYPES,
    AnyEvent,
    CampaignCancelled,
    CampaignSubmitted,
    JobQueued,
    MetricBatch,
    RunCompleted,
    RunFailed,
    RunnerHeartbeat,
    RunStarted,
    encode_event,
    parse_event,
)
from llem_schemas.jobs import JobSpec, LlamaCppBackend, MeasurementProtocol, OpenAICompatibleBackend, Workload
from llem_schemas.measurement import (
    GpuInfo,
    HostFingerprint,
    LatencyStats,
    Measurement,
    MetricSample,
    QualityFlag,
    QualityFlagCode,
    RunSummary,
)
from llem_schemas.subjects import ConsumerSpec, Layout, StreamSpec

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "AnyEvent",
    "CampaignCancelled",
    "CampaignSubmitted",
    "ConsumerSpec",
    "Event",
    "GpuInfo",
    "HostFingerprint",
    "JobQueued",
    "JobSpec",
    "LatencyStats",
    "Layout",
    "LlamaCppBackend",
    "Measurement",
    "MeasurementProtocol",
    "MetricBatch",
    "MetricSample",
    "Model",
    "OpenAICompatibleBackend",
    "QualityFlag",
    "QualityFlagCode",
    "RunCompleted",
    "RunFailed",
    "RunStarted",
    "RunSummary",
    "RunnerHeartbeat",
    "StreamSpec",
    "Workload",
    "encode_event",
    "parse_event",
]
