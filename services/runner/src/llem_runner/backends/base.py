"""The inference backend interface: explicit lifecycle (start, validate, generate, stop)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestResult:
    """One request's outcome, timed by the backend from its own token stream."""

    prompt_tokens: int
    output_tokens: int
    started_at_s: float  # time.monotonic() when sent
    ttft_ms: float | None
    e2e_ms: float
    itl_ms: list[float] = field(default_factory=list)
    error: str | None = None


class Backend(ABC):
    kind: str

    @abstractmethod
    def start(self) -> None:
        """Load the model or connect to the server. Raises BackendError."""

    def validate(self) -> None:  # noqa: B027 (optional hook)
        """Check the loaded backend can serve one token. Raises BackendError."""

    @abstractmethod
    def generate(self, prompt: str, max_tokens: int, ignore_eos: bool) -> RequestResult:
        """Run one request to completion (blocking)."""

    @abstractmethod
    def stop(self) -> None:
        """Release the model or server."""

    @property
    def version(self) -> str | None:
        return None
