"""The `openai` backend against a real OpenAI-compatible server: llama-cpp-python's own, as a subprocess.

That server sends no `usage` in its streams, so these tests see the backend's documented fallback counts
(output tokens = token chunks, prompt tokens = 0). It is started with `--interrupt_requests False`: by
default it ends an in-flight stream early (with a clean `[DONE]`) as soon as another request arrives.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from llem.devstack.ports import free_port
from llem_runner.backends import create_backend
from llem_runner.backends.openai import OpenAIBackend, _Stream
from llem_runner.errors import BackendError, JobRejected
from llem_schemas import JobQueued, MeasurementProtocol, Workload
from llem_schemas.jobs import OpenAICompatibleBackend
from llem_schemas.subjects import Layout
from tests.skeleton import skeleton_jobs, submit

from .processes import service, terminate
from .waiting import db_rows, wait_for

API_KEY = "test-key-123"
KEY_ENV = "LLEM_TEST_OPENAI_API_KEY"
MODEL = "tiny"
STARTUP_TIMEOUT_S = 60


@dataclass(frozen=True)
class Server:
    base_url: str
    log_path: Path


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    headers = {"Authorization": f"Bearer {API_KEY}"}
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base_url}/models", headers=headers, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    state = f"exited with {proc.returncode}" if proc.poll() is not None else "still not answering"
    pytest.fail(
        f"llama_cpp.server {state} after {STARTUP_TIMEOUT_S} s; log tail:\n{log_path.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_model), "--model_alias", MODEL]
    args += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "256", "--n_threads", "1"]
    args += ["--api_key", API_KEY, "--interrupt_requests", "False"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(proc, base_url, log_path)
        yield Server(base_url, log_path)
    finally:
        terminate(proc)


def _config(base_url: str, model: str = MODEL, key_env: str | None = KEY_ENV) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(base_url=base_url, model=model, api_key_env=key_env)


@pytest.fixture
def backend(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIBackend]:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    backend = OpenAIBackend(_config(server.base_url))
    backend.start()
    yield backend
    backend.stop()
    backend.stop()  # safe twice


def test_streamed_completion_is_timed_and_counted(backend: OpenAIBackend) -> None:
    sent = time.monotonic()
    result = backend.generate("Hello world", 8, ignore_eos=True)
    assert result.error is None
    assert 0 < result.output_tokens <= 8
    # No usage in llama_cpp.server's streams: prompt tokens are not measured (documented fallback).
    assert result.prompt_tokens is None, "not reported by this server: null, never guessed"
    assert result.started_at_s >= sent
    assert result.ttft_ms is not None
    assert 0 < result.ttft_ms <= result.e2e_ms
    assert len(result.itl_ms) == result.output_tokens - 1
    assert all(gap >= 0 for gap in result.itl_ms)
    assert result.ended_at_s <= time.monotonic()


def test_validate_passes(backend: OpenAIBackend) -> None:
    backend.validate()


def test_two_threads_at_once(backend: OpenAIBackend) -> None:
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(backend.generate, f"Prompt {i}", 6, True) for i in range(2)]
        results = [f.result() for f in futures]
    assert [r.error for r in results] == [None, None]
    assert all(0 < r.output_tokens <= 6 for r in results)
    # Both were sent before either finished: the client did not serialise them.
    assert max(r.started_at_s for r in results) < min(r.ended_at_s for r in results)


def test_http_error_status_is_a_result(backend: OpenAIBackend) -> None:
    # llama_cpp.server rejects max_tokens < 0 in validation and answers 500 (not 422).
    result = backend.generate("Hello", -1, ignore_eos=False)
    assert result.error is not None
    assert result.error.startswith("HTTP 500")
    assert "max_tokens" in result.error
    assert result.output_tokens == 0
    assert result.ttft_ms is None


def test_broken_stream_is_a_result(backend: OpenAIBackend) -> None:
    # A prompt over the 256-token context: llama_cpp.server answers 200 and an empty stream (no [DONE]).
    result = backend.generate("hello world " * 200, 4, ignore_eos=False)
    assert result.error is not None
    assert "[DONE]" in result.error
    assert result.output_tokens == 0
    assert result.e2e_ms > 0


def test_unreachable_server_is_retryable() -> None:
    backend = OpenAIBackend(_config(f"http://127.0.0.1:{free_port()}/v1", key_env=None))
    with pytest.raises(BackendError, match="unreachable") as info:
        backend.start()
    assert info.value.retryable
    backend.stop()


def test_missing_api_key_env_is_rejected(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(JobRejected, match=KEY_ENV):
        OpenAIBackend(_config(server.base_url)).start()


def test_wrong_api_key_is_rejected(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "wrong")
    with pytest.raises(JobRejected, match="refused the API key"):
        OpenAIBackend(_config(server.base_url)).start()


def test_unknown_model_is_rejected(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)
    with pytest.raises(JobRejected, match=r"'no-such-model'.*\['tiny'\]"):
        OpenAIBackend(_config(server.base_url, model="no-such-model")).start()


def test_generate_before_start_raises() -> None:
    with pytest.raises(BackendError, match="before start"):
        OpenAIBackend(_config("http://127.0.0.1:1/v1")).generate("x", 1, ignore_eos=False)


def test_create_backend_returns_openai_backend() -> None:
    backend = create_backend(_config("http://127.0.0.1:8000/v1"))
    assert isinstance(backend, OpenAIBackend)
    assert backend.kind == "openai"
    assert backend.max_concurrency is None


def test_usage_chunk_wins_over_chunk_count() -> None:
    # No server here sends usage in a stream; these are the lines vLLM sends with include_usage.
    stream = _Stream()
    lines = [
        'data: {"choices": [{"text": "Hi", "finish_reason": null}]}',
        "",
        ": ping",
        'data: {"choices": [{"text": " there.", "finish_reason": "length"}]}',
        'data: {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}',
        "data: [DONE]",
    ]
    for now, line in enumerate(lines, start=1):
        stream.feed(line, float(now))
    result = stream.result(0.0, 7.0, None)
    assert (result.prompt_tokens, result.output_tokens) == (5, 3)
    assert result.ttft_ms == 1000
    assert result.itl_ms == [3000]
    assert result.error is None


@pytest.mark.e2e
async def test_an_openai_job_runs_end_to_end_through_nats(
    server: Server,
    js: JetStreamContext,
    layout: Layout,
    service_env: dict[str, str],
    database_url: str,
    tmp_path: Path,
) -> None:
    """A runner pulls an `openai` job from JetStream and drives the real server at concurrency 2."""
    campaign, jobs = skeleton_jobs("unused", "cpu", name="openai-e2e")
    job = jobs[0].job.model_copy(
        update={
            "backend": _config(server.base_url),
            "workload": Workload(num_requests=6, max_output_tokens=8, concurrency=2),
            "protocol": MeasurementProtocol(meter="none", warmup_requests=1),
        }
    )
    env = {**service_env, KEY_ENV: API_KEY}
    with (
        service("llem-ingest", ["run"], service_env, tmp_path),
        service("llem-runner", ["run"], env, tmp_path),
    ):
        await submit(js, layout, campaign, [JobQueued(event_id=jobs[0].event_id, job=job)])
        rows = await wait_for(
            lambda: db_rows(
                database_url,
                "SELECT backend, model, status, output_tokens, summary FROM runs WHERE status <> 'running'",
            ),
            90,
            "the openai run to finish",
        )
    backend, model, status, output_tokens, summary = rows[0]
    assert isinstance(output_tokens, int) and isinstance(summary, dict)
    assert (backend, model, status) == ("openai", MODEL, "completed")
    assert 0 < output_tokens <= 6 * 8
    assert summary["requests_total"] == 6 and summary["requests_failed"] == 0
    assert summary["steady_state"] is not None, "concurrency 2 was reached while requests were queued"
