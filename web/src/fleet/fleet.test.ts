import { describe, expect, it } from "vitest";
import type { RunnerHeartbeatEvent } from "../live/events";
import { applyHeartbeat, emptyFleet, online } from "./fleet";

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
function beat(runner: string, s: number, job: string | null = null): RunnerHeartbeatEvent {
  return { schema_version: 2, type: "runner.heartbeat", event_id: `${runner}${s}`, occurred_at: new Date(T0 + s * 1000).toISOString(), runner_id: runner, hostname: "h", pools: ["cpu"], started_at: new Date(T0).toISOString(), heartbeat_interval_s: 2, current_job_id: job, llem_version: "0.1.0" };
}

describe("the fleet", () => {
  it("keeps the newest heartbeat of each runner, whatever the order", () => {
    const fleet = emptyFleet();
    expect(applyHeartbeat(fleet, beat("r1", 4, "j"))).toBe(true);
    expect(applyHeartbeat(fleet, beat("r1", 2))).toBe(false);
    expect(fleet.runners.get("r1")?.current_job_id).toBe("j");
  });

  it("turns a runner offline once its last heartbeat is older than the TTL", () => {
    const fleet = emptyFleet();
    fleet.ttl_s = 5;
    applyHeartbeat(fleet, beat("r1", 0));
    const r1 = fleet.runners.get("r1");
    if (!r1) throw new Error("no runner");
    expect(online(fleet, r1, T0 + 5000)).toBe(true);
    expect(online(fleet, r1, T0 + 5001)).toBe(false);
  });
});
