/** The campaign's jobs; a row re-renders only when its job changed (rows are replaced, not mutated). */
import { memo } from "react";
import * as fmt from "../format";
import { currentRun, superseded, type JobRow } from "../live/jobs";
import { Link } from "../router";
import { jobLabel } from "./jobLabel";

const Row = memo(function Row({ job }: { job: JobRow }) {
  const run = currentRun(job);
  const older = superseded(job);
  const jPerToken = run?.summary ? run.summary.energy_per_output_token_j : undefined;
  return (
    <tr data-job={job.job_id} data-status={job.status} data-revision={job.revision}>
      <th scope="row">
        <span className="mono">{fmt.shortId(job.job_id)}</span>
        <span className="muted block">{jobLabel(job.spec)}</span>
      </th>
      <td>
        <span className={`status status-${job.status}`}>{job.status}</span>
      </td>
      <td>{job.runner_id ? `${job.runner_id}, attempt ${job.attempt}` : job.attempt ? `attempt ${job.attempt}` : "–"}</td>
      <td>
        {job.status === "completed" && run?.state === "completed" ? (
          <>
            <span className="num">{fmt.joulesPerToken(jPerToken ?? null)}</span>{" "}
            <Link to={`/runs/${run.run_id}`}>run {fmt.shortId(run.run_id)}</Link>
          </>
        ) : job.status === "completed" && job.run_id ? (
          <Link to={`/runs/${job.run_id}`}>run {fmt.shortId(job.run_id)}</Link>
        ) : job.status === "failed" || job.status === "cancelled" || (job.status === "queued" && job.reason) ? (
          <span className="reason">{job.reason ?? run?.reason ?? ""}</span>
        ) : job.status === "running" && run ? (
          <span className="muted">run {fmt.shortId(run.run_id)} on {run.runner_id}</span>
        ) : null}
      </td>
      <td>
        {older.map((r) => (
          <span key={r.run_id} className="block muted superseded" data-superseded={r.run_id}>
            attempt {r.attempt} on {r.runner_id}: {r.state === "failed" ? `failed${r.reason ? ` (${r.reason})` : ""}` : r.state}, superseded
          </span>
        ))}
      </td>
    </tr>
  );
});

export function JobsTable({ jobs }: { jobs: JobRow[] }) {
  return (
    <div className="table-scroll" role="region" aria-label="Jobs" tabIndex={0}>
      <table className="jobs">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">State</th>
            <th scope="col">Runner</th>
            <th scope="col">Result or reason</th>
            <th scope="col">Earlier attempts</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <Row key={job.job_id} job={job} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
