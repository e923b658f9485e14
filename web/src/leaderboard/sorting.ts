/** Sorting the leaderboard's table: by any column, nulls last in both directions. */
import type { ConfigRow } from "../api/types";
import { at, compareText, type Constraints } from "./select";
import type { SortKey } from "./urlState";

export function sortValue(row: ConfigRow, key: SortKey, c: Constraints): number | string | null {
  switch (key) {
    case "model":
      return row.model;
    case "ttft":
      return at(row.ttft_ms, c.ttftPercentile);
    case "itl":
      return at(row.itl_ms, c.itlPercentile);
    default:
      return row[key];
  }
}

export function sortRows(rows: readonly ConfigRow[], key: SortKey, descending: boolean, c: Constraints): ConfigRow[] {
  const keyed = rows.map((row) => ({ row, value: sortValue(row, key, c) }));
  keyed.sort((a, b) => {
    if (a.value === null || b.value === null) {
      return a.value === b.value ? compareText(a.row.model, b.row.model) : a.value === null ? 1 : -1;
    }
    const order =
      typeof a.value === "string" || typeof b.value === "string"
        ? compareText(String(a.value), String(b.value))
        : a.value - b.value;
    return (descending ? -order : order) || compareText(a.row.model, b.row.model);
  });
  return keyed.map((k) => k.row);
}
