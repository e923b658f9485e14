"""Service processes for tests: started with the test's environment, stopped with SIGTERM, logs kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .natsauth import with_credentials

BIN = Path(sys.executable).parent


def terminate(proc: subprocess.Popen[bytes], grace_s: float = 15) -> None:
    """SIGTERM to the process group, SIGKILL after the grace period."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def service(
    name: str, args: list[str], env: dict[str, str], log_dir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(BIN / name), *args],
            env=with_credentials(name, args, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        terminate(proc)
        sys.stderr.write(f"--- {name} log ---\n{log_path.read_text()[-4000:]}\n")
