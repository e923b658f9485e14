/**
 * The campaign page's state: one row per job, applied from the snapshot (`GET /api/campaigns/{id}`)
 * and from live events in any order. Every rule is order-free, so repeated, late or out-of-order
 * events leave the state in-order events leave:
 * - a job's state moves only to a higher `revision` (the scheduler's order of its changes);
 * - a run (one attempt) moves from running to completed/failed, never back;
 * - the newest progress (by `occurred_at`) wins; a cancellation, once seen, stays.
 * Rows are replaced, not mutated, when they change, so a memoised table row re-renders only then.
 */
import type { CampaignEvent, JobSpec, JobStatus, RunSummary } from "./events";

export interface RunAttempt {
  run_id: string;
  attempt: number;
  runner_id: string;
  state: "running" | "completed" | "failed";
  meter: string | null;
  reason: string | null;
  summary: RunSummary | null;
}

export interface JobRow {
  job_id: string;
  status: JobStatus;
  revision: number;
  attempt: number;
  runner_id: string | null;
  run_id: string | null;
  reason: string | null;
  updated_at: string | null;
  spec: JobSpec | null;
  runs: RunAttempt[]; // by attempt
}

export interface Progress {
  total: number;
  eta_s: number | null;
  mean_job_duration_s: number | null;
  live_runners: number;
  status: "queued" | "running" | "finished" | "cancelled";
  occurred_at: string;
}

export interface CampaignState {
  jobs: Map<string, JobRow>;
  progress: Progress | null;
  cancelled: { reason: string; at: string } | null;
  total: number; // jobs the campaign was submitted with (0: not known yet)
}

export interface SnapshotJob {
  job_id: string;
  status: JobStatus;
  revision: number;
  attempt: number;
  runner_id: string | null;
  run_id: string | null;
  status_reason: string | null;
  updated_at?: string | null;
  job?: JobSpec | null;
}

export function emptyCampaign(): CampaignState {
  return { jobs: new Map(), progress: null, cancelled: null, total: 0 };
}

function blank(jobId: string): JobRow {
  return {
    job_id: jobId,
    status: "queued",
    revision: 0,
    attempt: 0,
    runner_id: null,
    run_id: null,
    reason: null,
    updated_at: null,
    spec: null,
    runs: [],
  };
}

const RUN_RANK = { running: 0, failed: 1, completed: 2 } as const;

function withRun(current: JobRow, run: RunAttempt): JobRow {
  const old = current.runs.find((r) => r.run_id === run.run_id);
  let merged: RunAttempt = run;
  if (old) {
    if (RUN_RANK[old.state] >= RUN_RANK[run.state]) {
      if (old.meter !== null || run.meter === null) return current; // seen already, or older news
      merged = { ...old, meter: run.meter };
    } else {
      merged = { ...run, meter: run.meter ?? old.meter };
    }
  }
  const runs = [...current.runs.filter((r) => r.run_id !== run.run_id), merged];
  runs.sort((a, b) => a.attempt - b.attempt || a.run_id.localeCompare(b.run_id));
  return { ...current, runs };
}

function put(state: CampaignState, next: JobRow, before: JobRow | undefined): boolean {
  if (next === before) return false;
  state.jobs.set(next.job_id, next);
  return true;
}

/** Apply one event; true when something the page shows changed. */
export function applyEvent(state: CampaignState, event: CampaignEvent): boolean {
  switch (event.type) {
    case "job.status": {
      const before = state.jobs.get(event.job_id);
      const current = before ?? blank(event.job_id);
      if (event.revision <= current.revision) return put(state, current, before);
      return put(
        state,
        {
          ...current,
          status: event.status,
          revision: event.revision,
          attempt: event.attempt,
          runner_id: event.runner_id ?? null,
          run_id: event.run_id ?? null,
          reason: event.reason ?? null,
          updated_at: event.occurred_at,
        },
        before,
      );
    }
    case "run.started":
    case "run.completed":
    case "run.failed": {
      const before = state.jobs.get(event.job_id);
      let current = before ?? blank(event.job_id);
      if (event.type === "run.started" && current.spec === null) current = { ...current, spec: event.job };
      const run: RunAttempt = {
        run_id: event.run_id,
        attempt: event.attempt,
        runner_id: event.runner_id,
        state: event.type === "run.started" ? "running" : event.type === "run.completed" ? "completed" : "failed",
        meter: event.type === "run.started" ? event.meter : event.type === "run.completed" ? event.summary.measurement.meter : null,
        reason: event.type === "run.failed" ? event.reason : null,
        summary: event.type === "run.completed" ? event.summary : null,
      };
      return put(state, withRun(current, run), before);
    }
    case "campaign.progress": {
      if (state.progress && state.progress.occurred_at >= event.occurred_at) return false;
      state.progress = {
        total: event.total,
        eta_s: event.eta_s ?? null,
        mean_job_duration_s: event.mean_job_duration_s ?? null,
        live_runners: event.live_runners,
        status: event.status,
        occurred_at: event.occurred_at,
      };
      state.total = Math.max(state.total, event.total);
      return true;
    }
    case "campaign.submitted": {
      if (state.total >= event.job_count) return false;
      state.total = event.job_count;
      return true;
    }
    case "campaign.cancelled": {
      if (state.cancelled) return false;
      state.cancelled = { reason: event.reason ?? "", at: event.occurred_at };
      return true;
    }
  }
}

/** Apply the REST snapshot (the database's view, maybe behind or ahead of the events). */
export function applySnapshot(state: CampaignState, jobs: readonly SnapshotJob[], jobCount: number): boolean {
  let changed = false;
  if (jobCount > state.total) {
    state.total = jobCount;
    changed = true;
  }
  for (const job of jobs) {
    const before = state.jobs.get(job.job_id);
    let current = before ?? blank(job.job_id);
    if (current.spec === null && job.job) current = { ...current, spec: job.job };
    if (job.revision > current.revision) {
      current = {
        ...current,
        status: job.status,
        revision: job.revision,
        attempt: job.attempt,
        runner_id: job.runner_id,
        run_id: job.run_id,
        reason: job.status_reason,
        updated_at: job.updated_at ?? null,
      };
    }
    changed = put(state, current, before) || changed;
  }
  return changed;
}

export interface Counts {
  total: number;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** Counts per state from the rows; jobs not seen yet count as queued. */
export function counts(state: CampaignState): Counts {
  const out: Counts = { total: 0, queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const job of state.jobs.values()) out[job.status]++;
  out.total = Math.max(state.total, state.jobs.size);
  out.queued += out.total - state.jobs.size;
  return out;
}

/** The campaign's end, once every job has ended. */
export function outcome(state: CampaignState): "completed" | "ended with failures" | "cancelled" | null {
  const c = counts(state);
  if (c.total === 0 || c.queued + c.running > 0) return null;
  if (c.completed === c.total) return "completed";
  return state.cancelled ? "cancelled" : "ended with failures";
}

/** The run shown for a job: its current run, else its latest attempt. */
export function currentRun(job: JobRow): RunAttempt | null {
  return job.runs.find((r) => r.run_id === job.run_id) ?? job.runs[job.runs.length - 1] ?? null;
}

/** Earlier attempts that did not count: every run but the current one. */
export function superseded(job: JobRow): RunAttempt[] {
  const current = currentRun(job);
  return job.runs.filter((r) => r !== current);
}
