/** Every run, paged, with the API's filters; the state lives in the URL. */
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { useRuns, type RunsQuery } from "../api/queries";
import { Flags } from "../components/FlagBadge";
import { Pager } from "../components/Pager";
import { QueryState } from "../components/QueryState";
import * as fmt from "../format";
import { Link, navigate, usePlace } from "../router";

const LIMIT = 50;
const SORTS = [
  ["-started_at", "newest first"],
  ["started_at", "oldest first"],
  ["energy_per_output_token_j", "least energy per token"],
  ["-output_tokens_per_s", "highest throughput"],
  ["-energy_j", "most energy"],
] as const;
type Sort = (typeof SORTS)[number][0];
const STATUSES = ["running", "completed", "failed"] as const;
type Status = (typeof STATUSES)[number];

function readQuery(params: URLSearchParams): RunsQuery {
  const offset = Number(params.get("offset") ?? 0);
  const sort = params.get("sort");
  const status = params.get("status");
  return {
    limit: LIMIT,
    offset: Number.isInteger(offset) && offset >= 0 ? offset : 0,
    campaign_id: params.get("campaign_id") || undefined,
    model: params.get("model") || undefined,
    status: STATUSES.includes(status as Status) ? (status as Status) : undefined,
    include_superseded: params.get("include_superseded") !== "false",
    sort: SORTS.some(([s]) => s === sort) ? (sort as Sort) : "-started_at",
  };
}

function writeQuery(q: RunsQuery): string {
  const params = new URLSearchParams();
  if (q.offset) params.set("offset", String(q.offset));
  if (q.campaign_id) params.set("campaign_id", q.campaign_id);
  if (q.model) params.set("model", q.model);
  if (q.status) params.set("status", q.status);
  if (q.include_superseded === false) params.set("include_superseded", "false");
  if (q.sort && q.sort !== "-started_at") params.set("sort", q.sort);
  const s = params.toString();
  return s ? `/runs?${s}` : "/runs";
}

/** A text filter that asks the API once typing pauses, not on every keystroke. */
function ModelFilter({ id, value, onChange }: { id: string; value: string; onChange: (model: string) => void }) {
  const [draft, setDraft] = useState(value);
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => setDraft(value), [value]); // the URL changed (back, a link): show what it says
  useEffect(() => {
    if (draft === value) return undefined;
    const timer = window.setTimeout(() => latest.current(draft), 300);
    return () => window.clearTimeout(timer);
  }, [draft, value]);
  return <input id={id} type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />;
}

export function RunsPage() {
  const place = usePlace();
  const query = useMemo(() => readQuery(place.params), [place.params]);
  const runs = useRuns(query);
  const id = useId();
  const set = (patch: Partial<RunsQuery>) => navigate(writeQuery({ ...query, offset: 0, ...patch }), { replace: true });
  useEffect(() => {
    document.title = "Runs · llem";
  }, []);
  return (
    <>
      <h1>Runs</h1>
      <form className="controls filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the runs">
        <div className="control">
          <label htmlFor={`${id}-model`}>Model</label>
          <ModelFilter id={`${id}-model`} value={query.model ?? ""} onChange={(model) => set({ model: model || undefined })} />
        </div>
        <div className="control">
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} value={query.status ?? ""} onChange={(e) => set({ status: (e.target.value || undefined) as Status | undefined })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="control">
          <label htmlFor={`${id}-sort`}>Order</label>
          <select id={`${id}-sort`} value={query.sort} onChange={(e) => set({ sort: e.target.value as Sort })}>
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="control">
          <label className="inline">
            <input type="checkbox" checked={query.include_superseded !== false} onChange={(e) => set({ include_superseded: e.target.checked })} />{" "}
            include superseded attempts
          </label>
        </div>
        {query.campaign_id ? (
          <p>
            Campaign <code>{query.campaign_id}</code>{" "}
            <button type="button" className="link-button" onClick={() => set({ campaign_id: undefined })}>
              show every campaign
            </button>
          </p>
        ) : null}
      </form>
      <QueryState query={runs} what="runs">
        {(page) => (
          <>
            <div className="table-scroll" role="region" aria-label="Runs" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Model</th>
                    <th scope="col">Status</th>
                    <th scope="col">Started</th>
                    <th scope="col">Runner</th>
                    <th scope="col" className="num">Output tokens</th>
                    <th scope="col" className="num">Throughput</th>
                    <th scope="col" className="num">Energy</th>
                    <th scope="col" className="num">Energy per token</th>
                    <th scope="col">Meter</th>
                    <th scope="col">Quality</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((r) => (
                    <tr key={r.run_id}>
                      <th scope="row">
                        <Link to={`/runs/${r.run_id}`}>{fmt.shortId(r.run_id)}</Link>
                      </th>
                      <td>{r.model ?? "not recorded"}</td>
                      <td>
                        <span className={`status status-${r.status}`}>{r.status}</span>
                        {r.superseded ? <span className="status status-superseded">superseded</span> : null}
                        {r.failure_reason ? <span className="muted block">{r.failure_reason}</span> : null}
                      </td>
                      <td>{fmt.timestamp(r.started_at)}</td>
                      <td>{r.runner_id}</td>
                      <td className="num">{r.output_tokens ?? fmt.NOT_MEASURED}</td>
                      <td className="num">{fmt.tokensPerSecond(r.output_tokens_per_s)}</td>
                      <td className="num">{fmt.energy(r.energy_j)}</td>
                      <td className="num">{fmt.joulesPerToken(r.energy_per_output_token_j)}</td>
                      <td>{r.meter ?? "not recorded"}</td>
                      <td>
                        <Flags codes={r.quality_flags.map((f) => f.code)} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={page.offset} limit={page.limit} total={page.total} noun="runs" onPage={(offset) => navigate(writeQuery({ ...query, offset }))} />
          </>
        )}
      </QueryState>
    </>
  );
}
