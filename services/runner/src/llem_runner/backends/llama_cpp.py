"""In-process llama-cpp-python on a GGUF file."""

from __future__ import annotations

import importlib.metadata
import itertools
import time
from pathlib import Path

from llem_runner.backends.base import Backend, RequestResult
from llem_runner.errors import BackendError, JobRejected
from llem_schemas.jobs import LlamaCppBackend as LlamaCppConfig


class LlamaCppBackend(Backend):
    """One in-process model: llama-cpp-python's Llama is not thread-safe, so requests run one at a time.
    For concurrent load on llama.cpp, run its server and use the `openai` backend."""

    kind = "llama_cpp"
    max_concurrency = 1

    def __init__(self, config: LlamaCppConfig, model_dir: Path | None = None) -> None:
        self.config = config
        path = Path(config.model_path)
        self.model_path = path if path.is_absolute() or model_dir is None else model_dir / path
        self._llm: object | None = None

    def start(self) -> None:
        if not self.model_path.is_file():
            raise JobRejected(f"model file not found on this runner: {self.model_path}")
        from llama_cpp import Llama

        try:
            self._llm = Llama(
                model_path=str(self.model_path),
                n_ctx=self.config.n_ctx,
                n_threads=self.config.n_threads,
                n_threads_batch=self.config.n_threads,  # else prompt eval spins on every core
                n_gpu_layers=self.config.n_gpu_layers,
                seed=self.config.seed,
                verbose=False,
            )
        except ValueError as exc:
            raise BackendError(f"llama.cpp could not load {self.model_path}: {exc}") from exc

    def generate(self, prompt: str, max_tokens: int, ignore_eos: bool) -> RequestResult:
        llm = self._llm
        if llm is None:
            raise BackendError("generate() before start()")
        prompt_tokens = len(llm.tokenize(prompt.encode()))  # type: ignore[attr-defined]
        logit_bias = {llm.token_eos(): -1e9} if ignore_eos else None  # type: ignore[attr-defined]
        started = time.monotonic()
        token_times: list[float] = []
        stream = llm.create_completion(  # type: ignore[attr-defined]
            prompt, max_tokens=max_tokens, stream=True, logit_bias=logit_bias, temperature=0.0
        )
        for chunk in stream:
            # One chunk per generated token, then a terminating chunk with the finish reason.
            if chunk["choices"][0]["finish_reason"] is None:
                token_times.append(time.monotonic())
        ended = time.monotonic()
        return RequestResult(
            prompt_tokens=prompt_tokens,
            output_tokens=len(token_times),
            started_at_s=started,
            ttft_ms=(token_times[0] - started) * 1000 if token_times else None,
            e2e_ms=(ended - started) * 1000,
            itl_ms=[(b - a) * 1000 for a, b in itertools.pairwise(token_times)],
        )

    def stop(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()  # type: ignore[attr-defined]

    @property
    def version(self) -> str | None:
        return importlib.metadata.version("llama_cpp_python")

    @property
    def model_file(self) -> str | None:
        return str(self.model_path)
