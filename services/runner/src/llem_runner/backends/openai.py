"""Any OpenAI-compatible HTTP server (vLLM, llama.cpp server, TGI, SGLang), through streamed /completions.

Token counts come from the `usage` the server sends at the end of the stream (asked for with
`stream_options.include_usage`). Fallback, for servers that send no usage in a stream (llama-cpp-python's
server does not): output tokens are the stream's token chunks, exact only where the server sends one chunk
per token, and prompt tokens are null: not measured, and not estimated.
Timings are per chunk: a server that packs several tokens into one chunk gives fewer, longer ITL gaps.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from llem_runner.backends.base import Backend, RequestResult
from llem_runner.errors import BackendError, JobRejected
from llem_schemas.jobs import OpenAICompatibleBackend

#: Connecting should be quick; a long prompt under heavy load may wait long for its first byte.
TIMEOUT = httpx.Timeout(600.0, connect=10.0)
#: No client-side cap on connections: the load generator, not the pool, decides the concurrency.
LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=None)
EXCERPT_CHARS = 300


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."


@dataclass
class _Stream:
    """What one server-sent-event stream has carried so far."""

    token_times: list[float] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    finish_reason: str | None = None
    done: bool = False

    def feed(self, line: str, now: float) -> None:
        """Take one line of the stream; raises ValueError on a malformed chunk or an in-stream error."""
        if not line.startswith("data:") or self.done:
            return  # blank separators, `: ping` comments, event names
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            self.done = True
            return
        chunk = json.loads(data)
        if not isinstance(chunk, dict):
            raise ValueError(f"unexpected stream chunk: {_excerpt(data)}")
        if "error" in chunk:
            raise ValueError(f"error in stream: {_excerpt(json.dumps(chunk['error']))}")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            reason = choice.get("finish_reason")
            self.finish_reason = reason or self.finish_reason
            # A chunk per decoded token; the closing chunk of some servers carries a reason but no text.
            if choice.get("text") or reason is None:
                self.token_times.append(now)

    def result(self, started: float, ended: float, error: str | None) -> RequestResult:
        """The request's result: usage counts when the server sent them, else the fallback counts."""
        if error is None and self.finish_reason is None:
            error = "stream ended without a finish_reason (the server cut the request short)"
        usage = self.usage or {}
        return RequestResult(
            prompt_tokens=int(usage["prompt_tokens"]) if "prompt_tokens" in usage else None,
            output_tokens=int(usage.get("completion_tokens", len(self.token_times))),
            started_at_s=started,
            ttft_ms=(self.token_times[0] - started) * 1000 if self.token_times else None,
            e2e_ms=(ended - started) * 1000,
            itl_ms=[(b - a) * 1000 for a, b in itertools.pairwise(self.token_times)],
            error=error,
        )


class OpenAIBackend(Backend):
    """A client of a running OpenAI-compatible server; `generate` is safe from many threads at once."""

    kind = "openai"
    max_concurrency = None

    def __init__(self, config: OpenAICompatibleBackend) -> None:
        self.config = config
        self._client: httpx.Client | None = None

    def start(self) -> None:
        """Connect and check the server serves `config.model`. Raises BackendError / JobRejected."""
        client = httpx.Client(
            base_url=self.config.base_url, headers=self._headers(), timeout=TIMEOUT, limits=LIMITS
        )
        try:
            self._check_model(client)
        except BaseException:
            client.close()
            raise
        self._client = client

    def _headers(self) -> dict[str, str]:
        name = self.config.api_key_env
        if name is None:
            return {}
        key = os.environ.get(name)
        if not key:
            raise JobRejected(f"API key environment variable {name} is not set on this runner")
        return {"Authorization": f"Bearer {key}"}

    def _check_model(self, client: httpx.Client) -> None:
        base = self.config.base_url
        try:
            response = client.get("models")
        except httpx.HTTPError as exc:
            raise BackendError(f"OpenAI-compatible server at {base} is unreachable: {exc}") from exc
        if response.status_code in (401, 403):
            raise JobRejected(f"server at {base} refused the API key: HTTP {response.status_code}")
        if response.is_error:
            raise BackendError(f"GET {base}/models: HTTP {response.status_code}: {_excerpt(response.text)}")
        try:
            models = response.json().get("data") or []
            ids = [m["id"] for m in models if isinstance(m, dict) and "id" in m]
        except (ValueError, AttributeError, TypeError):
            ids = []  # the server does not list its models: nothing to check
        if ids and self.config.model not in ids:
            raise JobRejected(f"model {self.config.model!r} is not served at {base}; it serves {ids}")

    def generate(self, prompt: str, max_tokens: int, ignore_eos: bool) -> RequestResult:
        """Stream one completion at temperature 0. `ignore_eos` is sent as vLLM's `ignore_eos`;
        servers that do not know it (llama-cpp-python's among them) may ignore it and stop at EOS."""
        client = self._client
        if client is None:
            raise BackendError("generate() before start()")
        body: dict[str, Any] = {
            "model": self.config.model,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if ignore_eos:
            body["ignore_eos"] = True
        stream, error = _Stream(), None
        started = time.monotonic()
        try:
            with client.stream("POST", "completions", json=body) as response:
                if response.is_error:
                    response.read()
                    error = f"HTTP {response.status_code}: {_excerpt(response.text)}"
                else:
                    for line in response.iter_lines():
                        stream.feed(line, time.monotonic())
                    if not stream.done:
                        error = "stream ended before `data: [DONE]`"
        except (httpx.HTTPError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        return stream.result(started, time.monotonic(), error)

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
