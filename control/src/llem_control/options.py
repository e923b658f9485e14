"""What every llem command line shares (needs the `cli` extra: typer): the NATS connection flags,
one-line errors and the console-script entry point.

`@nats_options` adds `--nats`, `--creds`, `--nkey-seed`, `--token`, `--user`, `--password`,
`--tls-ca`, `--tls-cert`, `--tls-key`, `--inbox-prefix` and `--nats-name` to a typer command, each
with its `LLEM_NATS_*` twin (shown in the help; a flag wins over it), and hands the command what was
given as `nats: dict[str, str]`, keyed by `NatsSettings` field, for its settings class.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar, get_type_hints

import typer

from llem_control.connection import NatsSettings

R = TypeVar("R")
PANEL = "NATS connection"
# flag -> NatsSettings field; the help comes from the field's description
FLAGS: dict[str, str] = {
    "--nats": "nats_url",
    "--creds": "nats_creds",
    "--nkey-seed": "nats_nkey_seed",
    "--token": "nats_token",
    "--user": "nats_user",
    "--password": "nats_password",
    "--tls-ca": "nats_tls_ca",
    "--tls-cert": "nats_tls_cert",
    "--tls-key": "nats_tls_key",
    "--inbox-prefix": "nats_inbox_prefix",
    "--nats-name": "nats_name",
}


def _parameter(flag: str, field: str) -> inspect.Parameter:
    description = NatsSettings.model_fields[field].description or ""
    option = typer.Option(
        flag, help=description, envvar=f"LLEM_{field.upper()}", show_envvar=True, rich_help_panel=PANEL
    )
    return inspect.Parameter(
        field, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[str | None, option]
    )


def nats_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give a typer command the shared NATS flags; it receives the given ones as `nats`."""
    signature = inspect.signature(command)
    hints = get_type_hints(command, include_extras=True)  # resolved in the command's own module
    own = [
        p.replace(annotation=hints.get(name, p.annotation))
        for name, p in signature.parameters.items()
        if name != "nats"
    ]
    added = [_parameter(flag, field) for flag, field in FLAGS.items()]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        given = {field: kwargs.pop(field) for field in FLAGS.values()}
        return command(*args, nats={k: v for k, v in given.items() if v is not None}, **kwargs)

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*own, *added], return_annotation=hints.get("return", signature.return_annotation)
    )
    wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *added]} | {"return": hints.get("return")}
    del wrapper.__wrapped__  # typer must read the new signature, not the command's
    return wrapper


@contextlib.contextmanager
def one_line_errors(*errors: type[Exception], code: int = 1) -> Iterator[None]:
    """Errors meant for a person (NATS or a database unreachable, a bad layout): the message on
    stderr and exit status `code`, no traceback."""
    try:
        yield
    except errors as exc:
        typer.echo(str(exc), err=True)
        raise SystemExit(code) from None


def entry_point(app: typer.Typer, argv: list[str] | None = None, *, log: bool = True) -> int:
    """A console script's `main`: logging for a service, then the typer app; its exit status."""
    if log:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        app(args=argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
