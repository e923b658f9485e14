/**
 * The fleet: runners from `GET /api/runners`, kept current by their heartbeats. A runner is online
 * while its last heartbeat is younger than the deployment's heartbeat TTL (the same rule the
 * scheduler applies), so one that stops beating turns offline within one TTL.
 */
import type { RunnerOut } from "../api/types";
import type { GpuInfo, RunnerHeartbeatEvent } from "../live/events";

export const DEFAULT_TTL_S = 20; // the deployment default (Layout.runner_ttl_s), until the API says

export interface Runner {
  runner_id: string;
  hostname: string;
  pools: string[];
  gpus: GpuInfo[];
  current_job_id: string | null;
  current_run_id: string | null;
  started_at: string;
  last_seen_ms: number;
  llem_version: string;
}

export interface Fleet {
  runners: Map<string, Runner>;
  ttl_s: number;
}

export function emptyFleet(): Fleet {
  return { runners: new Map(), ttl_s: DEFAULT_TTL_S };
}

function put(fleet: Fleet, next: Runner): boolean {
  const before = fleet.runners.get(next.runner_id);
  if (before && before.last_seen_ms >= next.last_seen_ms) return false;
  fleet.runners.set(next.runner_id, next);
  return true;
}

export function applyRunners(fleet: Fleet, runners: readonly RunnerOut[]): boolean {
  let changed = false;
  for (const r of runners) {
    if (r.heartbeat_ttl_s > 0 && r.heartbeat_ttl_s !== fleet.ttl_s) {
      fleet.ttl_s = r.heartbeat_ttl_s;
      changed = true;
    }
    const { runner_id, hostname, pools, gpus, current_job_id, current_run_id, started_at, llem_version } = r;
    changed = put(fleet, { runner_id, hostname, pools, gpus, current_job_id, current_run_id, started_at, llem_version, last_seen_ms: Date.parse(r.last_seen_at) }) || changed;
  }
  return changed;
}

export function applyHeartbeat(fleet: Fleet, hb: RunnerHeartbeatEvent): boolean {
  return put(fleet, {
    runner_id: hb.runner_id,
    hostname: hb.hostname,
    pools: hb.pools,
    gpus: hb.gpus ?? [],
    current_job_id: hb.current_job_id ?? null,
    current_run_id: hb.current_run_id ?? null,
    started_at: hb.started_at,
    llem_version: hb.llem_version,
    last_seen_ms: Date.parse(hb.occurred_at),
  });
}

export function online(fleet: Fleet, runner: Runner, nowMs: number): boolean {
  return nowMs - runner.last_seen_ms <= fleet.ttl_s * 1000;
}
