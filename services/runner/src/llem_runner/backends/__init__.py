"""Backends, chosen by the job's `kind`-tagged config."""

from __future__ import annotations

from pathlib import Path

from llem_runner.backends.base import Backend, RequestResult
from llem_runner.errors import BackendUnavailable
from llem_schemas.jobs import BackendConfig, LlamaCppBackend, OpenAICompatibleBackend, VllmBackend


def create_backend(config: BackendConfig, model_dir: Path | None = None) -> Backend:
    if isinstance(config, LlamaCppBackend):
        from llem_runner.backends.llama_cpp import LlamaCppBackend as Impl

        return Impl(config, model_dir)
    if isinstance(config, OpenAICompatibleBackend):
        from llem_runner.backends.openai import OpenAIBackend

        return OpenAIBackend(config)
    if isinstance(config, VllmBackend):
        from llem_runner.backends.vllm import create_vllm_backend

        return create_vllm_backend(config)
    raise BackendUnavailable(f"backend kind {config.kind!r} is not implemented by this runner yet")


__all__ = ["Backend", "RequestResult", "create_backend"]
