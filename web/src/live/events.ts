/**
 * The live events a page receives over SSE: the event contract's messages (schemas/, the AsyncAPI
 * document; typed from the OpenAPI document's components), each discriminated by `type`. `parseEvent` keeps a message it can use and drops one it
 * cannot (never throws into a render).
 */
import type { components } from "../api/schema";

type S = components["schemas"];
export type JobStatus = S["JobOut"]["status"];
export type JobSpec = S["JobSpec"];
export type RunSummary = S["RunSummary"];
export type GpuInfo = S["GpuInfo"];

/** The event contract's messages, generated from the API's OpenAPI document (never hand-written).
 * Its types are the models' input side (fields with a default optional); as published, every event
 * carries its `event_id` and `occurred_at`. */
type Received<T> = T & { event_id: string; occurred_at: string };
export type JobStatusEvent = Received<S["JobStatusChanged"]>;
export type CampaignProgressEvent = Received<S["CampaignProgress"]>;
export type CampaignSubmittedEvent = Received<S["CampaignSubmitted"]>;
export type CampaignCancelledEvent = Received<S["CampaignCancelled"]>;
export type RunStartedEvent = Received<S["RunStarted"]>;
export type RunCompletedEvent = Received<S["RunCompleted"]>;
export type RunFailedEvent = Received<S["RunFailed"]>;
export type MetricBatchEvent = Received<S["MetricBatch"]>;
export type MetricSample = S["MetricSample"];
export type RunnerHeartbeatEvent = Received<S["RunnerHeartbeat"]>;

export type CampaignEvent =
  | JobStatusEvent
  | CampaignProgressEvent
  | CampaignSubmittedEvent
  | CampaignCancelledEvent
  | RunStartedEvent
  | RunCompletedEvent
  | RunFailedEvent;
export type LiveEvent = CampaignEvent | MetricBatchEvent | RunnerHeartbeatEvent;

/** Every message type the live streams carry (the SSE `event` name is the event's `type`). */
export const EVENT_TYPES = [
  "job.status",
  "campaign.progress",
  "campaign.submitted",
  "campaign.cancelled",
  "run.started",
  "run.completed",
  "run.failed",
  "metric.batch",
  "runner.heartbeat",
] as const satisfies readonly LiveEvent["type"][];
const TYPES = new Set<string>(EVENT_TYPES);

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
