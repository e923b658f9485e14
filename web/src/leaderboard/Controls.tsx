/** Constraint and filter controls. Every change goes to the URL (the page's only state). */
import { useEffect, useId, useMemo, useState } from "react";
import { PERCENTILES, type ConfigRow, type Percentile } from "../api/types";
import { significant } from "../format";
import { at, choices, FILTER_KEYS, type Constraints, type Filters } from "./select";

const FILTER_LABELS: Record<(typeof FILTER_KEYS)[number], string> = {
  task: "Task (prompt set)",
  gpu: "GPU",
  backend: "Backend",
  precision: "Precision",
  pool: "Pool",
};

/** A number field that may be empty (no limit); typing an unfinished number does not reset it. */
function LimitInput({
  id,
  value,
  onChange,
  unit,
  describedBy,
}: {
  id: string;
  value: number | null;
  onChange: (value: number | null) => void;
  unit: string;
  describedBy?: string;
}) {
  const [draft, setDraft] = useState(value === null ? "" : String(value));
  useEffect(() => {
    setDraft((current) => (Number(current) === value || (value === null && current === "") ? current : value === null ? "" : String(value)));
  }, [value]);
  return (
    <span className="limit">
      <input
        id={id}
        type="number"
        inputMode="decimal"
        min={0}
        step="any"
        placeholder="no limit"
        value={draft}
        aria-describedby={describedBy}
        onChange={(event) => {
          const text = event.target.value;
          setDraft(text);
          if (text.trim() === "") onChange(null);
          else {
            const parsed = Number(text);
            if (Number.isFinite(parsed) && parsed > 0) onChange(parsed);
          }
        }}
      />
      <span className="unit">{unit}</span>
    </span>
  );
}

function PercentileSelect({
  id,
  value,
  onChange,
  label,
}: {
  id: string;
  value: Percentile;
  onChange: (p: Percentile) => void;
  label: string;
}) {
  return (
    <select id={id} value={value} aria-label={label} onChange={(e) => onChange(e.target.value as Percentile)}>
      {PERCENTILES.map((p) => (
        <option key={p} value={p}>
          {p}
        </option>
      ))}
    </select>
  );
}

function sliderMax(rows: readonly ConfigRow[], percentile: Percentile): number {
  let max = 0;
  for (const row of rows) max = Math.max(max, at(row.itl_ms, percentile) ?? 0);
  return max > 0 ? Number((max * 1.05).toPrecision(2)) : 100;
}

export function ConstraintControls({
  rows,
  constraints,
  onChange,
}: {
  rows: readonly ConfigRow[];
  constraints: Constraints;
  onChange: (c: Constraints) => void;
}) {
  const id = useId();
  const max = useMemo(() => sliderMax(rows, constraints.itlPercentile), [rows, constraints.itlPercentile]);
  const set = (patch: Partial<Constraints>) => onChange({ ...constraints, ...patch });
  const slider = constraints.maxItlMs === null ? max : Math.min(constraints.maxItlMs, max);
  return (
    <fieldset className="controls constraints">
      <legend>Constraints</legend>
      <div className="control control-wide">
        <label htmlFor={`${id}-itl`}>Inter-token latency deadline</label>
        <div className="control-row">
          <input
            type="range"
            aria-label="Inter-token latency deadline slider (rightmost: no limit)"
            min={0}
            max={max}
            step={max / 200}
            value={slider}
            onChange={(e) => {
              const v = Number(e.target.value);
              set({ maxItlMs: v >= max ? null : Number(significant(Math.max(v, max / 200)).replace(/,/g, "")) });
            }}
          />
          <LimitInput id={`${id}-itl`} value={constraints.maxItlMs} unit="ms at" onChange={(v) => set({ maxItlMs: v })} />
          <PercentileSelect
            id={`${id}-itlp`}
            label="Inter-token latency percentile"
            value={constraints.itlPercentile}
            onChange={(p) => set({ itlPercentile: p })}
          />
        </div>
      </div>
      <div className="control">
        <label htmlFor={`${id}-ttft`}>Time-to-first-token deadline</label>
        <div className="control-row">
          <LimitInput id={`${id}-ttft`} value={constraints.maxTtftMs} unit="ms at" onChange={(v) => set({ maxTtftMs: v })} />
          <PercentileSelect
            id={`${id}-ttftp`}
            label="Time-to-first-token percentile"
            value={constraints.ttftPercentile}
            onChange={(p) => set({ ttftPercentile: p })}
          />
        </div>
      </div>
      <div className="control">
        <label htmlFor={`${id}-power`}>Power cap (average power)</label>
        <div className="control-row">
          <LimitInput id={`${id}-power`} value={constraints.maxPowerW} unit="W" onChange={(v) => set({ maxPowerW: v })} />
        </div>
      </div>
      <button
        type="button"
        className="link-button"
        disabled={constraints.maxItlMs === null && constraints.maxTtftMs === null && constraints.maxPowerW === null}
        onClick={() => set({ maxItlMs: null, maxTtftMs: null, maxPowerW: null })}
      >
        Clear constraints
      </button>
    </fieldset>
  );
}

export function FilterControls({
  rows,
  filters,
  onChange,
}: {
  rows: readonly ConfigRow[];
  filters: Filters;
  onChange: (f: Filters) => void;
}) {
  const id = useId();
  const menus = useMemo(() => Object.fromEntries(FILTER_KEYS.map((key) => [key, choices(rows, key)])), [rows]);
  return (
    <fieldset className="controls filters">
      <legend>Filters</legend>
      {FILTER_KEYS.map((key) => {
        const options = menus[key] ?? [];
        const value = filters[key];
        return (
          <div className="control" key={key}>
            <label htmlFor={`${id}-${key}`}>{FILTER_LABELS[key]}</label>
            <select
              id={`${id}-${key}`}
              value={value ?? ""}
              onChange={(e) => onChange({ ...filters, [key]: e.target.value || null })}
            >
              <option value="">All ({options.length})</option>
              {value !== null && !options.includes(value) ? <option value={value}>{value} (no data)</option> : null}
              {options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </div>
        );
      })}
    </fieldset>
  );
}
