/** A job's configuration in a few words, for the live table (model · backend · load · repetition). */
import type { JobSpec } from "../live/events";

export function modelOf(spec: JobSpec): string {
  if (spec.model_name) return spec.model_name;
  const b = spec.backend;
  return b.kind === "llama_cpp" ? (b.model_path.split("/").pop() ?? b.model_path) : b.model;
}

export function jobLabel(spec: JobSpec | null): string {
  if (!spec) return "configuration not loaded yet";
  const w = spec.workload;
  if (!w) return `${modelOf(spec)} · ${spec.backend.kind} · rep ${spec.repetition}`;
  const load = [`${w.num_requests} req`, `max ${w.max_output_tokens} tok`, w.concurrency > 1 ? `conc ${w.concurrency}` : null]
    .filter(Boolean)
    .join(", ");
  return `${modelOf(spec)} · ${spec.backend.kind} · ${load} · rep ${spec.repetition}`;
}
