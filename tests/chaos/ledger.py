"""The reliability ledger: what each fault did to what producers saw acknowledged.

Every chaos test appends one `Outcome` per fault it injected (`record`), counted Jepsen-style
from both ends: what the producers saw acknowledged (a PubAck for a metric sample, a job queued)
and what the consumers read back (rows in TimescaleDB, end states in the scheduler's store).

- lost: acknowledged, never stored; duplicated: stored more than once; unexpected: stored,
  never sent by anybody (or a job ended twice / never).
- recovery_s: from the fault healed to the pipeline caught up (every acknowledged item stored,
  every job at its end state), measured by the test, not asserted against a time.

`python -m tests.chaos.report` turns the recorded outcomes into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_ENV = "LLEM_CHAOS_RESULTS"
DEFAULT_RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "chaos.jsonl"


def results_path() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or DEFAULT_RESULTS)


@dataclass
class Outcome:
    fault: str  # what was done, e.g. "kill -9 of ingest (1 of 2), restarted"
    load: str  # what ran meanwhile, e.g. "30 jobs on 2 runners + 200 samples/s of metric load"
    duration_s: float  # how long the fault lasted
    jobs: int = 0  # jobs submitted
    jobs_ended_once: int = 0  # exactly one end state in the database and in the scheduler's store
    samples_acked: int = 0  # metric samples whose batch got a PubAck
    samples_stored: int = 0  # distinct acknowledged samples found in the database
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    recovery_s: float | None = None
    observed: dict[str, object] = field(default_factory=dict)  # fault-specific findings

    @property
    def clean(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.unexpected == 0
            and self.jobs_ended_once == self.jobs
            and self.samples_stored == self.samples_acked
        )


def record(outcome: Outcome, path: Path | None = None) -> None:
    """Append one outcome (one JSON line) to the results file of this `make chaos` run."""
    target = path or results_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as f:
        f.write(json.dumps(asdict(outcome), sort_keys=True) + "\n")


def load(path: Path | None = None) -> list[Outcome]:
    source = path or results_path()
    if not source.exists():
        return []
    return [Outcome(**json.loads(line)) for line in source.read_text().splitlines() if line.strip()]
