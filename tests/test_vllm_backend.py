"""The vLLM backend without vLLM: argument mapping, the missing-extra error, dispatch, and the managed
server lifecycle against a real OpenAI-compatible server (llama-cpp-python's) on the tiny model."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from llem.devstack.ports import free_port
from llem_runner.backends import create_backend
from llem_runner.backends.managed_server import ManagedServer
from llem_runner.backends.vllm import (
    VllmOfflineBackend,
    VllmServeBackend,
    engine_kwargs,
    request_timing,
    serve_command,
)
from llem_runner.errors import BackendError, BackendUnavailable, JobRejected, ServerStartError
from llem_schemas.jobs import VllmBackend

FULL = VllmBackend(
    model="Qwen/Qwen2.5-0.5B-Instruct",
    mode="offline",
    tensor_parallel_size=2,
    dtype="bfloat16",
    quantization="fp8",
    max_model_len=4096,
    gpu_memory_utilization=0.85,
    max_num_seqs=64,
    seed=7,
    port=8123,
    startup_timeout_s=120,
    extra_args=["--enforce-eager", "--served-model-name", "m"],
)
MINIMAL = VllmBackend(model="facebook/opt-125m")


def llama_server_command(model: Path) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--n_ctx", "256", "--n_threads", "1", "--port",
    ]  # fmt: skip


def alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped by its new parent) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def is_running(server: ManagedServer) -> bool:
    """`server.running`, read afresh (mypy would keep its narrowing from before `stop()`)."""
    return server.running


# -- argument mapping -------------------------------------------------------------------------------


def test_engine_kwargs_full_config() -> None:
    assert engine_kwargs(FULL) == {
        "model": "Qwen/Qwen2.5-0.5B-Instruct",
        "tensor_parallel_size": 2,
        "dtype": "bfloat16",
        "quantization": "fp8",
        "max_model_len": 4096,
        "gpu_memory_utilization": 0.85,
        "max_num_seqs": 64,
        "seed": 7,
    }


def test_engine_kwargs_minimal_config_omits_none() -> None:
    assert engine_kwargs(MINIMAL) == {
        "model": "facebook/opt-125m",
        "tensor_parallel_size": 1,
        "dtype": "auto",
        "gpu_memory_utilization": 0.9,
        "seed": 0,
    }


def test_serve_command_full_config() -> None:
    command = serve_command(FULL, 9001)
    assert command[:3] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
    args = command[3:]
    assert args[-3:] == ["--enforce-eager", "--served-model-name", "m"]
    pairs = dict(zip(args[:-3:2], args[1:-3:2], strict=True))
    assert pairs == {
        "--model": "Qwen/Qwen2.5-0.5B-Instruct",
        "--host": "127.0.0.1",
        "--port": "9001",
        "--tensor-parallel-size": "2",
        "--dtype": "bfloat16",
        "--quantization": "fp8",
        "--max-model-len": "4096",
        "--gpu-memory-utilization": "0.85",
        "--max-num-seqs": "64",
        "--seed": "7",
    }


def test_serve_command_minimal_config_omits_none_and_appends_extra_args_last() -> None:
    command = serve_command(MINIMAL, 8000)
    assert command == [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server",
        "--model", "facebook/opt-125m", "--host", "127.0.0.1", "--port", "8000",
        "--tensor-parallel-size", "1", "--dtype", "auto", "--gpu-memory-utilization", "0.9", "--seed", "0",
    ]  # fmt: skip
    assert "--quantization" not in command
    assert "--max-model-len" not in command
    assert "--max-num-seqs" not in command
    extra = MINIMAL.model_copy(update={"extra_args": ["--max-model-len", "1024", "--enforce-eager"]})
    assert serve_command(extra, 8000) == [*command, "--max-model-len", "1024", "--enforce-eager"]


def test_request_timing_without_metrics_uses_the_batch_wall_time() -> None:
    assert request_timing(None, 1_700_000_000.0, 50.0, 1234.0) == (50.0, None, 1234.0)
    empty = SimpleNamespace(arrival_time=0.0, first_token_time=None, finished_time=None)
    assert request_timing(empty, 1_700_000_000.0, 50.0, 1234.0) == (50.0, None, 1234.0)


def test_request_timing_from_wall_clock_metrics() -> None:
    metrics = SimpleNamespace(arrival_time=1000.5, first_token_time=1000.75, finished_time=1002.0)
    started, ttft, e2e = request_timing(metrics, 1000.0, 50.0, 9999.0)
    assert started == pytest.approx(50.5)
    assert ttft == pytest.approx(250.0)
    assert e2e == pytest.approx(1500.0)


def test_request_timing_from_v1_state_stats() -> None:
    stats = SimpleNamespace(
        arrival_time=1000.0, first_token_latency=0.2, first_token_ts=7.0, last_token_ts=8.5
    )
    started, ttft, e2e = request_timing(stats, 1000.0, 50.0, 9999.0)
    assert started == pytest.approx(50.0)
    assert ttft == pytest.approx(200.0)
    assert e2e == pytest.approx(1700.0)


# -- vLLM is absent here: both modes say which extra to install --------------------------------------


def test_vllm_is_not_installed_in_the_test_environment() -> None:
    with pytest.raises(ImportError):
        __import__("vllm")


@pytest.mark.parametrize("mode", ["offline", "serve"])
def test_start_without_vllm_raises_backend_unavailable(mode: str) -> None:
    backend = create_backend(MINIMAL.model_copy(update={"mode": mode}))
    with pytest.raises(BackendUnavailable, match=re.escape("llem-runner[vllm]")) as info:
        backend.start()
    assert not info.value.retryable
    backend.stop()  # safe after a failed start


def test_offline_rejects_serve_only_extra_args() -> None:
    backend = VllmOfflineBackend(MINIMAL.model_copy(update={"mode": "offline", "extra_args": ["--x"]}))
    with pytest.raises(JobRejected, match="extra_args"):
        backend.start()


def test_create_backend_dispatches_on_mode() -> None:
    offline = create_backend(MINIMAL.model_copy(update={"mode": "offline"}))
    serve = create_backend(MINIMAL.model_copy(update={"mode": "serve"}))
    assert isinstance(offline, VllmOfflineBackend)
    assert offline.batch_mode
    assert offline.kind == "vllm"
    assert isinstance(serve, VllmServeBackend)
    assert not serve.batch_mode
    assert serve.kind == "vllm"
    assert offline.version is None  # not installed


def test_offline_generate_before_start_is_an_error() -> None:
    backend = VllmOfflineBackend(MINIMAL.model_copy(update={"mode": "offline"}))
    with pytest.raises(BackendError):
        backend.generate_batch(["hi"], 1, ignore_eos=True)
    assert backend.generate("hi", 1, ignore_eos=True).error is not None


# -- ManagedServer and the serve backend against a real OpenAI-compatible server --------------------


def test_managed_server_runs_llama_cpp_server(tiny_model: Path, tmp_path: Path) -> None:
    port = free_port()
    server = ManagedServer(
        [*llama_server_command(tiny_model), str(port)],
        f"http://127.0.0.1:{port}/v1/models",
        startup_timeout_s=120,
        log_path=tmp_path / "server.log",
        stop_grace_s=5,
    )
    server.start()
    try:
        assert server.running
        pid = server.pid
        assert pid is not None
        assert os.getpgid(pid) == pid  # leads its own process group
        models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10, trust_env=False).json()
        assert models["data"]
    finally:
        server.stop()
    server.stop()  # twice is fine
    assert not is_running(server)
    assert not alive(pid)
    assert server.returncode is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2, trust_env=False)
    assert (tmp_path / "server.log").exists()  # a log the caller chose is kept


def test_serve_backend_serves_a_completion_through_the_openai_backend(tiny_model: Path) -> None:
    served: dict[str, int] = {}

    def command(port: int) -> list[str]:
        served["port"] = port
        return [*llama_server_command(tiny_model), str(port)]

    # llama_cpp.server names the model by its path in /v1/models (no --model_alias given).
    config = VllmBackend(model=str(tiny_model), mode="serve", startup_timeout_s=120)
    backend = VllmServeBackend(config, command=command, health_path="/v1/models")
    backend.start()
    try:
        port = served["port"]
        assert backend.port == port
        ids = [
            m["id"] for m in httpx.get(f"http://127.0.0.1:{port}/v1/models", trust_env=False).json()["data"]
        ]
        assert ids == [str(tiny_model)]
        backend.validate()
        result = backend.generate("Hello there", 4, ignore_eos=True)
        assert result.error is None
        assert 1 <= result.output_tokens <= 4
        assert result.e2e_ms > 0
    finally:
        backend.stop()
    backend.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2, trust_env=False)


def test_command_that_exits_at_once_is_a_backend_error_with_its_exit_code_and_log() -> None:
    port = free_port()
    server = ManagedServer(
        [sys.executable, "-c", "import sys; print('boom', flush=True); sys.exit(3)"],
        f"http://127.0.0.1:{port}/health",
        startup_timeout_s=30,
    )
    started = time.monotonic()
    with pytest.raises(BackendError, match="boom") as info:
        server.start()
    assert time.monotonic() - started < 10
    assert "exit code 3" in str(info.value)
    assert isinstance(info.value, ServerStartError)
    assert info.value.exit_code == 3
    assert "boom" in info.value.log_tail
    assert info.value.retryable
    assert server.log_path is None  # its own temporary log is removed


def test_serve_backend_reports_a_server_that_exits() -> None:
    config = VllmBackend(model="m", startup_timeout_s=30)
    backend = VllmServeBackend(
        config, command=lambda port: [sys.executable, "-c", "import sys; print('no gpu here'); sys.exit(2)"]
    )
    with pytest.raises(BackendError, match="no gpu here") as info:
        backend.start()
    assert "exit code 2" in str(info.value)


def test_command_that_never_becomes_healthy_times_out_and_is_killed() -> None:
    port = free_port()
    server = ManagedServer(["sleep", "60"], f"http://127.0.0.1:{port}/health", startup_timeout_s=1)
    started = time.monotonic()
    with pytest.raises(BackendError, match="within 1 s") as info:
        server.start()
    assert time.monotonic() - started < 10
    assert isinstance(info.value, ServerStartError)
    assert info.value.exit_code is None
    assert server.pid is not None
    assert not alive(server.pid)
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)  # reaped, not a zombie


def test_stop_takes_the_whole_process_group(tmp_path: Path) -> None:
    """Workers the server spawned (vLLM's engine processes) go with it."""
    log = tmp_path / "server.log"
    port = free_port()
    server = ManagedServer(
        ["sh", "-c", "sleep 60 & echo child $!; wait"],
        f"http://127.0.0.1:{port}/health",
        startup_timeout_s=1,
        log_path=log,
    )
    with pytest.raises(BackendError, match="within 1 s") as info:
        server.start()
    assert isinstance(info.value, ServerStartError)
    match = re.search(r"child (\d+)", info.value.log_tail)
    assert match is not None
    assert not alive(int(match.group(1)))
    assert server.pid is not None
    assert not alive(server.pid)


def test_sigkill_after_the_grace_period_when_sigterm_is_ignored(tmp_path: Path) -> None:
    port = free_port()
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    server = ManagedServer(
        [sys.executable, "-c", script],
        f"http://127.0.0.1:{port}/health",
        startup_timeout_s=1.5,
        stop_grace_s=0.5,
        log_path=tmp_path / "server.log",
    )
    with pytest.raises(BackendError):
        server.start()
    assert server.returncode == -9
    assert server.pid is not None
    assert not alive(server.pid)


def test_a_missing_executable_is_a_backend_error() -> None:
    server = ManagedServer(["/nonexistent/llem-server"], "http://127.0.0.1:1/health", startup_timeout_s=1)
    with pytest.raises(BackendError, match="could not start"):
        server.start()
    server.stop()
