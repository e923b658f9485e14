"""The control library's error hierarchy: what campaign operations, KV stores and NATS connections raise."""


class ControlError(Exception):
    """Base of every error the control library raises on purpose."""


class NatsUnreachable(ControlError):
    """No NATS server of the configured URLs answered (or it refused the credentials or TLS).

    The message is one line for a person: the URLs, what happened, what to check."""


class BootstrapError(ControlError):
    """The JetStream layout could not be declared."""


class PublishError(ControlError):
    """JetStream did not store a message."""


class SpecError(ControlError):
    """A campaign spec is invalid: the message names the file, the field path and the problem."""


class StateConflict(ControlError):
    """A compare-and-set on the state store kept losing to other writers."""


class CampaignNotFound(ControlError):
    """No campaign with this id was ever submitted."""


class AuthDirError(ControlError):
    """The NATS credentials directory is missing, malformed, or refuses the change (a runner that
    already exists, one that does not)."""
