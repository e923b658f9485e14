/** A run's facts: how it was measured, what ran, on what, and every quality flag in words. */
import type { ReactNode } from "react";
import type { HostFingerprint, JobSpec, QualityFlag, RunSummary } from "../api/types";
import { flagMeaning } from "../flags";
import * as fmt from "../format";

export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Measurement({ summary, job }: { summary: RunSummary | null; job: JobSpec | null }) {
  const m = summary?.measurement;
  const protocol = job?.protocol;
  const period = m?.sampling_period_ms ?? protocol?.sampling_period_ms ?? null;
  return (
    <Facts
      items={[
        ["Meter", m?.meter ?? "not recorded (the run has no summary yet)"],
        ["Energy source", m?.energy_source === "counter" ? "GPU energy counter" : m?.energy_source === "integrated_power" ? "integrated sampled power" : fmt.NOT_MEASURED],
        ["Sampling period", period === null ? "not recorded" : `${period} ms (${fmt.hertz(1000 / period)} requested)`],
        ["Achieved sampling rate", fmt.hertz(m?.achieved_sampling_hz)],
        ["Samples in the window", m ? fmt.count(m.samples, "sample") : "not recorded"],
        ["Measurement window", m ? `${fmt.timestamp(m.window_start)} → ${fmt.timestamp(m.window_end)}` : "not recorded"],
        ["Warm-up requests (not measured)", m ? String(m.warmup_requests) : String(protocol?.warmup_requests ?? "not recorded")],
        ["Idle power (all GPUs)", fmt.watts(m?.idle_power_w)],
        ["Idle baseline", m?.idle_baseline_measured_at ? `${fmt.seconds(m.idle_baseline_s)} measured ${fmt.timestamp(m.idle_baseline_measured_at)}` : fmt.NOT_MEASURED],
        ["Power limit set by the run", m?.power_limit_w ? fmt.watts(m.power_limit_w) : protocol?.power_limit_w ? fmt.watts(protocol.power_limit_w) : "left as found (see the GPUs' limits)"],
      ]}
    />
  );
}

export function FlagList({ flags }: { flags: readonly QualityFlag[] }) {
  if (flags.length === 0) return <p>No quality flag: nothing in this run's measurement looked off.</p>;
  return (
    <ul className="flag-list">
      {flags.map((flag) => {
        const { label, meaning } = flagMeaning(flag.code);
        return (
          <li key={flag.code} data-flag={flag.code}>
            <strong>{label}</strong>: {meaning}
            <span className="block muted">
              This run: {flag.detail}
              {flag.value !== null && flag.value !== undefined ? ` (value ${fmt.significant(flag.value)})` : ""}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function backendFacts(job: JobSpec): [string, ReactNode][] {
  const b = job.backend;
  switch (b.kind) {
    case "llama_cpp":
      return [
        ["Backend", "llama.cpp (in-process llama-cpp-python)"],
        ["Context", `${b.n_ctx} tokens`],
        ["Threads", b.n_threads === null || b.n_threads === undefined ? "llama.cpp's choice" : String(b.n_threads)],
        ["GPU layers", String(b.n_gpu_layers)],
      ];
    case "openai":
      return [
        ["Backend", "OpenAI-compatible server"],
        ["Server", b.base_url],
        ["Served model", b.model],
      ];
    case "vllm":
      return [
        ["Backend", `vLLM (${b.mode})`],
        ["Tensor parallel", String(b.tensor_parallel_size)],
        ["Dtype", b.dtype],
        ["Quantization", b.quantization ?? "none"],
        ["Max sequences (batch)", b.max_num_seqs === null || b.max_num_seqs === undefined ? "vLLM's default" : String(b.max_num_seqs)],
      ];
  }
}

export function JobFacts({ job, fingerprint }: { job: JobSpec; fingerprint: HostFingerprint | null }) {
  const model = job.backend.kind === "llama_cpp" ? job.backend.model_path : job.backend.model;
  const w = job.workload;
  const p = job.protocol;
  if (!w || !p) return <p>The job's workload and protocol were not recorded.</p>;
  return (
    <div className="facts-grid">
      <section>
        <h3>Model</h3>
        <Facts
          items={[
            ["Name", job.model_name ?? model],
            ["File or id", <code key="m">{model}</code>],
            ["SHA-256", fingerprint?.model_sha256 ? <code key="h" className="hash">{fingerprint.model_sha256}</code> : "not a local file, or not recorded"],
          ]}
        />
      </section>
      <section>
        <h3>Backend</h3>
        <Facts items={[...backendFacts(job), ["Backend version", fingerprint?.backend_version ?? "not recorded"]]} />
      </section>
      <section>
        <h3>Workload</h3>
        <Facts
          items={[
            ["Prompt set", w.prompt_set],
            ["Requests", String(w.num_requests)],
            ["Concurrency", String(w.concurrency)],
            ["Arrival", w.arrival === "poisson" ? `Poisson at ${w.request_rate_per_s} req/s` : "all at once"],
            ["Max output tokens", `${w.max_output_tokens}${w.ignore_eos ? " (EOS ignored)" : ""}`],
            ["Seed", String(w.seed)],
          ]}
        />
      </section>
      <section>
        <h3>Protocol</h3>
        <Facts
          items={[
            ["Meter asked for", p.meter],
            ["Repetitions", String(p.repetitions)],
            ["Cooldown between repetitions", fmt.seconds(p.cooldown_s)],
            ["Idle baseline", `${fmt.seconds(p.idle_baseline_s)}, reused for ${fmt.seconds(p.idle_baseline_max_age_s)}`],
            ["Temperature drift limit", fmt.celsius(p.temperature_drift_c)],
            ["Pool", job.pool],
          ]}
        />
      </section>
    </div>
  );
}

export function HostFacts({ fingerprint }: { fingerprint: HostFingerprint }) {
  const f = fingerprint;
  return (
    <>
      <Facts
        items={[
          ["Host", f.hostname],
          ["OS", f.os],
          ["CPU", f.cpu_model ? `${f.cpu_model}${f.cpu_count ? ` (${f.cpu_count} threads)` : ""}` : "not recorded"],
          ["Memory", fmt.bytes(f.memory_total_bytes)],
          ["GPU driver", f.gpu_driver_version ?? "none"],
          ["CUDA driver", f.cuda_driver_version ?? "none"],
          ["NVML", f.nvml_version ?? "none"],
          ["Python", f.python_version],
          ["llem", f.llem_version],
        ]}
      />
      {f.gpus?.length ? (
        <div className="table-scroll" role="region" aria-label="GPUs of the run" tabIndex={0}>
          <table>
            <caption>GPUs</caption>
            <thead>
              <tr>
                <th scope="col">Index</th>
                <th scope="col">Name</th>
                <th scope="col">UUID</th>
                <th scope="col">Memory</th>
                <th scope="col">Power limit</th>
                <th scope="col">MIG</th>
              </tr>
            </thead>
            <tbody>
              {f.gpus.map((g) => (
                <tr key={g.uuid}>
                  <td>{g.index}</td>
                  <td>{g.name}</td>
                  <td>
                    <code>{g.uuid}</code>
                  </td>
                  <td>{fmt.bytes(g.memory_total_bytes)}</td>
                  <td>{fmt.watts(g.power_limit_w)}</td>
                  <td>{g.mig_enabled === null || g.mig_enabled === undefined ? "not recorded" : g.mig_enabled ? "on" : "off"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>No GPU: the run used the CPU.</p>
      )}
    </>
  );
}
