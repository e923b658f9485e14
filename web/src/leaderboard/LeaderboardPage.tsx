/**
 * The leaderboard: constraints and filters (all in the URL), the best configuration per model,
 * the time-energy chart, side-by-side comparison, and downloads of what is shown. The choice is
 * computed here from every configuration (select.ts), the same rules as GET /api/leaderboard.
 */
import { useEffect, useMemo, useRef } from "react";
import { useConfigurations } from "../api/queries";
import type { ConfigRow, Configurations } from "../api/types";
import { QueryState } from "../components/QueryState";
import * as fmt from "../format";
import { BOARD_PATH, MODE } from "../mode";
import { Link, navigate, usePlace } from "../router";
import { BestTable } from "./BestTable";
import { ComparePanel } from "./ComparePanel";
import { ConstraintControls, FilterControls } from "./Controls";
import { save, toCsv, records } from "./download";
import { chartPng, ParetoChart } from "./ParetoChart";
import { buildBoard } from "./select";
import { sortRows } from "./sorting";
import { apiQuery, DEFAULT_VIEW, parseView, serializeView, TABLE_ROWS, type BoardView } from "./urlState";

function mark(name: string): void {
  performance.mark(name);
}

function Empty({ data }: { data: Configurations }) {
  const { runs, meters = [] } = data.unmeasured;
  if (runs > 0) {
    return (
      <div className="notice" role="status">
        <h2>No entries yet: energy was not measured</h2>
        <p>
          {fmt.count(runs, "completed run")} {runs === 1 ? "was" : "were"} measured with the meter{meters.length === 1 ? "" : "s"}{" "}
          {meters.map((m) => `“${m}”`).join(", ")}: {meters.includes("none")
            ? `${runs === 1 ? "its runner" : "their runners"} had no energy meter (no NVML GPU, no readable RAPL counters). `
            : ""}
          The leaderboard ranks only runs whose energy was measured; llem never estimates it.
        </p>
        {MODE === "api" ? (
          <p>
            <Link to="/runs?status=completed">See those runs</Link>, with their latencies and throughput.
          </p>
        ) : null}
      </div>
    );
  }
  return (
    <div className="notice" role="status">
      <h2>No entries yet</h2>
      <p>No completed run has been stored. Submit a campaign (llem campaign submit) and its runs appear here.</p>
    </div>
  );
}

function Board({ data, view, ignored, setView }: { data: Configurations; view: BoardView; ignored: string[]; setView: (v: BoardView) => void }) {
  const rows = data.configurations;
  const board = useMemo(() => buildBoard(rows, view.filters, view.constraints), [rows, view.filters, view.constraints]);
  const sorted = useMemo(
    () => sortRows(board.best, view.sort, view.descending, view.constraints),
    [board.best, view.sort, view.descending, view.constraints],
  );
  const chartRef = useRef<HTMLDivElement | null>(null);
  const version = useRef(0);
  useEffect(() => {
    version.current += 1;
    document.body.dataset.boardVersion = String(version.current); // benchmarks wait on it
    if (version.current === 1) mark("llem:leaderboard:rendered");
  }, [sorted, board.points]);

  if (rows.length === 0) return <Empty data={data} />;
  const models = new Set(board.points.map((p) => p.row.model)).size;
  const meeting = board.points.filter((p) => p.meets).length;
  const stamp = new Date().toISOString().slice(0, 10);
  const exportDoc = () =>
    JSON.stringify(
      { view: Object.fromEntries(serializeView(view)), generated_at: new Date().toISOString(), rows: records(sorted, view.constraints) },
      null,
      2,
    );
  return (
    <>
      {ignored.length ? (
        <div className="notice" role="status">
          This link had parameters the leaderboard could not read, ignored: {ignored.join("; ")}.
        </div>
      ) : null}
      <div className="controls-grid">
        <ConstraintControls rows={rows} constraints={view.constraints} onChange={(constraints) => setView({ ...view, constraints })} />
        <FilterControls rows={rows} filters={view.filters} onChange={(filters) => setView({ ...view, filters })} />
      </div>
      <p className="summary" aria-live="polite">
        {fmt.count(board.points.length, "configuration")} of {fmt.count(models, "model")};{" "}
        {fmt.count(meeting, "configuration")} meet{meeting === 1 ? "s" : ""} the constraints
        {board.unmet.length ? `; ${fmt.count(board.unmet.length, "model")} with none that does` : ""}.
        {data.unmeasured.runs ? ` ${fmt.count(data.unmeasured.runs, "completed run")} without measured energy ${data.unmeasured.runs === 1 ? "is" : "are"} not ranked.` : ""}
      </p>
      {board.points.length === 0 ? (
        <div className="notice" role="status">
          <p>No configuration matches these filters.</p>
          <button type="button" onClick={() => setView({ ...view, filters: DEFAULT_VIEW.filters })}>
            Clear the filters
          </button>
        </div>
      ) : (
        <>
          <section aria-labelledby="best-title">
            <div className="section-head">
              <h2 id="best-title">Best configuration per model</h2>
              <div className="actions">
                <button type="button" onClick={() => save(`llem-leaderboard-${stamp}.csv`, toCsv(sorted, view.constraints), "text/csv")}>
                  Download CSV
                </button>
                <button type="button" onClick={() => save(`llem-leaderboard-${stamp}.json`, exportDoc(), "application/json")}>
                  Download JSON
                </button>
                {MODE === "api" ? (
                  <a className="button-like" href={`/api/leaderboard?${apiQuery(view).toString()}`}>
                    API
                  </a>
                ) : null}
              </div>
            </div>
            {sorted.length === 0 ? (
              <p className="notice">No configuration meets the constraints. Loosen them; the chart shows every configuration.</p>
            ) : (
              <>
              <BestTable
                rows={view.allRows ? sorted : sorted.slice(0, TABLE_ROWS)}
                constraints={view.constraints}
                sort={view.sort}
                descending={view.descending}
                onSort={(sort, descending) => setView({ ...view, sort, descending })}
                compare={view.compare}
                onCompare={(compare) => setView({ ...view, compare })}
              />
              {sorted.length > TABLE_ROWS ? (
                <p className="more">
                  {view.allRows ? `All ${sorted.length} models shown. ` : `The first ${TABLE_ROWS} of ${sorted.length} models, in this order. `}
                  <button type="button" onClick={() => setView({ ...view, allRows: !view.allRows })}>
                    {view.allRows ? `Show the first ${TABLE_ROWS}` : `Show all ${sorted.length}`}
                  </button>
                </p>
              ) : null}
              </>
            )}
          </section>
          <ComparePanel
            models={view.compare}
            best={board.best}
            constraints={view.constraints}
            onRemove={(model) => setView({ ...view, compare: view.compare.filter((m) => m !== model) })}
          />
          <section aria-labelledby="chart-title" ref={chartRef}>
            <div className="section-head">
              <h2 id="chart-title">Time and energy of every configuration</h2>
              <div className="actions">
                <label className="inline">
                  <input type="checkbox" checked={view.logScale} onChange={(e) => setView({ ...view, logScale: e.target.checked })} /> log
                  scales
                </label>
                <button
                  type="button"
                  onClick={() => void chartPng(chartRef.current).then((png) => png && save(`llem-time-energy-${stamp}.png`, png))}
                >
                  Download PNG
                </button>
              </div>
            </div>
            <ParetoChart
              points={board.points}
              constraints={view.constraints}
              compare={view.compare}
              logScale={view.logScale}
              onOpen={MODE === "api" ? (row: ConfigRow) => row.run_ids[0] && navigate(`/runs/${row.run_ids[0]}`) : undefined}
            />
          </section>
        </>
      )}
    </>
  );
}

export function LeaderboardPage() {
  const place = usePlace();
  const { view, ignored } = useMemo(() => parseView(place.params), [place.params]);
  const query = useConfigurations();
  const setView = (next: BoardView) => {
    const search = serializeView(next).toString();
    navigate(search ? `${BOARD_PATH}?${search}` : BOARD_PATH, { replace: true });
  };
  useEffect(() => {
    document.title = "llem leaderboard: energy per token of LLM inference";
  }, []);
  useEffect(() => {
    if (query.data) mark("llem:leaderboard:data");
  }, [query.data]);
  return (
    <>
      <h1>Energy per token of LLM inference</h1>
      <p className="lede">
        Per model, the configuration that used the least energy per output token while meeting your latency and power limits.
        Measured on real hardware; every number links to how it was measured.
      </p>
      <QueryState query={query} what="leaderboard">
        {(data) => <Board data={data} view={view} ignored={ignored} setView={setView} />}
      </QueryState>
    </>
  );
}
