"""`llem`: the operator's command. Runs the local stack and the demo; submits and exports later."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from llem import access, stack
from llem_control.connection import NatsSettings, connect
from llem_control.errors import NatsUnreachable
from llem_control.options import nats_options, one_line_errors
from llem_control.submit import Submitted
from llem_schemas.events import RunnerHeartbeat
from llem_schemas.subjects import Layout

app = typer.Typer(help="llem: energy of LLM inference, measured on real hardware.", no_args_is_help=True)
stack_app = typer.Typer(
    help="The local stack (NATS, TimescaleDB, scheduler, ingest, API, one runner).", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")
campaign_app = typer.Typer(
    help="Campaigns: grids of models x backends x load settings x repetitions.", no_args_is_help=True
)
app.add_typer(campaign_app, name="campaign")
app.add_typer(access.nats_app, name="nats")
app.add_typer(access.runner_app, name="runner")

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


DEMO_SPEC = Path(__file__).resolve().parents[2] / "examples" / "demo.yaml"


@app.command()
def demo(
    data_dir: DataDir = stack.DEFAULT_DATA_DIR,
    spec_file: Annotated[Path, typer.Option("--spec", help="Campaign file to run.")] = DEMO_SPEC,
    timeout_s: float = 300,
) -> None:
    """Bring the stack up, run a campaign file (default: examples/demo.yaml) on a tiny generated
    model, and show its runs as the API serves them."""
    from llem.campaigns import table
    from llem_control.errors import ControlError
    from llem_control.expand import expand
    from llem_control.spec import load_spec
    from llem_control.submit import submit_campaign
    from llem_runner.tinymodel import write_tiny_model

    try:
        spec = load_spec(spec_file)
        expansion = expand(spec)
    except ControlError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    state = stack.up(data_dir)
    write_tiny_model(data_dir / "models" / "tiny-random.gguf")
    typer.echo(table(expansion))

    async def _submit() -> Submitted:
        nc = await connect(state.nats_settings(), name="llem")
        try:
            return await submit_campaign(nc.jetstream(), Layout(state.prefix), spec, expansion)
        finally:
            await nc.close()

    result = asyncio.run(_submit())
    cid, total = str(result.campaign_id), len(expansion.jobs)
    typer.echo(f"\nsubmitted campaign {cid}: {result.queued} job(s) queued, {result.already} already known")
    if "LLEM_WEB_DIR" in state.env():
        typer.echo(f"watch it live: {state.api_url}/campaigns/{cid}   (or: llem campaign watch {cid})")
    deadline = time.monotonic() + timeout_s
    done: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = _get_json(f"{state.api_url}/api/runs?limit=500")["items"]
        assert isinstance(runs, list)
        done = [
            r for r in runs if r["campaign_id"] == cid and r["status"] == "completed" and not r["superseded"]
        ]
        if len({r["job_id"] for r in done}) >= total:
            break
        time.sleep(1)
    else:
        typer.echo(
            f"{len(done)} of {total} run(s) completed after {timeout_s:.0f} s; see {data_dir / 'logs'}",
            err=True,
        )
        raise typer.Exit(code=1)
    typer.echo(f"\n{'run':<10}{'runner':<14}{'out tok':>8}{'tok/s':>9}{'energy J':>10}  meter / flags")
    for r in sorted(done, key=lambda r: str(r["started_at"])):
        energy = "null" if r["energy_j"] is None else f"{r['energy_j']:.2f}"
        flags = ",".join(f["code"] for f in r["quality_flags"]) or "-"
        typer.echo(
            f"{r['run_id'][:8]:<10}{r['runner_id']:<14}{r['output_tokens']:>8}"
            f"{r['output_tokens_per_s']:>9.1f}{energy:>10}  {r['meter']} / {flags}"
        )
    typer.echo(
        f"\nAll {total} job(s) completed. Runs: {state.api_url}/api/runs  (OpenAPI: {state.api_url}/schema)"
    )
    typer.echo(
        f"Campaign state: llem campaign status {cid}   Logs: {data_dir / 'logs'}   Stop: make demo-down"
    )
    if "LLEM_WEB_DIR" in state.env():
        typer.echo(f"\nWeb app   {state.api_url}/   (leaderboard, runs, campaigns; the stack keeps running)")
    else:
        typer.echo("\nWeb app   not built: `make web`, then `llem stack down` and `make demo` again")


def _nats(given: dict[str, Any]) -> NatsSettings:
    """The shared NATS flags over LLEM_NATS_* variables; with neither URL, the local stack's."""
    options = dict(given)
    if "nats_url" not in options and "LLEM_NATS_URL" not in os.environ:
        state = stack.load_state()
        if state is not None:
            options["nats_url"] = state.nats_url
            has_auth = any(k in options for k in ("nats_creds", "nats_nkey_seed", "nats_token", "nats_user"))
            if not has_auth and not any(k.startswith("LLEM_NATS_") for k in os.environ):
                options["nats_nkey_seed"] = state.seed()  # the stack's admin, as `llem stack env` prints
    return NatsSettings(**options)


TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", help="Give up after this many seconds (exit 3).")
]


@campaign_app.command("submit")
@nats_options
def campaign_submit(
    spec_file: Annotated[Path, typer.Argument(help="Campaign YAML file.")],
    nats: dict[str, Any],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the expanded jobs; publish nothing.")
    ] = False,
    prefix: Annotated[str, typer.Option(help="Deployment subject prefix.")] = "llem",
    watch: Annotated[
        bool, typer.Option("--watch", help="Then follow it as `llem campaign watch` does (same exit codes).")
    ] = False,
    timeout_s: TimeoutOption = None,
) -> None:
    """Validate and expand a campaign file, then queue its jobs (nothing is published on any error)."""
    from llem.campaigns import table
    from llem_control.errors import ControlError
    from llem_control.expand import expand
    from llem_control.spec import load_spec
    from llem_control.submit import submit_campaign

    try:
        spec = load_spec(spec_file)
        expansion = expand(spec)
    except ControlError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(table(expansion))
    if dry_run:
        return

    async def _submit() -> Submitted:
        nc = await connect(_nats(nats), name="llem")
        try:
            return await submit_campaign(nc.jetstream(), Layout(prefix), spec, expansion)
        finally:
            await nc.close()

    result = asyncio.run(_submit())
    typer.echo(
        f"campaign {result.campaign_id}: queued {result.queued} job(s), {result.already} already queued"
    )
    if watch:
        _watch(result.campaign_id, nats, prefix, timeout_s)


PrefixOption = Annotated[str, typer.Option(help="Deployment subject prefix.")]


@campaign_app.command("cancel")
@nats_options
def campaign_cancel(
    campaign_id: Annotated[uuid.UUID, typer.Argument(help="The campaign's id.")],
    nats: dict[str, Any],
    reason: Annotated[str, typer.Option(help="Why (shown with the cancelled jobs).")] = "",
    prefix: PrefixOption = "llem",
) -> None:
    """Cancel a campaign: queued jobs leave the queue, running ones are told to stop."""
    from llem_control.errors import ControlError
    from llem_control.submit import cancel_campaign

    async def _cancel() -> None:
        nc = await connect(_nats(nats), name="llem")
        try:
            await cancel_campaign(nc.jetstream(), Layout(prefix), campaign_id, reason)
        finally:
            await nc.close()

    try:
        asyncio.run(_cancel())
    except ControlError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"campaign {campaign_id} cancelled")


def _watch(campaign_id: uuid.UUID, nats: dict[str, Any], prefix: str, timeout_s: float | None) -> None:
    from rich.console import Console

    from llem.watch_follow import WatchError, follow
    from llem.watch_view import PlainView, TerminalView

    console = Console()
    view = (
        TerminalView(console)
        if console.is_terminal and not console.is_dumb_terminal
        else PlainView(typer.echo)
    )
    try:
        result = asyncio.run(follow(_nats(nats), Layout(prefix), campaign_id, view.show, timeout_s))
    except WatchError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None  # stopped watching; the campaign goes on
    finally:
        view.close()
    if result is None:
        typer.echo(f"campaign {campaign_id} still running after {timeout_s:g} s", err=True)
        raise typer.Exit(code=3)
    typer.echo(result.summary(campaign_id))
    raise typer.Exit(code=result.exit_code)


@campaign_app.command("watch")
@nats_options
def campaign_watch(
    campaign_id: Annotated[uuid.UUID, typer.Argument(help="The campaign's id.")],
    nats: dict[str, Any],
    prefix: PrefixOption = "llem",
    timeout_s: TimeoutOption = None,
) -> None:
    """Follow a campaign live until it ends: a bar per job state, the ETA, the running jobs with
    their power, energy and tokens/s. Exit 0: every job completed; 1: any failed or was cancelled;
    2: no such campaign (or NATS unreachable); 3: --timeout ran out first."""
    _watch(campaign_id, nats, prefix, timeout_s)


@campaign_app.command("status")
@nats_options
def campaign_status(
    campaign_id: Annotated[uuid.UUID, typer.Argument(help="The campaign's id.")],
    nats: dict[str, Any],
    prefix: PrefixOption = "llem",
) -> None:
    """Every job of a campaign with its state, from the scheduler's state store."""
    from llem_control.campaigns import CampaignStore
    from llem_control.state import JobState, StateStore

    layout = Layout(prefix)

    async def _read() -> tuple[object, list[JobState]]:
        nc = await connect(_nats(nats), name="llem")
        try:
            js = nc.jetstream()
            record, _ = await CampaignStore(await js.key_value(layout.campaigns_kv.bucket)).get(campaign_id)
            states = await StateStore(await js.key_value(layout.job_state_kv.bucket), 0).all()
            return record, [s for s, _ in states.values() if s.campaign_id == campaign_id]
        finally:
            await nc.close()

    record, states = asyncio.run(_read())
    if record is None:
        typer.echo(f"no campaign {campaign_id}", err=True)
        raise typer.Exit(code=2)
    for state in sorted(states, key=lambda s: (s.status, str(s.job_id))):
        where = f"{state.runner_id} attempt {state.attempt}" if state.runner_id else "-"
        typer.echo(f"{state.job_id}  {state.status:<9}  {where}  {state.reason or ''}".rstrip())
    counts = {
        k: sum(1 for s in states if s.status == k)
        for k in ("queued", "running", "completed", "failed", "cancelled")
    }
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@app.command()
@nats_options
def runners(nats: dict[str, Any], prefix: PrefixOption = "llem") -> None:
    """The live fleet: runners whose heartbeat has not expired."""
    from llem_control.registry import live_runners

    async def _read() -> list[RunnerHeartbeat]:
        nc = await connect(_nats(nats), name="llem")
        try:
            return await live_runners(nc.jetstream(), Layout(prefix))
        finally:
            await nc.close()

    fleet = asyncio.run(_read())
    for r in fleet:
        job = str(r.current_job_id) if r.current_job_id else "idle"
        typer.echo(f"{r.runner_id}  {r.hostname}  pools={','.join(r.pools)}  gpus={len(r.gpus)}  {job}")
    if not fleet:
        typer.echo("no runner alive")


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Directory to write.")],
    format_: Annotated[
        str,
        typer.Option(
            "--format", help="leaderboard: the JSON files; site: the web app with them, for any static host."
        ),
    ] = "leaderboard",
    database_url: Annotated[
        str | None, typer.Option("--database", help="PostgreSQL URL (default: the local stack).")
    ] = None,
    web_dir: Annotated[
        Path, typer.Option("--web-dir", help="The built web app (site format; `make web` builds it).")
    ] = stack.WEB_DIST,
) -> None:
    """Write the leaderboard as static JSON files (index, configurations, one file per model and per
    task), or (`--format site`) a static site: the web app with those files under data/."""
    import psycopg

    from llem_api.errors import ExportError
    from llem_api.export import export_leaderboard, export_site

    if format_ not in ("leaderboard", "site"):
        typer.echo(f"unknown --format {format_!r}; use 'leaderboard' or 'site'", err=True)
        raise typer.Exit(code=2)
    state = stack.load_state()
    url = database_url or (state.database_url if state else os.environ.get("LLEM_DATABASE_URL"))
    if not url:
        typer.echo("no database: pass --database or start the local stack", err=True)
        raise typer.Exit(code=2)

    async def _export() -> list[Path]:
        async with await psycopg.AsyncConnection.connect(url) as conn:
            if format_ == "site":
                return await export_site(conn, web_dir, out)
            return await export_leaderboard(conn, out)

    try:
        written = asyncio.run(_export())
    except ExportError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"wrote {len(written)} file(s) under {out}")
    if format_ == "site":
        typer.echo(f"serve it with any static file server, e.g. python3 -m http.server -d {out}")


def main() -> None:
    with one_line_errors(NatsUnreachable, code=2):  # the URL and what to check
        app()
