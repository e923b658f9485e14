"""The inference backend interface: explicit lifecycle (start, validate, generate, stop).

Backends are synchronous; the load generator drives them from worker threads (one per request in
flight), so `generate` must be safe to call from several threads when `max_concurrency` > 1.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from llem_runner.errors import BackendError


@dataclass(frozen=True)
class RequestResult:
    """One request's outcome, timed by the backend from its own token stream."""

    prompt_tokens: int | None  # None: the backend could not tell (never guessed)
    output_tokens: int
    started_at_s: float  # time.monotonic() when sent
    ttft_ms: float | None
    e2e_ms: float
    itl_ms: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def ended_at_s(self) -> float:
        return self.started_at_s + self.e2e_ms / 1000


class Backend(ABC):
    kind: str
    #: Most requests this backend can serve at once (None: no limit of its own).
    max_concurrency: int | None = None
    #: True for engines that take the whole batch at once (vLLM offline): see `generate_batch`.
    batch_mode: bool = False

    @abstractmethod
    def start(self) -> None:
        """Load the model or connect to the server. Raises BackendError / JobRejected."""

    def validate(self) -> None:
        """Check the started backend answers one short request. Raises BackendError."""
        result = self.generate("Hello", 1, ignore_eos=True)
        if result.error is not None:
            raise BackendError(f"{self.kind} backend failed its validation request: {result.error}")

    @abstractmethod
    def generate(self, prompt: str, max_tokens: int, ignore_eos: bool) -> RequestResult:
        """Run one request to completion (blocking). Errors of the request go in `error`."""

    def generate_batch(self, prompts: list[str], max_tokens: int, ignore_eos: bool) -> list[RequestResult]:
        """Run a whole batch at once; only for `batch_mode` backends."""
        raise NotImplementedError(f"{self.kind} has no batch mode")

    @abstractmethod
    def stop(self) -> None:
        """Release the model or server. Safe to call twice."""

    @property
    def version(self) -> str | None:
        return None

    @property
    def model_file(self) -> str | None:
        """Local model file to fingerprint (SHA-256), if there is one."""
        return None
