/**
 * A streaming uPlot chart, as uPlot's own streaming advice has it: one instance for the life of
 * the view (kept in a ref), data read from a ring outside React state, `setData` at most once per
 * animation frame and only when the ring changed, and the user's zoom kept while data arrives
 * (drag to zoom, double-click to follow the live edge again). `data-rows` and `data-frames` on the
 * element are for tests and benchmarks.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { GPU_COLOURS, GPU_KEYS } from "../components/gpuColours";
import { usePalette } from "../components/theme";
import type { Ring } from "./ring";

const COLOURS = {
  "--ink": "#111",
  "--grid": "#ddd",
  ...GPU_COLOURS,
};

interface Props {
  ring: Ring;
  title: string;
  unit: string;
  label: (column: number) => string;
  height?: number;
}

export function LiveChart({ ring, title, unit, label, height = 160 }: Props) {
  const host = useRef<HTMLDivElement | null>(null);
  const palette = usePalette(COLOURS);
  const labelRef = useRef(label);
  labelRef.current = label;

  useEffect(() => {
    const target = host.current;
    if (!target) return undefined;
    const axis = { stroke: palette["--ink"], grid: { stroke: palette["--grid"], width: 1 }, ticks: { stroke: palette["--grid"], width: 1 } };
    const seriesFor = (i: number): uPlot.Series => ({
      label: labelRef.current(i),
      stroke: palette[GPU_KEYS[i % GPU_KEYS.length] ?? "--g0"],
      width: 1.5,
      spanGaps: false,
      value: (_u, v) => (v === null || v === undefined ? "–" : `${v.toFixed(1)} ${unit}`),
    });
    let zoomed = false;
    const u = new uPlot(
      {
        width: target.clientWidth || 600,
        height,
        scales: { x: { time: true } },
        series: [{ label: "time (UTC)" }, ...Array.from({ length: ring.columns }, (_, i) => seriesFor(i))],
        axes: [axis, { ...axis, label: unit, size: 60 }],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
        hooks: { setSelect: [(self) => void (zoomed = self.select.width > 0 || zoomed)] },
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      },
      ring.aligned(),
      target,
    );
    const follow = () => {
      zoomed = false;
      u.setData(ring.aligned(), true);
    };
    u.over.addEventListener("dblclick", follow);
    let drawn = ring.version;
    let frames = 0;
    let raf = 0;
    const frame = () => {
      raf = requestAnimationFrame(frame);
      if (ring.version === drawn) return;
      drawn = ring.version;
      while (u.series.length - 1 < ring.columns) u.addSeries(seriesFor(u.series.length - 1));
      u.setData(ring.aligned(), !zoomed);
      frames++;
      target.dataset.rows = String(ring.length);
      target.dataset.frames = String(frames);
    };
    raf = requestAnimationFrame(frame);
    target.dataset.rows = String(ring.length);
    const observer = new ResizeObserver(([entry]) => {
      const w = Math.floor(entry?.contentRect.width ?? 0);
      if (w > 0 && w !== u.width) u.setSize({ width: w, height });
    });
    observer.observe(target);
    return () => {
      cancelAnimationFrame(raf);
      observer.disconnect();
      u.over.removeEventListener("dblclick", follow);
      u.destroy();
    };
  }, [ring, unit, height, palette]);

  return (
    <figure className="series live-chart">
      <figcaption>{title}</figcaption>
      <div ref={host} className="uplot-host" role="img" aria-label={`${title}, live`} />
    </figure>
  );
}
