"""The scheduler's error hierarchy."""


class SchedulerError(Exception):
    """Base of every error the scheduler raises on purpose."""


class BootstrapError(SchedulerError):
    """The JetStream layout could not be declared."""


class PublishError(SchedulerError):
    """JetStream did not store a message."""


class SpecError(SchedulerError):
    """A campaign spec is invalid: the message names the file, the field path and the problem."""


class StateConflict(SchedulerError):
    """A compare-and-set on the state store kept losing to other writers."""


class CampaignNotFound(SchedulerError):
    """No campaign with this id was ever submitted."""
