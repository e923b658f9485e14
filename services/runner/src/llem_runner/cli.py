"""`llem-runner run [--nats URL --creds FILE --pool NAME ...]` and `llem-runner make-tiny-model PATH`.

Every flag of `run` has an LLEM_* environment variable twin (see RunnerSettings); flags win.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any

from llem_runner.settings import RunnerSettings

_FLAGS = {  # flag -> settings field
    "nats": "nats_url",
    "creds": "nats_creds",
    "nkey_seed": "nats_nkey_seed",
    "token": "nats_token",
    "tls_ca": "nats_tls_ca",
    "runner_id": "runner_id",
    "prefix": "prefix",
    "model_dir": "model_dir",
    "state_dir": "state_dir",
}


def _run_parser(sub: Any) -> None:
    run = sub.add_parser("run", help="connect to NATS (outbound only) and run jobs of this runner's pools")
    run.add_argument("--nats", help="nats:// or tls:// URL of the coordinator (LLEM_NATS_URL)")
    run.add_argument("--creds", help="NATS .creds file (LLEM_NATS_CREDS)")
    run.add_argument("--nkey-seed", help="nkey seed file (LLEM_NATS_NKEY_SEED)")
    run.add_argument("--token", help="NATS token (LLEM_NATS_TOKEN)")
    run.add_argument("--tls-ca", help="CA bundle for the server certificate (LLEM_NATS_TLS_CA)")
    run.add_argument("--pool", action="append", help="pool to serve; repeat for several (LLEM_POOLS)")
    run.add_argument("--runner-id", help="this runner's id (LLEM_RUNNER_ID)")
    run.add_argument("--prefix", help="deployment subject prefix (LLEM_PREFIX)")
    run.add_argument("--model-dir", help="base directory of relative model paths (LLEM_MODEL_DIR)")
    run.add_argument("--state-dir", help="baseline cache, model hashes, metric spool (LLEM_STATE_DIR)")


def settings_from(args: argparse.Namespace) -> RunnerSettings:
    overrides: dict[str, Any] = {
        field: getattr(args, flag) for flag, field in _FLAGS.items() if getattr(args, flag, None) is not None
    }
    if getattr(args, "pool", None):
        overrides["pools"] = args.pool
    return RunnerSettings(**overrides)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-runner")
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    tiny = sub.add_parser("make-tiny-model", help="write a tiny random-weight GGUF for smoke tests")
    tiny.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "make-tiny-model":
        from llem_runner.tinymodel import write_tiny_model

        print(write_tiny_model(args.path))
        return 0
    from llem_runner.app import create_app

    app, _ = create_app(settings_from(args))
    asyncio.run(app.run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
