/** A distribution over a run's requests, as an SVG histogram with its percentiles in words. */
import * as fmt from "../format";
import { histogram } from "./series";

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (rank - lo);
}

export function Histogram({
  title,
  values,
  format,
}: {
  title: string;
  values: (number | null)[];
  format: (v: number | null) => string;
}) {
  const h = histogram(values);
  const sorted = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const w = 280;
  const hgt = 120;
  const peak = Math.max(1, ...h.counts);
  const barW = h.counts.length ? w / h.counts.length : w;
  const summary = h.n
    ? `${fmt.count(h.n, "request")}: p50 ${format(percentile(sorted, 50))}, p90 ${format(percentile(sorted, 90))}, p99 ${format(percentile(sorted, 99))}`
    : fmt.NOT_MEASURED;
  return (
    <figure className="histogram">
      <figcaption>
        <strong>{title}</strong>
        <span className="muted block">{summary}</span>
      </figcaption>
      {h.n ? (
        <svg viewBox={`0 0 ${w} ${hgt + 18}`} role="img" aria-label={`${title}: ${summary}`}>
          {h.counts.map((c, i) => (
            <rect
              key={i}
              x={i * barW + 0.5}
              y={hgt - (c / peak) * hgt}
              width={Math.max(1, barW - 1)}
              height={(c / peak) * hgt}
              className="bar"
            >
              <title>
                {format(h.edges[i] ?? null)} – {format(h.edges[i + 1] ?? null)}: {c}
              </title>
            </rect>
          ))}
          <text x={0} y={hgt + 14} className="axis-text">
            {format(h.edges[0] ?? null)}
          </text>
          <text x={w} y={hgt + 14} textAnchor="end" className="axis-text">
            {format(h.edges.at(-1) ?? null)}
          </text>
        </svg>
      ) : null}
    </figure>
  );
}
