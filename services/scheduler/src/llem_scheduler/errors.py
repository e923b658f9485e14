"""The scheduler's error hierarchy."""


class SchedulerError(Exception):
    """Base of every error the scheduler raises on purpose."""


class BootstrapError(SchedulerError):
    """The JetStream layout could not be declared."""


class PublishError(SchedulerError):
    """JetStream did not store a message."""
