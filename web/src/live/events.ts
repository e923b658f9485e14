/**
 * The live events a page receives over SSE: the event contract's messages (schemas/, the AsyncAPI
 * document), each discriminated by `type`. `parseEvent` keeps a message it can use and drops one it
 * cannot (never throws into a render).
 */
import type { components } from "../api/schema";

type S = components["schemas"];
export type JobStatus = S["JobOut"]["status"];
export type JobSpec = S["JobSpec"];
export type RunSummary = S["RunSummary"];
export type GpuInfo = S["GpuInfo"];

interface Base {
  event_id: string;
  occurred_at: string;
}
interface RunBase extends Base {
  run_id: string;
  job_id: string;
  campaign_id: string;
  runner_id: string;
  attempt: number;
}
export interface JobStatusEvent extends Base {
  type: "job.status";
  job_id: string;
  campaign_id: string;
  pool: string;
  status: JobStatus;
  attempt: number;
  runner_id?: string | null;
  run_id?: string | null;
  reason?: string | null;
  revision: number;
}
export interface CampaignProgressEvent extends Base, Omit<S["CampaignProgressOut"], "occurred_at"> {
  type: "campaign.progress";
}
export interface CampaignSubmittedEvent extends Base {
  type: "campaign.submitted";
  campaign_id: string;
  name: string;
  job_count: number;
}
export interface CampaignCancelledEvent extends Base {
  type: "campaign.cancelled";
  campaign_id: string;
  reason?: string;
}
export interface RunStartedEvent extends RunBase {
  type: "run.started";
  job: JobSpec;
  meter: string;
  fingerprint: S["HostFingerprint"];
}
export interface RunCompletedEvent extends RunBase {
  type: "run.completed";
  summary: RunSummary;
}
export interface RunFailedEvent extends RunBase {
  type: "run.failed";
  reason: string;
  error_type: string;
  retryable: boolean;
}
export interface MetricSample {
  sampled_at: string;
  gpu_index?: number | null;
  power_w?: number | null;
  energy_counter_j?: number | null;
  output_tokens_total?: number | null;
}
export interface MetricBatchEvent extends RunBase {
  type: "metric.batch";
  seq: number;
  meter: string;
  sampling_period_ms?: number | null;
  samples: MetricSample[];
}
export interface RunnerHeartbeatEvent extends Base {
  type: "runner.heartbeat";
  runner_id: string;
  hostname: string;
  pools: string[];
  started_at: string;
  heartbeat_interval_s: number;
  current_job_id?: string | null;
  current_run_id?: string | null;
  gpus?: GpuInfo[];
  llem_version: string;
}

export type CampaignEvent =
  | JobStatusEvent
  | CampaignProgressEvent
  | CampaignSubmittedEvent
  | CampaignCancelledEvent
  | RunStartedEvent
  | RunCompletedEvent
  | RunFailedEvent;
export type LiveEvent = CampaignEvent | MetricBatchEvent | RunnerHeartbeatEvent;

const TYPES = new Set<string>([
  "job.status",
  "campaign.progress",
  "campaign.submitted",
  "campaign.cancelled",
  "run.started",
  "run.completed",
  "run.failed",
  "metric.batch",
  "runner.heartbeat",
]);

/** The event in an SSE message's data, or null when it is not one this app knows. */
export function parseEvent(data: string): LiveEvent | null {
  let doc: unknown;
  try {
    doc = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof doc !== "object" || doc === null) return null;
  const type = (doc as { type?: unknown }).type;
  return typeof type === "string" && TYPES.has(type) ? (doc as LiveEvent) : null;
}
