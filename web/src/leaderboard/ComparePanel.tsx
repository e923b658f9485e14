/** 2-4 models side by side: each one's best configuration under the same constraints. */
import type { ConfigRow } from "../api/types";
import { Flags } from "../components/FlagBadge";
import * as fmt from "../format";
import { COLUMNS } from "./columns";
import type { Constraints } from "./select";

export function ComparePanel({
  models,
  best,
  constraints,
  onRemove,
}: {
  models: string[];
  best: ConfigRow[];
  constraints: Constraints;
  onRemove: (model: string) => void;
}) {
  if (models.length === 0) return null;
  const rows = models.map((model) => best.find((r) => r.model === model) ?? null);
  const base = rows[0]?.energy_per_output_token_j ?? null;
  return (
    <section className="compare" aria-labelledby="compare-title">
      <h2 id="compare-title">Compare</h2>
      {models.length < 2 ? <p className="muted">Tick a second model in the table to compare (up to four).</p> : null}
      <div className="table-scroll" role="region" aria-label="Compared models" tabIndex={0}>
        <table className="compare-table">
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Measure</span>
              </th>
              {models.map((model, i) => (
                <th scope="col" key={model}>
                  <span className={`dot dot-c${i + 1}`} aria-hidden="true" /> {model}{" "}
                  <button type="button" className="link-button" onClick={() => onRemove(model)} aria-label={`Stop comparing ${model}`}>
                    ✕
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {COLUMNS.filter((c) => c.key !== "model").map((col) => (
              <tr key={col.key}>
                <th scope="row">
                  {col.label}
                  {col.key === "ttft" ? ` ${constraints.ttftPercentile}` : col.key === "itl" ? ` ${constraints.itlPercentile}` : ""}
                </th>
                {rows.map((row, i) =>
                  row === null ? (
                    <td key={models[i]} className="muted">
                      no configuration meets the constraints
                    </td>
                  ) : (
                    <td key={models[i]}>
                      {col.key === "flags" ? <Flags codes={row.quality_flags} /> : col.text(row, constraints)}
                      {col.key === "jpt" && base !== null && i > 0 ? (
                        <span className="muted block">
                          {fmt.signedPercent(row.energy_per_output_token_j / base - 1)} vs {models[0]}
                        </span>
                      ) : null}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
