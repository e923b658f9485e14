"""`llem nats init` and `llem runner add|revoke|list`: who may use the bus, kept in one directory
(`llem_control.authdir`) that nats-server includes. Adding or revoking reloads the server: nothing
restarts, running jobs go on, a revoked runner is cut off and cannot connect again."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from llem_control.authdir import AuthDir, RunnerJoin, server_conf
from llem_control.connection import NatsSettings, connect
from llem_control.errors import AuthDirError, ControlError
from llem_control.options import one_line_errors

nats_app = typer.Typer(help="The NATS server's users and configuration.", no_args_is_help=True)
runner_app = typer.Typer(help="Runners' credentials: add a GPU box, revoke one.", no_args_is_help=True)

DEFAULT_DIR = Path("deploy/nats")
DirOption = Annotated[
    Path,
    typer.Option(
        "--dir",
        envvar="LLEM_NATS_DIR",
        help="The credentials directory nats-server includes (env: LLEM_NATS_DIR).",
    ),
]


def _reload_hint(auth: AuthDir) -> str:
    if auth.reload():
        return "nats-server reloaded its users (nothing restarted)."
    return "now reload nats-server's users, nothing restarts: docker compose kill -s HUP nats"


@nats_app.command("init")
def nats_init(
    dir_: DirOption = DEFAULT_DIR,
    prefix: Annotated[
        str, typer.Option(help="Deployment subject prefix (env: LLEM_PREFIX).", envvar="LLEM_PREFIX")
    ] = "llem",
    tls: Annotated[
        bool,
        typer.Option(
            help="TLS on the client port, with DIR/tls/server.crt and server.key (and ca.crt for clients)."
        ),
    ] = False,
    store_dir: Annotated[
        str, typer.Option(help="JetStream storage inside the server's container.")
    ] = "/data/jetstream",
) -> None:
    """Create the service users (admin, scheduler, ingest, api), their nkey seeds, auth.conf and a
    nats.conf for compose. Run again, it keeps existing users and seeds."""
    with one_line_errors(ControlError):
        auth = AuthDir(dir_)
        conf_tls: dict[str, str] = {}
        if tls:
            missing = [f for f in ("server.crt", "server.key") if not (dir_ / "tls" / f).is_file()]
            if missing:
                raise AuthDirError(f"--tls needs {', '.join(str(dir_ / 'tls' / f) for f in missing)}")
            conf_tls = {"tls_cert": "/etc/nats/tls/server.crt", "tls_key": "/etc/nats/tls/server.key"}
            if (dir_ / "tls" / "ca.crt").is_file():
                conf_tls["tls_ca"] = "/etc/nats/tls/ca.crt"
        users = auth.init(prefix, server=server_conf(store_dir=store_dir, **conf_tls))
    typer.echo(
        f"{dir_}: nats.conf, auth.conf and seeds for {', '.join(u.name for u in users)} (prefix {prefix})"
    )
    typer.echo(f"keep {dir_}/creds secret; each control service mounts only its own seed.")


def _default_public_url() -> str:
    return os.environ.get("LLEM_NATS_PUBLIC_URL") or f"nats://{socket.getfqdn()}:4222"


async def _declare_pools(auth: AuthDir, nats_url: str, pools: list[str]) -> None:
    from llem_control.bootstrap import ensure_pools

    settings = NatsSettings(nats_url=nats_url, nats_nkey_seed=str(auth.seed_path("admin")))
    nc = await connect(settings, name="llem runner add")
    try:
        await ensure_pools(nc.jetstream(), auth.layout(), pools)
    finally:
        await nc.close()


def _box_instructions(join: RunnerJoin, dir_: Path) -> str:
    return "\n".join(
        [
            f"On the GPU box, next to compose.yaml, put {join.env_file} as .env and {join.seed_file} as runner.nk:",
            f"  scp CONTROL_HOST:{join.env_file.resolve()} .env",
            f"  scp CONTROL_HOST:{join.seed_file.resolve()} runner.nk && chmod 600 runner.nk",
            '  echo "LLEM_UID=$(id -u)" >> .env    # the container runs as the owner of runner.nk',
            "then start the runner (--profile runner-cpu for llama.cpp on CPU, runner-vllm for vLLM):",
            "  docker compose --profile runner-gpu up -d",
        ]
    )


@runner_app.command("add")
def runner_add(
    name: Annotated[str, typer.Argument(help="The runner's id (one subject token), e.g. gpu-box-1.")],
    pool: Annotated[list[str], typer.Option("--pool", help="A pool it takes jobs from; repeatable.")],
    dir_: DirOption = DEFAULT_DIR,
    url: Annotated[
        str | None,
        typer.Option(
            help="The NATS URL the box dials (env: LLEM_NATS_PUBLIC_URL; default nats://<this host>:4222)."
        ),
    ] = None,
    nats: Annotated[
        str | None,
        typer.Option(
            help="Where this host reaches NATS to declare the pool's job consumer (env: LLEM_NATS_URL)."
        ),
    ] = None,
) -> None:
    """Give a runner its own credentials (scoped to its id and pools) and print what the box runs."""
    with one_line_errors(ControlError):
        auth = AuthDir(dir_)
        join = auth.add_runner(name, pool, url or _default_public_url())
        typer.echo(f"runner {name} added (pools {', '.join(pool)}); {_reload_hint(auth)}")
        local = nats or os.environ.get("LLEM_NATS_URL") or "nats://127.0.0.1:4222"
        try:
            asyncio.run(_declare_pools(auth, local, pool))
        except ControlError as exc:
            typer.echo(
                f"note: pool consumers not declared ({exc}); the first campaign for them declares them"
            )
    typer.echo(_box_instructions(join, dir_))


@runner_app.command("revoke")
def runner_revoke(
    name: Annotated[str, typer.Argument(help="The runner's id.")],
    dir_: DirOption = DEFAULT_DIR,
) -> None:
    """Remove a runner's credentials: it is disconnected and cannot connect again. Its running job,
    if any, is redelivered to another runner of the pool after AckWait."""
    with one_line_errors(ControlError):
        auth = AuthDir(dir_)
        auth.revoke_runner(name)
        typer.echo(f"runner {name} revoked; {_reload_hint(auth)}")


@runner_app.command("list")
def runner_list(dir_: DirOption = DEFAULT_DIR) -> None:
    """The runners that hold credentials (`llem runners` shows the ones alive)."""
    with one_line_errors(ControlError):
        auth = AuthDir(dir_)
        runners = [u for u in auth.users() if u.role == "runner"]
    for u in runners:
        typer.echo(f"{u.name}  pools={','.join(u.pools)}  prefix={u.prefix}  nkey={u.nkey}")
    if not runners:
        typer.echo("no runner has credentials")
