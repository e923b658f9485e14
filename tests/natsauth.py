"""Every test goes through the authenticated path: the session's nats-server runs with the accounts
and users of `llem_control.authdir`, the test's own clients are the admin user, and each service
process it starts connects as its own scoped user (a runner as a runner user of its id and pools,
added on the fly), exactly as a deployment does.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from llem_control.authdir import AuthDir
from llem_runner.settings import _default_runner_id

#: the user each service binary connects as; `llem-scheduler bootstrap` stays admin (it declares)
ROLE_OF = {"llem-scheduler": "scheduler", "llem-ingest": "ingest", "llem-api": "api"}
MONITOR_ENV = "LLEM_TEST_NATS_MONITOR"  # the server's monitoring URL, to see a reload take effect
#: `seed_of(role, prefix)`: the seed file of a service user of that prefix (the conftest fixture)
SeedOf = Callable[[str, str], str]


def _config_load_time(monitor: str) -> str:
    with urllib.request.urlopen(f"{monitor}/varz", timeout=5) as response:
        return str(json.load(response)["config_load_time"])


def reload_and_wait(auth: AuthDir, monitor: str, timeout_s: float = 30) -> None:
    """SIGHUP the server, then wait until it reports the new configuration loaded."""
    before = _config_load_time(monitor)
    assert auth.reload(), f"no running nats-server behind {auth.path}"
    deadline = time.monotonic() + timeout_s
    while _config_load_time(monitor) == before:
        assert time.monotonic() < deadline, "nats-server did not reload its configuration"
        time.sleep(0.05)


def ensure_services(auth: AuthDir, prefix: str, monitor: str) -> None:
    before = len(auth.users())
    if len(auth.init(prefix)) != before:
        reload_and_wait(auth, monitor)


def service_seed(auth: AuthDir, role: str, prefix: str, monitor: str) -> str:
    ensure_services(auth, prefix, monitor)
    user = auth.user(role, prefix, role)
    assert user is not None, f"no {role} user of prefix {prefix}"
    return str(auth.seed_path(user))


def _option(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


def ensure_runner(auth: AuthDir, name: str, pools: list[str], prefix: str, url: str, monitor: str) -> Path:
    user = auth.user(name, prefix, "runner")
    if user is not None and list(user.pools) == pools:
        return auth.seed_path(user)
    if user is not None:
        auth.revoke_runner(name, prefix)
    join = auth.add_runner(name, pools, url, prefix)
    reload_and_wait(auth, monitor)
    return join.seed_file


def with_credentials(name: str, args: list[str], env: dict[str, str]) -> dict[str, str]:
    """`env` for starting binary `name`, with that process's own credentials when the test runs on
    the session's authenticated server (and chose no credentials of its own)."""
    where, monitor = env.get("LLEM_NATS_DIR"), env.get(MONITOR_ENV)
    if not where or not monitor:
        return env
    auth = AuthDir(Path(where))
    if env.get("LLEM_NATS_NKEY_SEED") != str(auth.seed_path("admin")):
        return env  # the test gave this process other credentials on purpose
    prefix = _option(args, "--prefix")[-1:] or [env.get("LLEM_PREFIX", "llem")]
    if name in ROLE_OF and args[:1] != ["bootstrap"]:
        seed = Path(service_seed(auth, ROLE_OF[name], prefix[0], monitor))
    elif name == "llem-runner":
        runner_id = (_option(args, "--runner-id") or [env.get("LLEM_RUNNER_ID") or _default_runner_id()])[-1]
        pools = _option(args, "--pool") or json.loads(env.get("LLEM_POOLS", '["default"]'))
        url = (_option(args, "--nats") or [env.get("LLEM_NATS_URL", "")])[-1]
        seed = ensure_runner(auth, runner_id, pools, prefix[0], url, monitor)
    else:
        return env
    return {**env, "LLEM_NATS_NKEY_SEED": str(seed)}
