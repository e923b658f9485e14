"""The runner's error hierarchy. `retryable` tells the scheduler whether another attempt may help."""

from __future__ import annotations


class RunnerError(Exception):
    retryable = False


class JobRejected(RunnerError):
    """The job cannot run on this runner as specified (bad config, missing model file)."""


class BackendError(RunnerError):
    """The inference backend failed to load or to answer."""

    retryable = True


class BackendUnavailable(RunnerError):
    """The backend needs a package or hardware this runner does not have."""


class MeterError(RunnerError):
    """The energy meter failed while measuring."""

    retryable = True


class RunCancelled(RunnerError):
    """The run was stopped on request."""
