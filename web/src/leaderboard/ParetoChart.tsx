/**
 * The time-energy chart: every configuration (inter-token latency at the chosen percentile against
 * J/token), each model's Pareto frontier, the ITL deadline, which configurations meet the
 * constraints. Drawn on a canvas (thousands of points redraw in a few ms); keyboard: arrow keys
 * move between points, Enter opens the point's run; the mouse: hover shows, click opens.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from "react";
import type { ConfigRow } from "../api/types";
import { usePalette } from "../components/theme";
import { makeScale, type Scale } from "../components/scale";
import * as fmt from "../format";
import { setup } from "./columns";
import type { Constraints, Point } from "./select";

const MARGIN = { top: 16, right: 16, bottom: 44, left: 64 };
const COLOURS = {
  "--ink": "#111",
  "--muted": "#666",
  "--grid": "#ddd",
  "--accent": "#0b6e4f",
  "--miss": "#999",
  "--frontier": "rgba(85,93,105,0.45)",
  "--c1": "#d55e00",
  "--c2": "#0072b2",
  "--c3": "#cc79a7",
  "--c4": "#e69f00",
};

interface Props {
  points: Point[];
  constraints: Constraints;
  compare: string[];
  logScale: boolean;
  onOpen?: ((row: ConfigRow) => void) | undefined;
}

interface Placed {
  point: Point;
  x: number;
  y: number;
}

function useWidth(): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(640);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const observer = new ResizeObserver(([entry]) => entry && setWidth(Math.max(280, Math.floor(entry.contentRect.width))));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

function describe(p: Point, c: Constraints): string {
  const r = p.row;
  return `${r.model}, ${setup(r)}: ${fmt.joulesPerToken(r.energy_per_output_token_j)} at ITL ${c.itlPercentile} ${fmt.millis(
    p.latencyMs,
  )}; ${p.meets ? "meets" : "misses"} the constraints${p.pareto ? "; on its model's Pareto frontier" : ""}`;
}

export function ParetoChart({ points, constraints, compare, logScale, onOpen }: Props) {
  const [wrapRef, width] = useWidth();
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const palette = usePalette(COLOURS);
  const height = width < 560 ? 300 : 380;
  const [active, setActive] = useState<number | null>(null); // index into `placed`

  const drawable = useMemo(
    () =>
      points
        .filter((p) => p.latencyMs !== null && (!logScale || (p.latencyMs > 0 && p.row.energy_per_output_token_j > 0)))
        .sort((a, b) => (a.latencyMs ?? 0) - (b.latencyMs ?? 0) || a.row.energy_per_output_token_j - b.row.energy_per_output_token_j),
    [points, logScale],
  );
  const scales = useMemo((): { x: Scale; y: Scale } => {
    const xs = drawable.map((p) => p.latencyMs ?? 0);
    if (constraints.maxItlMs !== null) xs.push(constraints.maxItlMs);
    return {
      x: makeScale(xs, MARGIN.left, width - MARGIN.right, logScale),
      y: makeScale(
        drawable.map((p) => p.row.energy_per_output_token_j),
        height - MARGIN.bottom,
        MARGIN.top,
        logScale,
      ),
    };
  }, [drawable, constraints.maxItlMs, width, height, logScale]);
  const placed = useMemo(
    (): Placed[] => drawable.map((point) => ({ point, x: scales.x.px(point.latencyMs ?? 0), y: scales.y.px(point.row.energy_per_output_token_j) })),
    [drawable, scales],
  );
  useEffect(() => setActive(null), [placed]);

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== width * dpr || canvas.height !== height * dpr) {
      canvas.width = width * dpr; // reallocates the bitmap: only when the size changes
      canvas.height = height * dpr;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const { "--ink": ink, "--muted": muted, "--grid": grid, "--accent": meet, "--miss": miss, "--frontier": frontier } = palette;
    const colours = [palette["--c1"], palette["--c2"], palette["--c3"], palette["--c4"]];
    const colourOf = (model: string) => {
      const i = compare.indexOf(model);
      return i >= 0 ? colours[i] : null;
    };
    ctx.clearRect(0, 0, width, height);
    ctx.font = "12px system-ui, sans-serif";
    // grid and axes
    ctx.strokeStyle = grid;
    ctx.fillStyle = muted;
    ctx.lineWidth = 1;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of scales.x.ticks) {
      const x = Math.round(scales.x.px(t)) + 0.5;
      if (x < MARGIN.left - 1 || x > width - MARGIN.right + 1) continue;
      ctx.beginPath();
      ctx.moveTo(x, MARGIN.top);
      ctx.lineTo(x, height - MARGIN.bottom);
      ctx.stroke();
      ctx.fillText(scales.x.label(t), x, height - MARGIN.bottom + 6);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of scales.y.ticks) {
      const y = Math.round(scales.y.px(t)) + 0.5;
      if (y < MARGIN.top - 1 || y > height - MARGIN.bottom + 1) continue;
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, y);
      ctx.lineTo(width - MARGIN.right, y);
      ctx.stroke();
      ctx.fillText(scales.y.label(t), MARGIN.left - 6, y);
    }
    ctx.fillStyle = ink;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText(`Inter-token latency ${constraints.itlPercentile} (ms)${logScale ? ", log" : ""}`, (MARGIN.left + width - MARGIN.right) / 2, height - 4);
    ctx.save();
    ctx.translate(14, (MARGIN.top + height - MARGIN.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(`Energy per output token (J)${logScale ? ", log" : ""}`, 0, 0);
    ctx.restore();
    // the deadline
    if (constraints.maxItlMs !== null) {
      const x = scales.x.px(constraints.maxItlMs);
      ctx.strokeStyle = ink;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(x, MARGIN.top);
      ctx.lineTo(x, height - MARGIN.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = ink;
      ctx.textAlign = x > width - 120 ? "right" : "left";
      ctx.textBaseline = "top";
      ctx.fillText(`deadline ${fmt.millis(constraints.maxItlMs)}`, x + (x > width - 120 ? -4 : 4), MARGIN.top);
    }
    // frontiers, per model, in latency order
    const frontiers = new Map<string, Placed[]>();
    for (const p of placed) {
      if (!p.point.pareto) continue;
      const list = frontiers.get(p.point.row.model);
      if (list) list.push(p);
      else frontiers.set(p.point.row.model, [p]);
    }
    for (const [model, line] of frontiers) {
      if (line.length < 2) continue;
      const colour = colourOf(model);
      ctx.strokeStyle = colour ?? frontier;
      ctx.lineWidth = colour ? 2 : 1.25;
      ctx.beginPath();
      line.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
      ctx.stroke();
    }
    // points: misses hollow, meets filled, compared models in their colour, drawn last
    const layer = (filter: (p: Placed) => boolean, draw: () => void, radius: number) => {
      ctx.beginPath();
      for (const p of placed) {
        if (!filter(p)) continue;
        ctx.moveTo(p.x + radius, p.y);
        ctx.arc(p.x, p.y, radius, 0, Math.PI * 2);
      }
      draw();
    };
    ctx.lineWidth = 1;
    ctx.strokeStyle = miss;
    layer((p) => !p.point.meets && colourOf(p.point.row.model) === null, () => ctx.stroke(), 3);
    ctx.fillStyle = meet;
    layer((p) => p.point.meets && colourOf(p.point.row.model) === null, () => ctx.fill(), 3);
    compare.forEach((model, i) => {
      ctx.fillStyle = colours[i] ?? ink;
      ctx.strokeStyle = colours[i] ?? ink;
      layer((p) => p.point.row.model === model && p.point.meets, () => ctx.fill(), 4.5);
      layer((p) => p.point.row.model === model && !p.point.meets, () => ctx.stroke(), 4.5);
    });
    const focused = active === null ? null : placed[active];
    if (focused) {
      ctx.strokeStyle = ink;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(focused.x, focused.y, 8, 0, Math.PI * 2);
      ctx.stroke();
    }
  }, [placed, scales, width, height, compare, constraints.maxItlMs, constraints.itlPercentile, logScale, active, palette]);

  const nearest = useCallback(
    (event: MouseEvent<HTMLCanvasElement>): number | null => {
      const rect = event.currentTarget.getBoundingClientRect();
      const mx = event.clientX - rect.left;
      const my = event.clientY - rect.top;
      let best: number | null = null;
      let bestD = 10 * 10;
      placed.forEach((p, i) => {
        const d = (p.x - mx) ** 2 + (p.y - my) ** 2;
        if (d <= bestD) [best, bestD] = [i, d];
      });
      return best;
    },
    [placed],
  );

  const open = (index: number | null) => {
    const p = index === null ? undefined : placed[index];
    if (p && onOpen) onOpen(p.point.row);
  };

  const onKey = (event: KeyboardEvent<HTMLCanvasElement>) => {
    if (!placed.length) return;
    const last = placed.length - 1;
    const moves: Record<string, () => number> = {
      ArrowRight: () => (active === null ? 0 : Math.min(last, active + 1)),
      ArrowDown: () => (active === null ? 0 : Math.min(last, active + 1)),
      ArrowLeft: () => (active === null ? last : Math.max(0, active - 1)),
      ArrowUp: () => (active === null ? last : Math.max(0, active - 1)),
      Home: () => 0,
      End: () => last,
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      setActive(move());
    } else if (event.key === "Enter" && active !== null) {
      event.preventDefault();
      open(active);
    } else if (event.key === "Escape") setActive(null);
  };

  const current = active === null ? null : placed[active];
  const hidden = points.length - placed.length;
  return (
    <figure className="chart" ref={wrapRef}>
      <canvas
        ref={canvasRef}
        style={{ width: `${width}px`, height: `${height}px` }}
        tabIndex={0}
        role="application"
        aria-roledescription="chart"
        aria-label={`Time-energy chart of ${placed.length} configurations: inter-token latency against energy per token. Arrow keys move between configurations${onOpen ? ", Enter opens its run" : ""}.`}
        aria-describedby="pareto-focus"
        data-points={placed.length}
        data-active-x={current ? Math.round(current.x) : undefined}
        data-active-y={current ? Math.round(current.y) : undefined}
        onKeyDown={onKey}
        onMouseMove={(e) => setActive(nearest(e))}
        onMouseLeave={() => setActive(null)}
        onClick={(e) => open(nearest(e))}
        className={current && onOpen ? "pointer" : undefined}
      />
      {current ? (
        <div
          className="chart-tip"
          aria-hidden="true"
          style={{ left: Math.min(current.x + 12, width - 240), top: Math.max(0, current.y - 12) }}
        >
          <strong>{current.point.row.model}</strong>
          <br />
          {setup(current.point.row)}
          <br />
          {fmt.joulesPerToken(current.point.row.energy_per_output_token_j)} · ITL {fmt.millis(current.point.latencyMs)}
          <br />
          {current.point.meets ? "meets the constraints" : "misses the constraints"}
          {current.point.pareto ? " · Pareto-optimal" : ""}
        </div>
      ) : null}
      <p id="pareto-focus" className="visually-hidden" aria-live="polite">
        {current ? describe(current.point, constraints) : ""}
      </p>
      <figcaption>
        <span className="legend">
          <span className="dot dot-meet" aria-hidden="true" /> meets the constraints
        </span>
        <span className="legend">
          <span className="dot dot-miss" aria-hidden="true" /> misses them
        </span>
        <span className="legend">
          <span className="line" aria-hidden="true" /> a model's Pareto frontier
        </span>
        {compare.map((model, i) => (
          <span className="legend" key={model}>
            <span className={`dot dot-c${i + 1}`} aria-hidden="true" /> {model}
          </span>
        ))}
        {hidden > 0 ? <span className="muted">{hidden} configuration(s) without a measured ITL are not drawn.</span> : null}
      </figcaption>
    </figure>
  );
}

/** The chart as a PNG file (what is drawn, at screen resolution). */
export function chartPng(figure: HTMLElement | null): Promise<Blob | null> {
  const canvas = figure?.querySelector("canvas");
  return new Promise((resolve) => (canvas ? canvas.toBlob(resolve, "image/png") : resolve(null)));
}
