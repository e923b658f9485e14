/** The first page a visitor sees: the top of the leaderboard, the campaigns running now, the runners online. */
import { useEffect, useMemo } from "react";
import { useCampaigns, useConfigurations, useRunners } from "../api/queries";
import { QueryState } from "../components/QueryState";
import * as fmt from "../format";
import { setup } from "../leaderboard/columns";
import { buildBoard, rank } from "../leaderboard/select";
import { DEFAULT_VIEW } from "../leaderboard/urlState";
import { BOARD_PATH } from "../mode";
import { Link } from "../router";

const TOP = 5;

function TopOfBoard() {
  const query = useConfigurations();
  const best = useMemo(() => {
    if (!query.data) return [];
    return [...buildBoard(query.data.configurations, DEFAULT_VIEW.filters, DEFAULT_VIEW.constraints).best].sort(rank).slice(0, TOP);
  }, [query.data]);
  return (
    <QueryState query={query} what="leaderboard">
      {() =>
        best.length ? (
          <ol className="top-board" data-testid="top-board">
            {best.map((row) => (
              <li key={row.config_id}>
                <strong>{row.model}</strong> <span className="num">{fmt.joulesPerToken(row.energy_per_output_token_j)}</span>
                <span className="muted block">{setup(row)}</span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="muted">No measured configuration yet: runs on a metered host (NVML or RAPL) fill the leaderboard.</p>
        )
      }
    </QueryState>
  );
}

function RunningCampaigns() {
  const query = useCampaigns(50, 0);
  return (
    <QueryState query={query} what="campaigns">
      {(page) => {
        const now = page.items.filter((c) => c.status === "running" || c.status === "queued");
        return now.length ? (
          <ul data-testid="running-campaigns">
            {now.map((c) => {
              const p = c.progress;
              const ended = p ? p.completed + p.failed + p.cancelled : 0;
              return (
                <li key={c.campaign_id}>
                  <Link to={`/campaigns/${c.campaign_id}`}>{c.name}</Link> <span className={`status status-${c.status}`}>{c.status}</span>
                  <span className="muted block">
                    {ended} of {p?.total ?? c.job_count} jobs ended
                    {p?.eta_s ? ` · ETA ${fmt.seconds(p.eta_s)}` : ""}
                  </span>
                </li>
              );
            })}
          </ul>
        ) : (
          <p className="muted">
            No campaign is running. <Link to="/campaigns/new">Build one</Link>.
          </p>
        );
      }}
    </QueryState>
  );
}

function RunnersOnline() {
  const query = useRunners();
  return (
    <QueryState query={query} what="runners">
      {(runners) => {
        const up = runners.filter((r) => r.alive);
        return (
          <p data-testid="runners-online">
            {up.length} runner{up.length === 1 ? "" : "s"} online
            {up.length ? `: ${up.map((r) => `${r.runner_id} (${r.pools.join(", ")}${r.gpus.length ? `, ${r.gpus.length} GPU` : ", CPU"})`).join("; ")}` : ""}.{" "}
            <Link to="/fleet">The fleet</Link>
          </p>
        );
      }}
    </QueryState>
  );
}

export function OverviewPage() {
  useEffect(() => {
    document.title = "llem: energy of LLM inference, measured";
  }, []);
  return (
    <>
      <h1>Energy of LLM inference, measured on real hardware</h1>
      <p className="lede">
        Joules per output token for each model on each setup, from runs on real GPUs, with how each figure was measured. Campaigns run
        live on a fleet of runners: watch them as they happen.
      </p>
      <div className="overview">
        <section aria-labelledby="ov-board">
          <h2 id="ov-board">Most efficient now</h2>
          <TopOfBoard />
          <p>
            <Link to={BOARD_PATH}>The whole leaderboard</Link>, with latency limits, filters and the Pareto chart.
          </p>
        </section>
        <section aria-labelledby="ov-campaigns">
          <h2 id="ov-campaigns">Campaigns running now</h2>
          <RunningCampaigns />
        </section>
        <section aria-labelledby="ov-fleet">
          <h2 id="ov-fleet">Runners</h2>
          <RunnersOnline />
        </section>
      </div>
    </>
  );
}
