/**
 * One uPlot chart of a per-GPU metric over a run, with the steady-state window and the repetitions
 * shaded behind the lines. Created once per data set (uPlot's own advice), resized in place; what was
 * shaded is recorded on the element (`data-bands`, canvas pixels) for tests.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { GPU_COLOURS, GPU_KEYS } from "../components/gpuColours";
import { usePalette } from "../components/theme";
import type { Band } from "./series";

const COLOURS = {
  "--ink": "#111",
  "--grid": "#ddd",
  "--band-steady": "rgba(11,110,79,0.16)",
  "--band-rep-a": "rgba(100,100,100,0.08)",
  "--band-rep-b": "rgba(100,100,100,0.16)",
  ...GPU_COLOURS,
};

interface Props {
  title: string;
  unit: string;
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  bands: Band[];
  height?: number;
}

export function SeriesChart({ title, unit, x, series, bands, height = 220 }: Props) {
  const ref = useRef<HTMLDivElement | null>(null);
  const palette = usePalette(COLOURS);

  useEffect(() => {
    const target = ref.current;
    if (!target) return;
    const { "--ink": ink, "--grid": grid, "--band-steady": steady, "--band-rep-a": repA, "--band-rep-b": repB } = palette;
    const shade = (u: uPlot) => {
      const { top, height: h, left, width } = u.bbox;
      const drawn: { label: string; kind: string; x0: number; x1: number; top: number; height: number }[] = [];
      bands.forEach((band, i) => {
        const x0 = Math.max(left, u.valToPos(band.start, "x", true));
        const x1 = Math.min(left + width, u.valToPos(band.end, "x", true));
        if (!(x1 > x0)) return;
        u.ctx.fillStyle = band.kind === "steady" ? steady : i % 2 ? repB : repA;
        u.ctx.fillRect(x0, band.kind === "steady" ? top : top + h * 0.5, x1 - x0, band.kind === "steady" ? h : h * 0.5);
        drawn.push({ label: band.label, kind: band.kind, x0, x1, top, height: h });
      });
      target.dataset.bands = JSON.stringify(drawn);
    };
    let drawn = false;
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: target.clientWidth || 600,
      height,
      scales: { x: { time: true } },
      series: [
        { label: "time (UTC)" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: palette[GPU_KEYS[i % GPU_KEYS.length] ?? "--g0"],
          width: 1.5,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} ${unit}`),
        })),
      ],
      axes: [axis, { ...axis, label: unit, size: 60 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        drawClear: [shade],
        draw: [
          () => {
            if (drawn) return;
            drawn = true;
            performance.mark("llem:run:chart-drawn"); // the first draw with data (benchmarks read it)
          },
        ],
      },
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    };
    const u = new uPlot(opts, [x, ...series.map((s) => s.values)], target);
    target.dataset.samples = String(series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0));
    const observer = new ResizeObserver(([entry]) => {
      const w = Math.floor(entry?.contentRect.width ?? 0);
      if (w > 0 && w !== u.width) u.setSize({ width: w, height });
    });
    observer.observe(target);
    return () => {
      observer.disconnect();
      u.destroy();
    };
  }, [x, series, bands, unit, height, palette]);

  return (
    <figure className="series">
      <figcaption>{title}</figcaption>
      <div ref={ref} className="uplot-host" role="img" aria-label={`${title} over the run, per GPU`} />
    </figure>
  );
}
