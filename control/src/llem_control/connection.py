"""One way to reach NATS for every process: settings from `LLEM_NATS_*`, one `connect()`.

Every service's settings class inherits `NatsSettings`, so the runner, the scheduler, ingest, the API
and the `llem` CLI accept the same variables (and, through `llem_control.options`, the same flags).
Connection failures are translated here, once, into `NatsUnreachable`: one line that names the URLs,
what went wrong and what to check, never a traceback.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.errors import NoServersError
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from llem_control.errors import NatsUnreachable

FIRST_RETRY_WAIT_S = 0.2


class NatsSettings(BaseSettings):
    """How to reach NATS (one authentication method at most; TLS when a CA or a tls:// URL is given)."""

    model_config = SettingsConfigDict(env_prefix="LLEM_", extra="ignore")

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="One or more server URLs, comma-separated: nats:// or tls://.",
    )
    nats_creds: str | None = Field(default=None, description="A .creds file (user JWT + nkey seed).")
    nats_nkey_seed: str | None = Field(default=None, description="An nkey seed file.")
    nats_token: SecretStr | None = Field(default=None, description="An authentication token.")
    nats_user: str | None = Field(default=None, description="User name (with LLEM_NATS_PASSWORD).")
    nats_password: SecretStr | None = Field(default=None, description="Password of LLEM_NATS_USER.")
    nats_tls_ca: str | None = Field(default=None, description="CA bundle that signs the server certificate.")
    nats_tls_cert: str | None = Field(default=None, description="Client certificate (mutual TLS).")
    nats_tls_key: str | None = Field(default=None, description="Private key of the client certificate.")
    nats_inbox_prefix: str | None = Field(
        default=None, description="Private inbox prefix (when permissions scope replies)."
    )
    nats_name: str | None = Field(default=None, description="Connection name shown by the server.")

    @model_validator(mode="after")
    def _one_method(self) -> NatsSettings:
        methods = [
            name
            for name, value in (
                ("creds", self.nats_creds),
                ("nkey seed", self.nats_nkey_seed),
                ("token", self.nats_token),
                ("user/password", self.nats_user or self.nats_password),
            )
            if value
        ]
        if len(methods) > 1:
            raise ValueError(f"NATS: give one authentication method, not {' and '.join(methods)}")
        if bool(self.nats_user) != bool(self.nats_password):
            raise ValueError("NATS: a user needs a password (LLEM_NATS_USER with LLEM_NATS_PASSWORD)")
        if bool(self.nats_tls_cert) != bool(self.nats_tls_key):
            raise ValueError("NATS: a client certificate needs its key (LLEM_NATS_TLS_CERT with _KEY)")
        if not self.servers():
            raise ValueError("NATS: no server URL")
        return self

    def servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    def uses_tls(self) -> bool:
        return bool(self.nats_tls_ca or self.nats_tls_cert) or any(
            url.startswith("tls://") for url in self.servers()
        )

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_tls():
            return None
        context = ssl.create_default_context(cafile=self.nats_tls_ca)
        if self.nats_tls_cert and self.nats_tls_key:
            context.load_cert_chain(self.nats_tls_cert, self.nats_tls_key)
        return context

    def auth_options(self) -> dict[str, Any]:
        """The nats-py keyword arguments of the one authentication method (empty for none)."""
        if self.nats_creds:
            return {"user_credentials": self.nats_creds}
        if self.nats_nkey_seed:
            return {"nkeys_seed": self.nats_nkey_seed}
        if self.nats_token:
            return {"token": self.nats_token.get_secret_value()}
        if self.nats_user and self.nats_password:
            return {"user": self.nats_user, "password": self.nats_password.get_secret_value()}
        return {}

    def connect_options(self, name: str) -> dict[str, Any]:
        """Keyword arguments for `nats.connect` (TLS context included)."""
        options: dict[str, Any] = {"servers": self.servers(), "name": self.nats_name or name}
        options |= self.auth_options()
        if (context := self.ssl_context()) is not None:
            options["tls"] = context
        if self.nats_inbox_prefix:
            options["inbox_prefix"] = self.nats_inbox_prefix
        return options

    def what_to_check(self) -> str:
        hints = ["is nats-server running and reachable from here"]
        if self.uses_tls():
            hints.append("does LLEM_NATS_TLS_CA sign the server's certificate")
        if self.auth_options():
            hints.append("are the credentials valid")
        else:
            hints.append("does the server require credentials (LLEM_NATS_CREDS, _TOKEN, _USER/_PASSWORD)")
        return "; ".join(hints)


def describe_failure(settings: NatsSettings, cause: BaseException | None) -> str:
    """One line: which URLs, what happened, what to check."""
    what = "no server answered"
    if cause is not None and not isinstance(cause, NoServersError):
        what = (str(cause).strip() or type(cause).__name__).removeprefix("nats: ")
    return f"cannot reach NATS at {settings.nats_url}: {what} (check: {settings.what_to_check()})"


async def connect(
    settings: NatsSettings,
    *,
    name: str,
    connect_timeout_s: float = 2.0,
    max_reconnect_attempts: int = -1,
    reconnect_wait_s: float = 2.0,
    **callbacks: Any,
) -> NatsClient:
    """Connect with a bounded first attempt (each server tried once); reconnect as configured after.

    nats-py with unlimited reconnects would retry a first connection forever, and without them it
    raises a bare `NoServersError`; here a first connection that fails raises `NatsUnreachable` with
    the last server's reason. Callbacks (`error_cb`, `reconnected_cb`, ...) pass through; without an
    `error_cb` nats-py would log every failed attempt with a traceback.
    """
    last: list[BaseException] = []
    user_error_cb = callbacks.pop("error_cb", None)

    async def error_cb(exc: Exception) -> None:
        last[:] = [exc]
        if user_error_cb is not None:
            await user_error_cb(exc)

    options = settings.connect_options(name) | callbacks
    try:
        attempt = nats.connect(
            connect_timeout=connect_timeout_s,
            max_reconnect_attempts=1,  # nats-py: each server twice, then NoServersError
            reconnect_time_wait=FIRST_RETRY_WAIT_S,
            error_cb=error_cb,
            **options,
        )
        # bounded again: after a failed TLS handshake nats-py 2.14 can hang closing the transport
        budget_s = (2 * connect_timeout_s + FIRST_RETRY_WAIT_S) * len(settings.servers()) + 1
        nc = await asyncio.wait_for(attempt, budget_s)
    except (NatsError, OSError, TimeoutError) as exc:
        raise NatsUnreachable(describe_failure(settings, last[0] if last else exc)) from None
    # nats-py reads both at each reconnect: from now on, ride out outages as configured
    nc.options["max_reconnect_attempts"] = max_reconnect_attempts
    nc.options["reconnect_time_wait"] = reconnect_wait_s
    return nc
