"""`llem-runner run [--nats URL --creds FILE --pool NAME ...]` and `llem-runner make-tiny-model PATH`.

Every setting has an LLEM_* environment variable (RunnerSettings); a flag wins over it. The NATS
flags are the ones every llem command shares (llem_control.options)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from llem_control.errors import NatsUnreachable
from llem_control.options import entry_point, nats_options, one_line_errors
from llem_runner.settings import RunnerSettings

app = typer.Typer(
    help="llem runner: pulls jobs over an outbound NATS connection, runs and meters them.",
    no_args_is_help=True,
)


def _opt(flag: str, env: str, text: str) -> Any:
    return typer.Option(flag, help=f"{text.rstrip('.')} (env: LLEM_{env}).")


def settings_from(nats: dict[str, Any], **given: Any) -> RunnerSettings:
    """The runner's settings: the environment, overridden by the flags that were given."""
    return RunnerSettings(**nats, **{k: v for k, v in given.items() if v is not None})


@app.command()
@nats_options
def run(
    nats: dict[str, Any],
    pool: Annotated[
        list[str] | None,
        _opt("--pool", "POOLS", "Pool to serve; repeat for several (the variable: a JSON list)."),
    ] = None,
    runner_id: Annotated[str | None, _opt("--runner-id", "RUNNER_ID", "This runner's id.")] = None,
    prefix: Annotated[str | None, _opt("--prefix", "PREFIX", "Deployment subject prefix.")] = None,
    model_dir: Annotated[
        str | None, _opt("--model-dir", "MODEL_DIR", "Base directory of relative model paths.")
    ] = None,
    state_dir: Annotated[
        Path | None, _opt("--state-dir", "STATE_DIR", "Baseline cache, model hashes and the metric spool.")
    ] = None,
) -> None:
    """Connect to NATS (outbound only) and run the jobs of this runner's pools."""
    from llem_runner.app import create_app

    settings = settings_from(
        nats, pools=pool or None, runner_id=runner_id, prefix=prefix, model_dir=model_dir, state_dir=state_dir
    )
    app_, _ = create_app(settings)
    with one_line_errors(NatsUnreachable):
        asyncio.run(app_.run())


@app.command("make-tiny-model")
def make_tiny_model(path: Annotated[Path, typer.Argument(help="Where to write the GGUF file.")]) -> None:
    """Write a tiny random-weight GGUF model for smoke tests."""
    from llem_runner.tinymodel import write_tiny_model

    typer.echo(write_tiny_model(path))


def main(argv: list[str] | None = None) -> int:
    return entry_point(app, argv)


if __name__ == "__main__":
    raise SystemExit(main())
