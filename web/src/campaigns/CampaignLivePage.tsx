/**
 * A campaign, live: counts per state with a progress bar and the ETA, the running runs with their
 * live charts, and every job's row as its events arrive. The snapshot comes from the database; the
 * streams keep it current; a disconnection is said, with how stale the page is.
 */
import { useEffect, useMemo } from "react";
import { ApiError } from "../api/client";
import { QueryState } from "../components/QueryState";
import * as fmt from "../format";
import { counts, currentRun, outcome, type Counts, type JobRow } from "../live/jobs";
import { LinkBanner } from "../live/LinkBanner";
import { Link } from "../router";
import { CancelCampaign } from "./CancelCampaign";
import { jobLabel } from "./jobLabel";
import { JobsTable } from "./JobsTable";
import { RunningRun } from "./RunningRun";
import { useCampaignLive } from "./useCampaignLive";

const STATES = ["completed", "failed", "cancelled", "running", "queued"] as const;

function Bar({ c }: { c: Counts }) {
  const total = Math.max(1, c.total);
  const ended = c.completed + c.failed + c.cancelled;
  return (
    <div className="state-bar" role="img" aria-label={`${ended} of ${c.total} jobs ended: ${STATES.map((s) => `${c[s]} ${s}`).join(", ")}`}>
      {STATES.map((s) => (c[s] ? <span key={s} className={`seg seg-${s}`} style={{ width: `${(100 * c[s]) / total}%` }} /> : null))}
    </div>
  );
}

function eta(state: ReturnType<typeof useCampaignLive>["live"]["state"], c: Counts): string {
  if (c.total > 0 && c.queued + c.running === 0) return "done";
  const s = state.progress?.eta_s;
  if (s === null || s === undefined) return state.progress?.live_runners === 0 ? "unknown (no runner of its pools is online)" : "unknown (no job has completed yet)";
  return `about ${fmt.seconds(s)}`;
}

function sortKey(job: JobRow): string {
  return `${jobLabel(job.spec)}|${job.job_id}`;
}

export function CampaignLivePage({ campaignId }: { campaignId: string }) {
  const { live, version, snapshot, campaignLink, metricsLink } = useCampaignLive(campaignId);
  const meta = snapshot.data?.campaign;
  useEffect(() => {
    document.title = `${meta?.name ?? "Campaign"} · live · llem`;
  }, [meta?.name]);
  const jobs = useMemo(() => [...live.state.jobs.values()].sort((a, b) => sortKey(a).localeCompare(sortKey(b))), [version, live]);
  const seen = live.state.total > 0 || live.state.jobs.size > 0;
  if (snapshot.error instanceof ApiError && snapshot.error.status === 404 && !seen) {
    return <QueryState query={snapshot} what="campaign">{() => null}</QueryState>;
  }
  const c = counts(live.state);
  const end = outcome(live.state);
  const running = jobs.filter((j) => j.status === "running");
  const status = live.state.cancelled ? "cancelled" : end ? "finished" : (live.state.progress?.status ?? meta?.status ?? "queued");
  return (
    <>
      <p className="crumbs">
        <Link to="/campaigns">Campaigns</Link> / <span className="mono">{fmt.shortId(campaignId)}</span>
      </p>
      <h1>
        {meta?.name ?? "Campaign"} <span className={`status status-${status}`} data-testid="campaign-status">{status}</span>
      </h1>
      {meta?.description ? <p className="muted">{meta.description}</p> : null}
      <LinkBanner link={campaignLink} what="job states" />
      {metricsLink.state === "reconnecting" && campaignLink.state === "open" ? <LinkBanner link={metricsLink} what="power samples" /> : null}
      <section aria-labelledby="progress-h">
        <h2 id="progress-h">Progress</h2>
        <Bar c={c} />
        <ul className="state-counts">
          {STATES.map((s) => (
            <li key={s} data-testid={`count-${s}`} data-count={c[s]}>
              <span className={`status status-${s}`}>{s}</span> {c[s]}
            </li>
          ))}
          <li data-testid="count-total">total {c.total}</li>
        </ul>
        <p data-testid="eta">
          ETA: {eta(live.state, c)}
          {live.state.progress?.live_runners ? ` · ${live.state.progress.live_runners} runner(s) of its pools online` : ""}
        </p>
        {end ? (
          <p role="status" data-testid="outcome">
            Campaign {end}: {c.completed} completed, {c.failed} failed, {c.cancelled} cancelled.
          </p>
        ) : null}
        {live.state.cancelled ? <p className="muted">Cancelled {fmt.timestamp(live.state.cancelled.at)}{live.state.cancelled.reason ? `: ${live.state.cancelled.reason}` : ""}</p> : null}
        {!end && !live.state.cancelled ? <CancelCampaign campaignId={campaignId} /> : null}
      </section>
      <section aria-labelledby="running-h">
        <h2 id="running-h">Running now ({running.length})</h2>
        {running.length === 0 ? <p className="muted">No job is running.</p> : null}
        {running.map((job) => {
          const run = currentRun(job);
          return run ? <RunningRun key={run.run_id} job={job} run={run} series={live.runs.get(run.run_id)} /> : null;
        })}
      </section>
      <section aria-labelledby="jobs-h">
        <h2 id="jobs-h">Jobs</h2>
        {snapshot.isPending && snapshot.failureCount > 0 && !jobs.length ? (
          <p className="muted" role="status">Waiting for the campaign to be recorded (it was just submitted)…</p>
        ) : snapshot.isPending && !jobs.length ? (
          <p className="muted">Loading the jobs…</p>
        ) : null}
        <JobsTable jobs={jobs} />
      </section>
    </>
  );
}
