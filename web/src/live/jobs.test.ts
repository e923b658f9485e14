import { describe, expect, it } from "vitest";
import type { CampaignEvent, JobStatus } from "./events";
import { applyEvent, applySnapshot, counts, currentRun, emptyCampaign, outcome, superseded, type CampaignState } from "./jobs";

const C = "c0000000-0000-4000-8000-000000000000";
let clock = 0;
const at = () => new Date(Date.UTC(2026, 11, 3, 12, 0, clock++)).toISOString();

function status(job: string, s: JobStatus, revision: number, extra: Partial<{ attempt: number; run_id: string; runner_id: string; reason: string }> = {}): CampaignEvent {
  return { schema_version: 2, type: "job.status", event_id: `${job}-${revision}`, occurred_at: at(), job_id: job, campaign_id: C, pool: "cpu", status: s, revision, attempt: extra.attempt ?? 0, run_id: extra.run_id ?? null, runner_id: extra.runner_id ?? null, reason: extra.reason ?? null };
}
const job = { job_id: "j1" } as never;
function started(jobId: string, run: string, attempt: number): CampaignEvent {
  return { schema_version: 2, type: "run.started", event_id: `${run}-s`, occurred_at: at(), run_id: run, job_id: jobId, campaign_id: C, runner_id: "r1", attempt, job, meter: "none", fingerprint: {} as never };
}
function completed(jobId: string, run: string, attempt: number, jPerToken: number | null): CampaignEvent {
  const summary = { energy_per_output_token_j: jPerToken, measurement: { meter: "none" } } as never;
  return { schema_version: 2, type: "run.completed", event_id: `${run}-c`, occurred_at: at(), run_id: run, job_id: jobId, campaign_id: C, runner_id: "r1", attempt, summary };
}
function failed(jobId: string, run: string, attempt: number): CampaignEvent {
  return { schema_version: 2, type: "run.failed", event_id: `${run}-f`, occurred_at: at(), run_id: run, job_id: jobId, campaign_id: C, runner_id: "r1", attempt, reason: "runner lost", failure_kind: "unexpected", error_type: "RunnerLost", retryable: true };
}
function progress(total: number, eta: number | null): CampaignEvent {
  return { schema_version: 2, type: "campaign.progress", event_id: `p${clock}`, occurred_at: at(), campaign_id: C, status: "running", total, queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, eta_s: eta, mean_job_duration_s: null, live_runners: 1 };
}

/** A campaign's history: j1 retried after a lost runner, j2 completed, j3 cancelled while queued. */
function history(): CampaignEvent[] {
  clock = 0;
  return [
    { schema_version: 2, type: "campaign.submitted", event_id: "sub", occurred_at: at(), campaign_id: C, name: "t", description: "", job_count: 3 },
    status("j1", "queued", 1),
    status("j2", "queued", 1),
    status("j3", "queued", 1),
    progress(3, null),
    status("j1", "running", 2, { attempt: 1, run_id: "r-a", runner_id: "r1" }),
    started("j1", "r-a", 1),
    failed("j1", "r-a", 1),
    status("j1", "queued", 3, { attempt: 1, reason: "requeued: runner lost" }),
    status("j1", "running", 4, { attempt: 2, run_id: "r-b", runner_id: "r1" }),
    started("j1", "r-b", 2),
    completed("j1", "r-b", 2, 0.5),
    status("j1", "completed", 5, { attempt: 2, run_id: "r-b", runner_id: "r1" }),
    status("j2", "running", 2, { attempt: 1, run_id: "r-c", runner_id: "r1" }),
    started("j2", "r-c", 1),
    progress(3, 12),
    completed("j2", "r-c", 1, null),
    status("j2", "completed", 3, { attempt: 1, run_id: "r-c", runner_id: "r1" }),
    { schema_version: 2, type: "campaign.cancelled", event_id: "can", occurred_at: at(), campaign_id: C, reason: "enough" },
    status("j3", "cancelled", 2, { reason: "campaign cancelled" }),
    progress(3, 0),
  ];
}

function replay(events: CampaignEvent[]): CampaignState {
  const state = emptyCampaign();
  for (const e of events) applyEvent(state, e);
  return state;
}

function view(state: CampaignState) {
  return {
    jobs: [...state.jobs.values()].sort((a, b) => a.job_id.localeCompare(b.job_id)),
    progress: state.progress,
    cancelled: state.cancelled,
    total: state.total,
  };
}

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("the campaign reducer", () => {
  it("ends a campaign's history in the expected state", () => {
    const state = replay(history());
    const j1 = state.jobs.get("j1");
    expect(j1?.status).toBe("completed");
    expect(j1 && currentRun(j1)?.summary?.energy_per_output_token_j).toBe(0.5);
    expect(j1 && superseded(j1).map((r) => [r.run_id, r.state])).toEqual([["r-a", "failed"]]);
    expect(state.jobs.get("j3")?.reason).toBe("campaign cancelled");
    expect(counts(state)).toEqual({ total: 3, queued: 0, running: 0, completed: 2, failed: 0, cancelled: 1 });
    expect(state.progress?.eta_s).toBe(0);
    expect(outcome(state)).toBe("cancelled");
  });

  it("leaves the same state for shuffled and repeated events as for in-order ones", () => {
    const events = history();
    const expected = view(replay(events));
    for (let seed = 1; seed <= 50; seed++) {
      const noisy = shuffled([...events, ...shuffled(events, seed + 100).slice(0, 8)], seed);
      expect(view(replay(noisy)), `seed ${seed}`).toEqual(expected);
    }
  });

  it("reports no change for an event seen before", () => {
    const events = history();
    const state = replay(events);
    for (const e of events) expect(applyEvent(state, e), e.event_id).toBe(false);
  });

  it("merges a snapshot from the database behind or ahead of the events", () => {
    const events = history();
    const state = replay(events.slice(0, 10));
    applySnapshot(state, [
      { job_id: "j1", status: "completed", revision: 5, attempt: 2, runner_id: "r1", run_id: "r-b", status_reason: null },
      { job_id: "j2", status: "queued", revision: 1, attempt: 0, runner_id: null, run_id: null, status_reason: null },
    ], 3);
    expect(state.jobs.get("j1")?.status).toBe("completed");
    for (const e of events.slice(10)) applyEvent(state, e);
    expect(view(state).jobs.map((j) => [j.job_id, j.status])).toEqual(view(replay(events)).jobs.map((j) => [j.job_id, j.status]));
  });

  it("counts jobs not seen yet as queued and has no outcome before every job ends", () => {
    const state = emptyCampaign();
    applySnapshot(state, [], 4);
    applyEvent(state, status("j1", "running", 2, { attempt: 1 }));
    expect(counts(state)).toEqual({ total: 4, queued: 3, running: 1, completed: 0, failed: 0, cancelled: 0 });
    expect(outcome(state)).toBeNull();
  });
});
