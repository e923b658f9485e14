/** Every campaign, newest first, with its progress; each opens its live page. */
import { useEffect } from "react";
import { useCampaigns } from "../api/queries";
import { Pager } from "../components/Pager";
import { QueryState } from "../components/QueryState";
import * as fmt from "../format";
import { Link, navigate, usePlace } from "../router";

const LIMIT = 25;

export function CampaignsPage() {
  const place = usePlace();
  const raw = Number(place.params.get("offset") ?? 0);
  const offset = Number.isInteger(raw) && raw >= 0 ? raw : 0;
  const campaigns = useCampaigns(LIMIT, offset);
  useEffect(() => {
    document.title = "Campaigns · llem";
  }, []);
  return (
    <>
      <h1>Campaigns</h1>
      <p>
        Open a campaign to watch it live, or <Link to="/campaigns/new">build a new one</Link>.
      </p>
      <QueryState query={campaigns} what="campaigns">
        {(page) => (
          <>
            <div className="table-scroll" role="region" aria-label="Campaigns" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Campaign</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">Jobs</th>
                    <th scope="col">Progress</th>
                    <th scope="col">Submitted</th>
                    <th scope="col">Runs</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((c) => {
                    const p = c.progress;
                    const done = p ? p.completed + p.failed + p.cancelled : 0;
                    return (
                      <tr key={c.campaign_id}>
                        <th scope="row">
                          <Link to={`/campaigns/${c.campaign_id}`}>{c.name}</Link>
                          <span className="muted block">{c.description || fmt.shortId(c.campaign_id)}</span>
                        </th>
                        <td>
                          <span className={`status status-${c.status}`}>{c.status}</span>
                          {c.cancelled_at ? <span className="muted block">cancelled {fmt.timestamp(c.cancelled_at)}</span> : null}
                        </td>
                        <td className="num">{c.job_count}</td>
                        <td>
                          {p ? (
                            <>
                              <progress max={Math.max(1, p.total)} value={done} aria-label={`${c.name}: ${done} of ${p.total} jobs ended`} />
                              <span className="block muted">
                                {p.completed} completed · {p.failed} failed · {p.running} running · {p.queued} queued
                                {p.cancelled ? ` · ${p.cancelled} cancelled` : ""}
                                {p.eta_s !== null && p.eta_s !== undefined && p.eta_s > 0 ? ` · ETA ${fmt.seconds(p.eta_s)}` : ""}
                              </span>
                            </>
                          ) : (
                            <span className="muted">no progress yet</span>
                          )}
                        </td>
                        <td>{fmt.timestamp(c.submitted_at)}</td>
                        <td>
                          <Link to={`/runs?campaign_id=${c.campaign_id}`}>its runs</Link>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <Pager offset={page.offset} limit={page.limit} total={page.total} noun="campaigns" onPage={(o) => navigate(o ? `/campaigns?offset=${o}` : "/campaigns")} />
          </>
        )}
      </QueryState>
    </>
  );
}
