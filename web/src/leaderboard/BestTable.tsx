/** The best configuration per model, as a sortable table. */
import { memo, useCallback, useRef } from "react";
import type { ConfigRow, Percentile } from "../api/types";
import { Flags } from "../components/FlagBadge";
import * as fmt from "../format";
import { MODE } from "../mode";
import { Link } from "../router";
import { COLUMNS, gpus, setup } from "./columns";

const TABLE_COLUMNS = COLUMNS.filter((c) => c.inTable !== false);
import type { Constraints } from "./select";
import { DEFAULT_VIEW, MAX_COMPARE, type SortKey } from "./urlState";

interface Props {
  rows: ConfigRow[];
  constraints: Constraints;
  sort: SortKey;
  descending: boolean;
  onSort: (key: SortKey, descending: boolean) => void;
  compare: string[];
  onCompare: (models: string[]) => void;
}

function EnergySplit({ row }: { row: ConfigRow }) {
  const { active_energy_j: active, idle_energy_j: idle } = row;
  if (active === null || idle === null) {
    return (
      <span>
        {fmt.energy(row.energy_j)} total
        <br />
        <span className="muted">idle/active split not measured</span>
      </span>
    );
  }
  const total = Math.max(active + idle, Number.EPSILON);
  const activePct = Math.max(0, Math.min(100, (active / total) * 100));
  return (
    <span className="split">
      <span className="split-bar" aria-hidden="true">
        <span className="split-active" style={{ width: `${activePct}%` }} />
      </span>
      <span>
        {fmt.energy(active)} active
        <br />
        <span className="muted">{fmt.energy(idle)} idle</span>
      </span>
    </span>
  );
}

function Cell({ column, row, c }: { column: (typeof TABLE_COLUMNS)[number]; row: ConfigRow; c: Constraints }) {
  switch (column.key) {
    case "model":
      return (
        <>
          <span className="model-name">{row.model}</span>
          {row.task ? <span className="muted block">{row.task}</span> : null}
        </>
      );
    case "jpt":
      return (
        <>
          <strong>{fmt.joulesPerToken(row.energy_per_output_token_j)}</strong>
          <span className="muted block">{fmt.interval(row.energy_per_output_token_j_interval)}</span>
        </>
      );
    case "energy":
      return <EnergySplit row={row} />;
    case "flags":
      return <Flags codes={row.quality_flags} />;
    case "setup":
      return (
        <>
          {setup(row)}
          <span className="muted block">{gpus(row)}</span>
        </>
      );
    case "runs":
      return MODE === "api" && row.run_ids[0] ? (
        <Link to={`/runs/${row.run_ids[0]}`} aria-label={`${row.runs} run(s) of ${row.model}: open the first`}>
          {row.runs}
        </Link>
      ) : (
        <>{row.runs}</>
      );
    default:
      return <>{column.text(row, c)}</>;
  }
}

function header(label: string, key: string, c: Constraints): string {
  if (key === "ttft") return `${label} ${c.ttftPercentile}`;
  if (key === "itl") return `${label} ${c.itlPercentile}`;
  return label;
}

interface RowProps {
  row: ConfigRow;
  itlPercentile: Percentile;
  ttftPercentile: Percentile;
  checked: boolean;
  disabled: boolean;
  onToggle: (model: string) => void;
}

/**
 * One model's row, keyed by model and memoised: a constraint change re-renders only the rows whose
 * winner changed, a re-sort only moves them (React reuses them in place).
 */
const Row = memo(function Row({ row, itlPercentile, ttftPercentile, checked, disabled, onToggle }: RowProps) {
  const c = { ...DEFAULT_VIEW.constraints, itlPercentile, ttftPercentile };
  return (
    <tr data-config={row.config_id} className={checked ? "compared" : undefined}>
      <td>
        <input
          type="checkbox"
          aria-label={`Compare ${row.model}`}
          checked={checked}
          disabled={disabled}
          onChange={() => onToggle(row.model)}
        />
      </td>
      {TABLE_COLUMNS.map((col) =>
        col.key === "model" ? (
          <th key={col.key} scope="row">
            <Cell column={col} row={row} c={c} />
          </th>
        ) : (
          <td key={col.key} className={col.numeric ? "num" : undefined} data-col={col.key}>
            <Cell column={col} row={row} c={c} />
          </td>
        ),
      )}
    </tr>
  );
});

export function BestTable({ rows, constraints, sort, descending, onSort, compare, onCompare }: Props) {
  const full = compare.length >= MAX_COMPARE;
  // stable across renders, so memoised rows do not re-render for a new callback
  const latest = useRef({ compare, onCompare });
  latest.current = { compare, onCompare };
  const onToggle = useCallback((model: string) => {
    const { compare: current, onCompare: set } = latest.current;
    set(current.includes(model) ? current.filter((m) => m !== model) : [...current, model]);
  }, []);
  return (
    <div className="table-scroll" role="region" aria-label="Table of the best configurations" tabIndex={0}>
      <table className="board">
        <caption className="visually-hidden">
          Best configuration per model under the constraints; column headers sort the table.
        </caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">Compare</span>
            </th>
            {TABLE_COLUMNS.map((col) => {
              const active = col.sort === sort;
              return (
                <th
                  key={col.key}
                  scope="col"
                  className={col.numeric ? "num" : undefined}
                  aria-sort={active ? (descending ? "descending" : "ascending") : undefined}
                >
                  {col.sort ? (
                    <button
                      type="button"
                      className="sort"
                      onClick={() => onSort(col.sort as SortKey, active ? !descending : false)}
                    >
                      {header(col.label, col.key, constraints)}
                      <span aria-hidden="true">{active ? (descending ? " ▼" : " ▲") : ""}</span>
                    </button>
                  ) : (
                    header(col.label, col.key, constraints)
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const checked = compare.includes(row.model);
            return (
              <Row
                key={row.model}
                row={row}
                itlPercentile={constraints.itlPercentile}
                ttftPercentile={constraints.ttftPercentile}
                checked={checked}
                disabled={!checked && full}
                onToggle={onToggle}
              />
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
