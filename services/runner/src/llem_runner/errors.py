"""The runner's error hierarchy, every error it raises on purpose.

`retryable` tells the scheduler whether another attempt may help; `kind` is the `failure_kind` a
`run.failed` event carries, the contract the scheduler branches on (never the class name)."""

from __future__ import annotations

from llem_schemas.events import FailureKind


class RunnerError(Exception):
    retryable = False
    kind: FailureKind = "unexpected"


class JobRejected(RunnerError):
    """The job cannot run on this runner as specified (bad config, missing model file)."""

    kind = "job_rejected"


class BackendError(RunnerError):
    """The inference backend failed to load or to answer."""

    retryable = True
    kind = "backend_error"


class BackendUnavailable(RunnerError):
    """The backend needs a package or hardware this runner does not have."""

    kind = "backend_unavailable"


class MeterError(RunnerError):
    """The energy meter failed while measuring."""

    retryable = True
    kind = "meter_error"


class ServerStartError(BackendError):
    """The managed server exited or never became healthy. Retryable, like any BackendError."""

    def __init__(self, message: str, exit_code: int | None, log_tail: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.log_tail = log_tail


class RunCancelled(RunnerError):
    """The run was stopped on request."""

    kind = "cancelled"


class Superseded(RunnerError):
    """A newer attempt of this job owns it now; this run's results must not count."""

    kind = "superseded"


class Cancelled(RunnerError):
    """The scheduler cancelled the job (its campaign was cancelled)."""

    kind = "cancelled"


class ShuttingDown(RunnerError):
    """The runner was asked to stop before the job finished; the job goes back to the queue."""

    retryable = True
    kind = "shutting_down"
