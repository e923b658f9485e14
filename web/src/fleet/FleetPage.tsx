/** The fleet, live: every runner with its pools, host, GPUs, current job and last heartbeat. */
import { useEffect, useRef, useState } from "react";
import { useRunners } from "../api/queries";
import { QueryState } from "../components/QueryState";
import * as fmt from "../format";
import { LinkBanner } from "../live/LinkBanner";
import { useLiveStream } from "../live/stream";
import { applyHeartbeat, applyRunners, emptyFleet, online } from "./fleet";

function useNow(periodMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), periodMs);
    return () => window.clearInterval(timer);
  }, [periodMs]);
  return now;
}

export function FleetPage() {
  const runners = useRunners();
  const fleet = useRef(emptyFleet());
  const [, setVersion] = useState(0);
  const now = useNow(1000);
  useEffect(() => {
    document.title = "Fleet · llem";
  }, []);
  useEffect(() => {
    if (runners.data && applyRunners(fleet.current, runners.data)) setVersion((v) => v + 1);
  }, [runners.data]);
  const link = useLiveStream("/api/live/fleet", {
    onEvent: (event) => {
      if (event.type === "runner.heartbeat" && applyHeartbeat(fleet.current, event)) setVersion((v) => v + 1);
    },
    onOpen: (reconnect) => reconnect && void runners.refetch(),
  });
  const list = [...fleet.current.runners.values()].sort((a, b) => a.runner_id.localeCompare(b.runner_id));
  const up = list.filter((r) => online(fleet.current, r, now)).length;
  return (
    <>
      <h1>Fleet</h1>
      <p>
        {up} of {list.length} runner{list.length === 1 ? "" : "s"} online. A runner is offline when no heartbeat came for{" "}
        {fleet.current.ttl_s} s (the heartbeat TTL).
      </p>
      <LinkBanner link={link} what="heartbeats" />
      <QueryState query={runners} what="runners">
        {() => (
          <div className="table-scroll" role="region" aria-label="Runners" tabIndex={0}>
            <table className="fleet">
              <thead>
                <tr>
                  <th scope="col">Runner</th>
                  <th scope="col">State</th>
                  <th scope="col">Pools</th>
                  <th scope="col">Host</th>
                  <th scope="col">GPUs</th>
                  <th scope="col">Current job</th>
                  <th scope="col">Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => {
                  const isUp = online(fleet.current, r, now);
                  return (
                    <tr key={r.runner_id} data-runner={r.runner_id} data-online={isUp}>
                      <th scope="row">{r.runner_id}</th>
                      <td>
                        <span className={`status ${isUp ? "status-running" : "status-cancelled"}`}>{isUp ? "online" : "offline"}</span>
                      </td>
                      <td>{r.pools.join(", ")}</td>
                      <td>
                        {r.hostname}
                        <span className="muted block">llem {r.llem_version}</span>
                      </td>
                      <td>{r.gpus.length ? r.gpus.map((g) => `${g.index}: ${g.name}`).join("; ") : <span className="muted">none (CPU)</span>}</td>
                      <td>{isUp && r.current_job_id ? <span className="mono">{fmt.shortId(r.current_job_id)}</span> : <span className="muted">{isUp ? "idle" : "–"}</span>}</td>
                      <td>
                        {fmt.timestamp(new Date(r.last_seen_ms).toISOString())}
                        <span className="muted block">{Math.max(0, Math.round((now - r.last_seen_ms) / 1000))} s ago</span>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {list.length === 0 ? <p className="muted">No runner has connected yet. Start one on a GPU box (see the README’s runner section).</p> : null}
          </div>
        )}
      </QueryState>
    </>
  );
}
