"""vLLM: in-process offline batches (`LLM.generate`) or a managed `vllm serve` subprocess driven through
the OpenAI-compatible backend.

vLLM is an optional extra (`llem-runner[vllm]`, Linux GPU hosts) and is imported only when a vLLM
backend starts, so this module imports everywhere.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from llem_runner.backends.base import Backend, RequestResult
from llem_runner.backends.managed_server import ManagedServer, free_port, port_in_use
from llem_runner.errors import BackendError, BackendUnavailable, JobRejected
from llem_schemas.jobs import OpenAICompatibleBackend, VllmBackend

if TYPE_CHECKING:
    from llem_runner.backends.openai import OpenAIBackend

INSTALL_HINT = (
    "install the extra with pip install 'llem-runner[vllm]' "
    "(or uv sync --package llem-runner --extra vllm) on a Linux GPU host"
)
SERVE_HOST = "127.0.0.1"


def _import_vllm() -> ModuleType:
    """Import vllm, or raise BackendUnavailable (not retryable: this runner lacks it)."""
    try:
        return importlib.import_module("vllm")
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name != "vllm" and not exc.name.startswith("vllm."):
            raise BackendUnavailable(
                f"vLLM is installed on this runner but cannot be imported ({exc}); {INSTALL_HINT}"
            ) from exc
        raise BackendUnavailable(f"vLLM is not installed on this runner: {INSTALL_HINT}") from exc
    except ImportError as exc:
        raise BackendUnavailable(
            f"vLLM is installed on this runner but cannot be imported ({exc}); {INSTALL_HINT}"
        ) from exc


def _vllm_version() -> str | None:
    try:
        return importlib.metadata.version("vllm")
    except importlib.metadata.PackageNotFoundError:
        return None


def engine_kwargs(config: VllmBackend) -> dict[str, object]:
    """Keyword arguments of `vllm.LLM(...)` (offline mode); None values are left to vLLM's defaults.

    `extra_args` are `vllm serve` flags and have no place here (offline mode rejects them)."""
    kwargs: dict[str, object | None] = {
        "model": config.model,
        "tensor_parallel_size": config.tensor_parallel_size,
        "dtype": config.dtype,
        "quantization": config.quantization,
        "max_model_len": config.max_model_len,
        "gpu_memory_utilization": config.gpu_memory_utilization,
        "max_num_seqs": config.max_num_seqs,
        "seed": config.seed,
    }
    return {name: value for name, value in kwargs.items() if value is not None}


def serve_command(config: VllmBackend, port: int) -> list[str]:
    """The command line of vLLM's OpenAI-compatible server (what `vllm serve MODEL` runs), listening on
    127.0.0.1:`port`. Fields left None are omitted; `extra_args` come last, as given."""
    flags: list[tuple[str, object | None]] = [
        ("--tensor-parallel-size", config.tensor_parallel_size),
        ("--dtype", config.dtype),
        ("--quantization", config.quantization),
        ("--max-model-len", config.max_model_len),
        ("--gpu-memory-utilization", config.gpu_memory_utilization),
        ("--max-num-seqs", config.max_num_seqs),
        ("--seed", config.seed),
    ]
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", config.model]
    command += ["--host", SERVE_HOST, "--port", str(port)]
    for flag, value in flags:
        if value is not None:
            command += [flag, str(value)]
    return command + list(config.extra_args)


def request_timing(
    metrics: object | None, batch_start_wall_s: float, batch_start_mono_s: float, batch_e2e_ms: float
) -> tuple[float, float | None, float]:
    """(started_at_s on the monotonic clock, TTFT ms or None, e2e ms) of one request of a batch.

    From the request's `RequestOutput.metrics` when vLLM filled it in:
    - V0-style `RequestMetrics` (arrival_time, first_token_time, finished_time; wall-clock seconds):
      TTFT = first_token_time - arrival_time, e2e = finished_time - arrival_time;
    - V1 `RequestStateStats` (arrival_time wall-clock, first_token_latency seconds, first_token_ts and
      last_token_ts engine-core monotonic seconds): TTFT = first_token_latency,
      e2e = first_token_latency + (last_token_ts - first_token_ts).
    Otherwise (no metrics, as when vLLM does not collect per-request stats): TTFT is None and e2e is
    the wall time of the whole batch, started at the batch's start.
    """

    def number(name: str) -> float | None:
        value = getattr(metrics, name, None)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            return None
        return float(value)

    arrival = number("arrival_time")
    if arrival is not None:
        started = batch_start_mono_s + max(0.0, arrival - batch_start_wall_s)
        first, finished = number("first_token_time"), number("finished_time")
        if first is not None and finished is not None and arrival <= first <= finished:
            return started, (first - arrival) * 1000, (finished - arrival) * 1000
        latency = number("first_token_latency")
        first_ts, last_ts = number("first_token_ts"), number("last_token_ts")
        if latency is not None and first_ts is not None and last_ts is not None and first_ts <= last_ts:
            return started, latency * 1000, (latency + last_ts - first_ts) * 1000
    return batch_start_mono_s, None, batch_e2e_ms


class VllmOfflineBackend(Backend):
    """vLLM in-process: `LLM.generate` over the whole batch at once (`batch_mode`).

    Timings come from each `RequestOutput.metrics` when vLLM fills it in, else TTFT is None and e2e
    is the batch's wall time (see `request_timing`); no inter-token latencies. `vllm.LLM` is not
    thread-safe, so single `generate` calls (warm-up, validation) run one at a time.
    """

    kind = "vllm"
    batch_mode = True
    max_concurrency = 1

    def __init__(self, config: VllmBackend) -> None:
        self.config = config
        self._vllm: ModuleType | None = None
        self._llm: object | None = None

    def start(self) -> None:
        if self.config.extra_args:
            raise JobRejected(
                f"vLLM offline mode takes no extra_args (they are `vllm serve` flags): {self.config.extra_args}"
            )
        vllm = _import_vllm()
        try:
            self._llm = vllm.LLM(**engine_kwargs(self.config))
        except Exception as exc:  # vLLM raises ValueError, RuntimeError, OSError... while loading
            raise BackendError(f"vLLM could not load {self.config.model}: {exc}") from exc
        self._vllm = vllm

    def generate_batch(self, prompts: list[str], max_tokens: int, ignore_eos: bool) -> list[RequestResult]:
        """Run the batch through `LLM.generate`; a failure of the engine fails the whole batch
        (BackendError)."""
        vllm, llm = self._vllm, self._llm
        if vllm is None or llm is None:
            raise BackendError("generate_batch() before start()")
        params = vllm.SamplingParams(
            max_tokens=max_tokens, ignore_eos=ignore_eos, temperature=0.0, seed=self.config.seed
        )
        start_wall, start_mono = time.time(), time.monotonic()
        try:
            outputs = llm.generate(prompts, sampling_params=params, use_tqdm=False)  # type: ignore[attr-defined]
        except Exception as exc:
            raise BackendError(f"vLLM failed on a batch of {len(prompts)} prompts: {exc}") from exc
        batch_ms = (time.monotonic() - start_mono) * 1000
        if len(outputs) != len(prompts):
            raise BackendError(f"vLLM returned {len(outputs)} outputs for {len(prompts)} prompts")
        results = []
        for output in outputs:
            completions = output.outputs
            started, ttft_ms, e2e_ms = request_timing(
                getattr(output, "metrics", None), start_wall, start_mono, batch_ms
            )
            results.append(
                RequestResult(
                    prompt_tokens=len(output.prompt_token_ids or []),
                    output_tokens=len(completions[0].token_ids) if completions else 0,
                    started_at_s=started,
                    ttft_ms=ttft_ms,
                    e2e_ms=e2e_ms,
                )
            )
        return results

    def generate(self, prompt: str, max_tokens: int, ignore_eos: bool) -> RequestResult:
        """A batch of one; an engine failure comes back in `error`."""
        started = time.monotonic()
        try:
            return self.generate_batch([prompt], max_tokens, ignore_eos)[0]
        except BackendError as exc:
            return RequestResult(
                prompt_tokens=None,
                output_tokens=0,
                started_at_s=started,
                ttft_ms=None,
                e2e_ms=(time.monotonic() - started) * 1000,
                error=str(exc),
            )

    def stop(self) -> None:
        llm, self._llm = self._llm, None
        self._vllm = None
        del llm  # vLLM frees the engine (and its GPU memory) when the LLM object goes

    @property
    def version(self) -> str | None:
        return _vllm_version()


#: Builds the server command for a port (tests run another OpenAI-compatible server).
CommandFactory = Callable[[int], Sequence[str]]


class VllmServeBackend(Backend):
    """vLLM's OpenAI-compatible server as a managed subprocess on 127.0.0.1, driven through the
    `openai` backend. `command` replaces `serve_command` (and the check that vLLM is installed);
    `health_path` is the URL path that answers 200 once the server is ready."""

    kind = "vllm"

    def __init__(
        self, config: VllmBackend, command: CommandFactory | None = None, health_path: str = "/health"
    ) -> None:
        self.config = config
        self._command = command
        self.health_path = health_path
        self.port: int | None = None
        self._server: ManagedServer | None = None
        self._client: OpenAIBackend | None = None

    def start(self) -> None:
        if self._server is not None:
            raise BackendError(f"vllm serve backend already started on port {self.port}")
        if self._command is None:
            _import_vllm()  # fail fast (not retryable) on a runner without the extra
        from llem_runner.backends.openai import OpenAIBackend

        if self.config.port is not None and port_in_use(self.config.port, SERVE_HOST):
            raise BackendError(f"port {self.config.port} on {SERVE_HOST} is already in use")
        port = self.config.port or free_port(SERVE_HOST)
        command = self._command(port) if self._command is not None else serve_command(self.config, port)
        server = ManagedServer(
            command,
            f"http://{SERVE_HOST}:{port}{self.health_path}",
            startup_timeout_s=self.config.startup_timeout_s,
            name="vllm-serve",
        )
        server.start()
        self._server, self.port = server, port
        try:
            client = OpenAIBackend(
                OpenAICompatibleBackend(base_url=f"http://{SERVE_HOST}:{port}/v1", model=self.config.model)
            )
            client.start()
        except BaseException:
            self.stop()
            raise
        self._client = client

    def generate(self, prompt: str, max_tokens: int, ignore_eos: bool) -> RequestResult:
        client = self._client
        if client is None:
            raise BackendError("generate() before start()")
        return client.generate(prompt, max_tokens, ignore_eos)

    def stop(self) -> None:
        client, self._client = self._client, None
        server, self._server = self._server, None
        try:
            if client is not None:
                client.stop()
        finally:
            if server is not None:
                server.stop()

    @property
    def version(self) -> str | None:
        return _vllm_version()


def create_vllm_backend(config: VllmBackend) -> Backend:
    if config.mode == "offline":
        return VllmOfflineBackend(config)
    return VllmServeBackend(config)
