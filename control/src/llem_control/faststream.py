"""The same NATS settings for the services built on FastStream (scheduler, ingest, runner).

FastStream takes authentication as one `security` object (its plain keyword arguments are
deprecated); this maps `NatsSettings` onto it, so a broker and `connect()` reach the same server
the same way. Needs the `faststream` extra of llem-control.
"""

from __future__ import annotations

from typing import Any

from faststream.nats.security import (
    NatsCredentials,
    NatsNKey,
    NatsSecurity,
    NatsToken,
    NatsUserPassword,
)

from llem_control.connection import NatsSettings


def broker_security(settings: NatsSettings) -> NatsSecurity | None:
    context = settings.ssl_context()
    if settings.nats_creds:
        return NatsCredentials.from_file(settings.nats_creds, ssl_context=context)
    if settings.nats_nkey_seed:
        return NatsNKey.from_file(settings.nats_nkey_seed, ssl_context=context)
    if settings.nats_token:
        return NatsToken(settings.nats_token.get_secret_value(), ssl_context=context)
    if settings.nats_user and settings.nats_password:
        return NatsUserPassword(
            settings.nats_user, settings.nats_password.get_secret_value(), ssl_context=context
        )
    return NatsSecurity(ssl_context=context) if context is not None else None


def broker_options(settings: NatsSettings, *, name: str) -> dict[str, Any]:
    """Keyword arguments for `NatsBroker`: servers, name, security, inbox prefix."""
    options: dict[str, Any] = {
        "servers": settings.servers(),
        "name": settings.nats_name or name,
        "security": broker_security(settings),
    }
    if settings.nats_inbox_prefix:
        options["inbox_prefix"] = settings.nats_inbox_prefix
    return options
