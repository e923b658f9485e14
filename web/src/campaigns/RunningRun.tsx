/** One running run, live: power per GPU, energy so far, tokens/s (charts updated per frame). */
import * as fmt from "../format";
import { LiveChart } from "../live/LiveChart";
import type { JobRow, RunAttempt } from "../live/jobs";
import type { RunSeries } from "../live/runSeries";
import { jobLabel } from "./jobLabel";

const gpuLabel = (i: number) => `GPU ${i}`;

export function RunningRun({ job, run, series }: { job: JobRow; run: RunAttempt; series: RunSeries | undefined }) {
  const meter = series?.meter ?? run.meter;
  return (
    <section className="running-run card" data-run={run.run_id} data-samples={series?.samples ?? 0} aria-label={`Run ${fmt.shortId(run.run_id)}, live`}>
      <h3>
        {jobLabel(job.spec)} <span className="muted">on {run.runner_id}, attempt {run.attempt}</span>
      </h3>
      <dl className="facts">
        <div>
          <dt>Power now</dt>
          <dd data-testid="power-now">
            {series?.powerSeen ? fmt.watts(series.totalPowerW()) : `${fmt.NOT_MEASURED}${meter ? ` (meter “${meter}”)` : ""}`}
          </dd>
        </div>
        <div>
          <dt>Energy so far</dt>
          <dd>{fmt.withUnit(series?.energySoFarJ() ?? null, "J")}</dd>
        </div>
        <div>
          <dt>Output tokens/s</dt>
          <dd>{fmt.tokensPerSecond(series?.tokensPerS() ?? null)}</dd>
        </div>
        <div>
          <dt>Samples</dt>
          <dd data-testid="samples">
            {series ? `${series.samples}${series.samplingPeriodMs ? ` every ${series.samplingPeriodMs} ms` : ""}` : "none yet"}
          </dd>
        </div>
      </dl>
      {series ? (
        <div className="live-charts">
          {series.powerSeen ? <LiveChart ring={series.power} title="Power per GPU" unit="W" label={gpuLabel} /> : null}
          {series.energySeen ? <LiveChart ring={series.energy} title="Energy so far" unit="J" label={() => "all GPUs"} /> : null}
          <LiveChart ring={series.tokens} title="Output tokens/s" unit="tok/s" label={() => "tokens/s"} />
        </div>
      ) : (
        <p className="muted">Waiting for the first metric batch…</p>
      )}
    </section>
  );
}
