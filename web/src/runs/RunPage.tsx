/**
 * One run: power, temperature and SM clock per GPU over time (steady state and repetitions
 * shaded), request distributions, how it was measured, what ran on what, every flag in words, and
 * the raw data.
 */
import { useEffect, useMemo } from "react";
import { downloadUrl, useRequests, useRun, useTimeseries } from "../api/queries";
import type { RunDetail, TimeSeries } from "../api/types";
import { QueryState } from "../components/QueryState";
import { Flags } from "../components/FlagBadge";
import * as fmt from "../format";
import { Link } from "../router";
import { FlagList, HostFacts, JobFacts, Measurement, Facts } from "./Details";
import { Histogram } from "./Histogram";
import { SeriesChart } from "./SeriesChart";
import { align, bucketFor, type Band, type Metric } from "./series";

function bandsOf(detail: RunDetail): Band[] {
  const s = detail.summary;
  if (!s) return [];
  const reps = s.repetitions ?? [];
  const windows = reps.length
    ? reps.map((r) => ({ label: `repetition ${r.repetition + 1}`, start: r.window_start, end: r.window_end }))
    : [{ label: "measurement window", start: s.measurement.window_start, end: s.measurement.window_end }];
  const bands: Band[] = windows.map((w) => ({
    label: w.label,
    start: Date.parse(w.start) / 1000,
    end: Date.parse(w.end) / 1000,
    kind: "repetition" as const,
  }));
  if (s.steady_state) {
    bands.push({
      label: "steady state",
      start: Date.parse(s.steady_state.window_start) / 1000,
      end: Date.parse(s.steady_state.window_end) / 1000,
      kind: "steady",
    });
  }
  return bands;
}

const CHARTS: { metric: Metric; title: string; unit: string }[] = [
  { metric: "power_w", title: "Power per GPU (mean per bucket)", unit: "W" },
  { metric: "temperature_c", title: "Temperature per GPU", unit: "°C" },
  { metric: "sm_clock_mhz", title: "SM clock per GPU", unit: "MHz" },
];

function Charts({ series, bands }: { series: TimeSeries; bands: Band[] }) {
  const aligned = useMemo(() => align(series.points), [series]);
  const perChart = useMemo(
    () =>
      CHARTS.map((c) => ({
        ...c,
        lines: aligned.values(c.metric).map((values, i) => {
          const gpu = aligned.gpus[i];
          return { label: gpu === null || gpu === undefined ? "host" : `GPU ${gpu}`, values };
        }),
      })).filter((c) => c.lines.some((l) => l.values.some((v) => v !== null))),
    [aligned],
  );
  useEffect(() => {
    performance.mark("llem:run:charts");
  }, [perChart]);
  if (aligned.x.length === 0) return <p className="notice">No metric samples were stored for this run.</p>;
  return (
    <>
      <p className="muted">
        {fmt.count(aligned.samples, "sample")} in {fmt.count(aligned.x.length, "bucket")} of {fmt.seconds(series.bucket_s)}
        {bands.length ? "; shaded: " : ""}
        {bands.some((b) => b.kind === "steady") ? <span className="key key-steady">steady state</span> : null}
        {bands.some((b) => b.kind === "repetition") ? (
          <span className="key key-rep">{bands.length > 2 ? "repetitions" : "measurement window"} (lower half)</span>
        ) : null}
      </p>
      {perChart.length === 0 ? <p className="notice">The samples hold no power, temperature or clock readings (meter without a GPU).</p> : null}
      {perChart.map((c) => (
        <SeriesChart key={c.metric} title={c.title} unit={c.unit} x={aligned.x} series={c.lines} bands={bands} />
      ))}
    </>
  );
}

function Figures({ detail }: { detail: RunDetail }) {
  const s = detail.summary;
  const run = detail.run;
  if (!s) {
    return (
      <p className="notice">
        {run.status === "failed" ? `This run failed: ${run.failure_reason ?? "no reason recorded"}.` : "This run has no summary yet: it is still running."}
      </p>
    );
  }
  const rep = s.repetition_stats?.energy_per_output_token_j;
  const idle = s.energy_j !== null && s.energy_j !== undefined && s.active_energy_j !== null && s.active_energy_j !== undefined ? s.energy_j - s.active_energy_j : null;
  return (
    <div className="figures">
      <div className="figure">
        <span className="figure-label">Energy per output token</span>
        <span className="figure-value">{fmt.joulesPerToken(s.energy_per_output_token_j)}</span>
        <span className="muted">{rep ? fmt.interval(rep, "J/token") : "one repetition: no interval"}</span>
      </div>
      <div className="figure">
        <span className="figure-label">Energy</span>
        <span className="figure-value">{fmt.energy(s.energy_j)}</span>
        <span className="muted">
          {fmt.energy(s.active_energy_j)} active · {fmt.energy(idle)} idle
        </span>
      </div>
      <div className="figure">
        <span className="figure-label">Throughput</span>
        <span className="figure-value">{fmt.tokensPerSecond(s.output_tokens_per_s)}</span>
        <span className="muted">{fmt.withUnit(s.requests_per_s, "req/s")}</span>
      </div>
      <div className="figure">
        <span className="figure-label">Power</span>
        <span className="figure-value">{fmt.watts(s.avg_power_w)}</span>
        <span className="muted">peak {fmt.watts(s.peak_power_w)}</span>
      </div>
      <div className="figure">
        <span className="figure-label">Energy per request</span>
        <span className="figure-value">{fmt.joulesPerRequest(s.energy_per_request_j)}</span>
        <span className="muted">CPU {fmt.energy(s.cpu_energy_j)}</span>
      </div>
      <div className="figure">
        <span className="figure-label">Requests</span>
        <span className="figure-value">{s.requests_total}</span>
        <span className="muted">
          {s.requests_failed} failed · {fmt.count(s.output_tokens, "output token")} in {fmt.seconds(s.duration_s)}
        </span>
      </div>
    </div>
  );
}

function Latency({ detail }: { detail: RunDetail }) {
  const s = detail.summary;
  if (!s) return null;
  const rows = [
    ["Time to first token", s.ttft_ms],
    ["Inter-token latency", s.itl_ms],
    ["End to end", s.e2e_ms],
  ] as const;
  return (
    <div className="table-scroll" role="region" aria-label="Latency percentiles" tabIndex={0}>
      <table>
        <caption>Latency</caption>
        <thead>
          <tr>
            <th scope="col">Measure</th>
            {["mean", "p50", "p90", "p95", "p99"].map((p) => (
              <th scope="col" className="num" key={p}>
                {p}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, stats]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              {[stats?.mean_ms, stats?.p50_ms, stats?.p90_ms, stats?.p95_ms, stats?.p99_ms].map((v, i) => (
                <td className="num" key={i}>
                  {fmt.millis(v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Distributions({ runId }: { runId: string }) {
  const query = useRequests(runId);
  return (
    <QueryState query={query} what="request records">
      {(page) => {
        const ok = page.items.filter((r) => r.error === null);
        return (
          <>
            {page.items.length === 0 ? <p className="notice">No per-request records were stored for this run.</p> : null}
            <div className="histograms">
              <Histogram title="Time to first token" values={ok.map((r) => r.ttft_ms)} format={fmt.millis} />
              <Histogram title="Inter-token latency (mean per request)" values={ok.map((r) => r.itl_mean_ms)} format={fmt.millis} />
              <Histogram title="End to end" values={ok.map((r) => r.e2e_ms)} format={fmt.millis} />
              <Histogram title="Energy per request" values={ok.map((r) => r.energy_j)} format={fmt.energy} />
            </div>
            {page.items.length > ok.length ? <p>{fmt.count(page.items.length - ok.length, "failed request")} left out.</p> : null}
          </>
        );
      }}
    </QueryState>
  );
}

function Repetitions({ detail }: { detail: RunDetail }) {
  if (detail.repetitions.length < 2) return null;
  return (
    <div className="table-scroll" role="region" aria-label="Repetitions" tabIndex={0}>
      <table>
        <caption>Repetitions</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col" className="num">Duration</th>
            <th scope="col" className="num">Output tokens</th>
            <th scope="col" className="num">Throughput</th>
            <th scope="col" className="num">Energy</th>
            <th scope="col" className="num">Energy per token</th>
          </tr>
        </thead>
        <tbody>
          {detail.repetitions.map((r) => (
            <tr key={r.repetition}>
              <th scope="row">{r.repetition + 1}</th>
              <td className="num">{fmt.seconds(r.duration_s)}</td>
              <td className="num">{r.output_tokens}</td>
              <td className="num">{fmt.tokensPerSecond(r.output_tokens_per_s)}</td>
              <td className="num">{fmt.energy(r.energy_j)}</td>
              <td className="num">{fmt.joulesPerToken(r.energy_per_output_token_j)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Run({ detail }: { detail: RunDetail }) {
  const run = detail.run;
  const duration =
    detail.summary?.duration_s ??
    (run.started_at && run.ended_at ? (Date.parse(run.ended_at) - Date.parse(run.started_at)) / 1000 : null);
  const total = run.started_at && run.ended_at ? (Date.parse(run.ended_at) - Date.parse(run.started_at)) / 1000 : duration;
  const bucket = bucketFor(total, detail.job?.protocol?.sampling_period_ms ?? detail.summary?.measurement.sampling_period_ms ?? null);
  const series = useTimeseries(run.run_id, bucket);
  const bands = useMemo(() => bandsOf(detail), [detail]);
  const title = detail.job?.model_name ?? run.model ?? "run";
  useEffect(() => {
    document.title = `${title}: run ${fmt.shortId(run.run_id)} · llem`;
  }, [title, run.run_id]);
  return (
    <>
      <p className="crumbs">
        <Link to="/runs">Runs</Link> / <Link to={`/runs?campaign_id=${run.campaign_id}`}>campaign {fmt.shortId(run.campaign_id)}</Link>
      </p>
      <h1>
        {title} <span className="muted">run {fmt.shortId(run.run_id)}</span>
      </h1>
      <p className="lede">
        <span className={`status status-${run.status}`}>{run.status}</span>
        {run.superseded ? <span className="status status-superseded">superseded (not counted)</span> : null} on {run.backend ?? "?"},
        runner {run.runner_id}, attempt {run.attempt}; started {fmt.timestamp(run.started_at)}
        {run.ended_at ? `, ended ${fmt.timestamp(run.ended_at)}` : ""}. Quality: <Flags codes={run.quality_flags.map((f) => f.code)} />
      </p>
      <Figures detail={detail} />
      <section aria-labelledby="series-title">
        <h2 id="series-title">Over time</h2>
        <QueryState query={series} what="time series">
          {(data) => <Charts series={data} bands={bands} />}
        </QueryState>
      </section>
      <section aria-labelledby="latency-title">
        <h2 id="latency-title">Latency and requests</h2>
        <Latency detail={detail} />
        <Distributions runId={run.run_id} />
      </section>
      <Repetitions detail={detail} />
      <section aria-labelledby="flags-title">
        <h2 id="flags-title">Quality flags</h2>
        <FlagList flags={detail.summary?.quality_flags ?? run.quality_flags} />
      </section>
      <section aria-labelledby="measurement-title">
        <h2 id="measurement-title">How it was measured</h2>
        <Measurement summary={detail.summary} job={detail.job} />
      </section>
      {detail.job ? (
        <section aria-labelledby="job-title">
          <h2 id="job-title">What ran</h2>
          <JobFacts job={detail.job} fingerprint={detail.fingerprint} />
        </section>
      ) : null}
      {detail.fingerprint ? (
        <section aria-labelledby="host-title">
          <h2 id="host-title">On what</h2>
          <HostFacts fingerprint={detail.fingerprint} />
        </section>
      ) : null}
      <section aria-labelledby="raw-title">
        <h2 id="raw-title">Raw data</h2>
        <Facts
          items={[
            ["Every metric sample (CSV)", <a key="s" href={downloadUrl(run.run_id, "samples.csv")} download>samples.csv</a>],
            ["Every request (CSV)", <a key="r" href={downloadUrl(run.run_id, "requests.csv")} download>requests.csv</a>],
            ["This run as JSON", <a key="j" href={`/api/runs/${run.run_id}`}>/api/runs/{fmt.shortId(run.run_id)}…</a>],
          ]}
        />
      </section>
    </>
  );
}

export function RunPage({ runId }: { runId: string }) {
  const query = useRun(runId);
  return (
    <QueryState query={query} what="run">
      {(detail) => <Run detail={detail} />}
    </QueryState>
  );
}
