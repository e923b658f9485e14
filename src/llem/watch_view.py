"""What `llem campaign watch` shows: a live rich view on a terminal, plain lines anywhere else.

Both are pure functions of the watch state (see `llem.watch`); nothing here reads NATS.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from llem.watch import STATUSES, JobView, RunView, WatchState, counts

_BAR_STYLE = {
    "queued": "grey50",
    "running": "cyan",
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
}


def eta(state: WatchState) -> str:
    p = state.progress
    if p is None or p.eta_s is None:
        return "unknown"
    seconds = round(p.eta_s)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def live_runners(state: WatchState) -> str:
    return "?" if state.progress is None else str(state.progress.live_runners)


def power(run: RunView | None) -> str:
    value = run.power_w if run else None
    return "no power reading" if value is None else f"{value:.1f} W"


def energy(run: RunView | None) -> str:
    parts = []
    if run is not None and run.energy_j is not None:
        parts.append(f"{run.energy_j:.1f} J")
    if run is not None and run.cpu_energy_j is not None:
        parts.append(f"cpu {run.cpu_energy_j:.1f} J")
    return ", ".join(parts) or "-"


def tokens_per_s(run: RunView | None) -> str:
    value = run.output_tokens_per_s if run else None
    return "- tok/s" if value is None else f"{value:.1f} tok/s"


def header(state: WatchState) -> str:
    name = f" ({state.name})" if state.name else ""
    cancelled = "  CANCELLED" if state.cancelled else ""
    return f"campaign {state.campaign_id}{name}  ETA {eta(state)}  runners {live_runners(state)}{cancelled}"


def render(state: WatchState) -> RenderableType:
    """The terminal view: a bar per job state, then the running jobs with their live readings."""
    c = counts(state)
    bars = Table.grid(padding=(0, 1))
    for status in STATUSES:
        bar = ProgressBar(total=max(c.total, 1), completed=c.of(status), width=40,
                          complete_style=_BAR_STYLE[status], finished_style=_BAR_STYLE[status])  # fmt: skip
        bars.add_row(Text(status, style=_BAR_STYLE[status]), bar, f"{c.of(status)}/{c.total}")
    running = state.running()
    if not running:
        return Group(Text(header(state), style="bold"), bars, Text("no job running", style="italic"))
    jobs = Table("job", "runner", "attempt", "power", "energy", "output", title="running jobs")
    for job, run in running:
        jobs.add_row(str(job.job_id)[:8], job.runner_id or "-", str(job.attempt),
                     power(run), energy(run), tokens_per_s(run))  # fmt: skip
    return Group(Text(header(state), style="bold"), bars, jobs)


def _job_line(job: JobView, run: RunView | None) -> str:
    line = f"job {str(job.job_id)[:8]} {job.status}"
    if job.runner_id:
        line += f" on {job.runner_id} (attempt {job.attempt})"
    if job.status != "queued" and run is not None:
        line += f": {power(run)}, energy {energy(run)}, {tokens_per_s(run)}"
    if job.reason and job.status != "completed":
        line += f" [{job.reason}]"
    return line


def _summary(state: WatchState) -> str:
    return f"{counts(state).line()} eta={eta(state)} runners={live_runners(state)}"


def plain_lines(before: WatchState | None, after: WatchState) -> list[str]:
    """Lines for a log or a pipe: each job state change, and the counts whenever they change."""
    lines = []
    for job_id in sorted(after.jobs, key=str):
        job, old = after.jobs[job_id], before.jobs.get(job_id) if before else None
        if old is None or (old.status, old.attempt, old.runner_id) != (
            job.status,
            job.attempt,
            job.runner_id,
        ):
            lines.append(_job_line(job, after.runs.get(job.run_id) if job.run_id else None))
    if before is None or _summary(before) != _summary(after):
        lines.append(_summary(after))
    return lines


class TerminalView:
    """The live view, started at the first state (so an error never follows an empty screen)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.state: WatchState | None = None
        self.live: Live | None = None

    def _render(self) -> RenderableType:
        return render(self.state) if self.state is not None else Text("")

    def show(self, state: WatchState) -> None:
        self.state = state  # read by Live's refresh thread: one reference swap, never a half state
        if self.live is None:
            self.live = Live(get_renderable=self._render, console=self.console, refresh_per_second=4)
            self.live.start()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()  # a last refresh with the final state


class PlainView:
    """Plain lines, for a pipe or a log: only what changed since the last state."""

    def __init__(self, echo: Callable[[str], object]) -> None:
        self.echo = echo
        self.before: WatchState | None = None

    def show(self, state: WatchState) -> None:
        for line in plain_lines(self.before, state):
            self.echo(line)
        self.before = state

    def close(self) -> None:
        return None
