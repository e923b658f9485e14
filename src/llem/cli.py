"""`llem`: the operator's command. Runs the local stack and the demo; submits and exports later."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Annotated

import nats
import typer

from llem import stack
from llem_scheduler.demo import skeleton_jobs, submit
from llem_schemas.subjects import Layout

app = typer.Typer(help="llem: energy of LLM inference, measured on real hardware.", no_args_is_help=True)
stack_app = typer.Typer(
    help="The local stack (NATS, TimescaleDB, ingest, API, one runner).", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")
campaign_app = typer.Typer(
    help="Campaigns: grids of models x backends x load settings x repetitions.", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign")

DataDir = Annotated[Path, typer.Option(help="Where the stack keeps its data and logs.")]


@stack_app.command("up")
def stack_up(data_dir: DataDir = stack.DEFAULT_DATA_DIR) -> None:
    """Start the local stack (idempotent)."""
    state = stack.up(data_dir)
    typer.echo(f"NATS      {state.nats_url}\nDatabase  {state.database_url}\nAPI       {state.api_url}")
    typer.echo(f"Logs      {data_dir / 'logs'}")


@stack_app.command("down")
def stack_down(data_dir: DataDir = stack.DEFAULT_DATA_DIR) -> None:
    """Stop everything `llem stack up` started."""
    typer.echo("stopped" if stack.down(data_dir) else "nothing running")


@stack_app.command("env")
def stack_env(data_dir: DataDir = stack.DEFAULT_DATA_DIR) -> None:
    """Print the LLEM_* variables that point a service or a subscriber at the running stack."""
    state = stack.load_state(data_dir)
    if state is None:
        raise typer.Exit(code=1)
    for key, value in state.env().items():
        typer.echo(f"export {key}='{value}'")


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (the local API)
        data = json.load(resp)
    assert isinstance(data, dict)
    return data


@app.command()
def demo(data_dir: DataDir = stack.DEFAULT_DATA_DIR, timeout_s: float = 180) -> None:
    """Bring the stack up, run the skeleton campaign on a tiny generated model, show the run."""
    from llem_runner.tinymodel import write_tiny_model

    state = stack.up(data_dir)
    model = write_tiny_model(data_dir / "models" / "tiny-random.gguf")
    campaign, jobs = skeleton_jobs(str(model), state.pool, name="demo")

    async def _submit() -> None:
        nc = await nats.connect(state.nats_url)
        try:
            await submit(nc.jetstream(), Layout(state.prefix), campaign, jobs)
        finally:
            await nc.close()

    asyncio.run(_submit())
    typer.echo(f"submitted campaign {campaign.campaign_id} ({len(jobs)} job) to pool {state.pool!r}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = _get_json(f"{state.api_url}/api/runs")["items"]
        assert isinstance(runs, list)
        done = [
            r for r in runs if r["campaign_id"] == str(campaign.campaign_id) and r["status"] == "completed"
        ]
        if done:
            run = done[0]
            typer.echo(json.dumps(run, indent=2))
            typer.echo(
                f"\nThe run is in the API: {state.api_url}/api/runs  (OpenAPI: {state.api_url}/schema)"
            )
            typer.echo(f"Logs: {data_dir / 'logs'}   Stop with: make demo-down")
            return
        time.sleep(1)
    typer.echo(f"no completed run after {timeout_s:.0f} s; see {data_dir / 'logs'}", err=True)
    raise typer.Exit(code=1)


def _nats_url(explicit: str | None) -> str:
    if explicit:
        return explicit
    state = stack.load_state()
    return state.nats_url if state else os.environ.get("LLEM_NATS_URL", "nats://127.0.0.1:4222")


@campaign_app.command("submit")
def campaign_submit(
    spec_file: Annotated[Path, typer.Argument(help="Campaign YAML file.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the expanded jobs; publish nothing.")
    ] = False,
    nats_url: Annotated[
        str | None, typer.Option("--nats", help="NATS URL (default: the local stack).")
    ] = None,
    prefix: Annotated[str, typer.Option(help="Deployment subject prefix.")] = "llem",
) -> None:
    """Validate and expand a campaign file, then queue its jobs (nothing is published on any error)."""
    from llem.campaigns import table
    from llem_scheduler.errors import SchedulerError
    from llem_scheduler.expand import expand
    from llem_scheduler.spec import load_spec
    from llem_scheduler.submit import submit_campaign

    try:
        spec = load_spec(spec_file)
        expansion = expand(spec)
    except SchedulerError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(table(expansion))
    if dry_run:
        return

    async def _submit() -> int:
        nc = await nats.connect(_nats_url(nats_url))
        try:
            return await submit_campaign(nc.jetstream(), Layout(prefix), spec, expansion)
        finally:
            await nc.close()

    queued = asyncio.run(_submit())
    typer.echo(f"queued {queued} new job(s) ({len(expansion.jobs) - queued} already queued)")


def main() -> None:
    app()
