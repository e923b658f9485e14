/**
 * The browser side of make bench-web's live-page benchmarks. bench/bench_web.py publishes the events
 * (synthetic load) once this side writes `<name>.ready` into LLEM_BENCH_LIVE_DIR, and writes
 * `<name>.done` when it has published the last; the raw measurements go to `<name>.json` there and
 * are summarised by bench_web.py (which holds the publish times).
 *
 * - streaming: frame times (requestAnimationFrame deltas), long tasks and the JS heap after a forced
 *   GC, on a campaign page showing one running run of 8 GPUs at 10 Hz;
 * - jobs: a MutationObserver on the jobs table records when each row's revision reached the DOM.
 */
import { expect, test, type CDPSession, type Page } from "@playwright/test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "../playwright.config";

const DIR = process.env.LLEM_BENCH_LIVE_DIR ?? "";
const STREAM_CAMPAIGN = process.env.LLEM_BENCH_STREAM_CAMPAIGN ?? "";
const JOBS_CAMPAIGN = process.env.LLEM_BENCH_JOBS_CAMPAIGN ?? "";
const STREAM_S = Number(process.env.LLEM_BENCH_STREAM_S ?? "300");
const JOBS = Number(process.env.LLEM_BENCH_JOBS ?? "1000");
/** when set (bench_web.py --profile DIR), a CDP CPU profile of each page goes there: <name>.cpuprofile */
const PROFILE_DIR = process.env.LLEM_BENCH_PROFILE_DIR ?? "";
/** the heap mark: after the first minute (or half-way through a shorter run, when iterating) */
const MARK_S = STREAM_S > 90 ? 60 : STREAM_S / 2;

// precise performance.memory (without it Chromium rounds the figures and refreshes them rarely)
test.use({ launchOptions: { ...chromium, args: [...chromium.args, "--enable-precise-memory-info"] } });
test.describe.configure({ mode: "serial" });

interface Recorder {
  frames: Float64Array; // (rAF timestamp, delta since the previous rAF) pairs
  n: number;
  longtasks: [number, number][]; // (startTime, duration)
}

declare global {
  interface Window {
    __bench: Recorder;
    __dom: [string, number, number][];
  }
}

/** Installed before the app's own scripts: a rAF loop and a long-task observer, both preallocated or tiny. */
function recorder(capacity: number): void {
  const b: Recorder = { frames: new Float64Array(capacity * 2), n: 0, longtasks: [] };
  window.__bench = b;
  let last = -1;
  const loop = (t: number) => {
    if (last >= 0 && b.n + 2 <= b.frames.length) {
      b.frames[b.n] = t;
      b.frames[b.n + 1] = t - last;
      b.n += 2;
    }
    last = t;
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
}

const signal = (name: string, body = "{}") => writeFileSync(join(DIR, name), body);

async function waitFile(name: string, timeoutMs: number): Promise<string> {
  const path = join(DIR, name);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`bench_web.py never wrote ${name}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return readFileSync(path, "utf8");
}

async function startProfile(cdp: CDPSession): Promise<void> {
  if (!PROFILE_DIR) return;
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
  await cdp.send("Profiler.start");
}

async function stopProfile(cdp: CDPSession, name: string): Promise<void> {
  if (!PROFILE_DIR) return;
  const { profile } = await cdp.send("Profiler.stop");
  writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
}

/** Chromium's main-thread counters (CDP Performance.getMetrics): seconds in tasks, script, style and layout. */
const METRICS = ["TaskDuration", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "LayoutCount", "RecalcStyleCount"];

async function mainThread(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(metrics.filter((m) => METRICS.includes(m.name)).map((m) => [m.name, m.value]));
}

const since = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Math.round((v - (a[k] ?? 0)) * 1000) / 1000]));

const now = (page: Page) => page.evaluate(() => performance.now());

/** A forced full GC, then the heap: performance.memory and V8's own figure (CDP). */
async function heap(page: Page, cdp: CDPSession): Promise<{ used: number; cdp: number }> {
  await cdp.send("HeapProfiler.collectGarbage");
  const used = await page.evaluate(() => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize);
  const usage = await cdp.send("Runtime.getHeapUsage");
  return { used, cdp: usage.usedSize };
}

const charts = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>(".running-run .uplot-host")].map((el) => ({
      chart: el.getAttribute("aria-label") ?? "",
      rows: Number(el.dataset.rows ?? 0),
      frames: Number(el.dataset.frames ?? 0),
    })),
  );
const samples = (page: Page) => page.evaluate(() => Number(document.querySelector(".running-run")?.getAttribute("data-samples") ?? 0));

const recorded = (page: Page) =>
  page.evaluate(() => ({ frames: Array.from(window.__bench.frames.subarray(0, window.__bench.n)), longtasks: window.__bench.longtasks }));

test("streaming: one run of 8 GPUs at 10 Hz", async ({ browser }) => {
  test.setTimeout((STREAM_S + 240) * 1000);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(recorder, Math.ceil((STREAM_S + 180) * 75));
  await page.goto(`/campaigns/${STREAM_CAMPAIGN}`);
  await expect(page.locator("h1")).toContainText("bench-web live stream");
  await page.locator("table.jobs").waitFor();
  const cdp = await context.newCDPSession(page);
  await startProfile(cdp);
  signal("stream.ready");
  await page.waitForFunction(() => Number(document.querySelector(".running-run")?.getAttribute("data-samples") ?? 0) > 0, null, { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelectorAll(".running-run .uplot-host[data-frames]").length >= 3, null, { timeout: 30_000 });
  const start = await heap(page, cdp);
  await cdp.send("Performance.enable");
  const threadStart = await mainThread(cdp);
  const startMs = await now(page);
  await page.waitForTimeout(Math.max(0, MARK_S * 1000 - ((await now(page)) - startMs)));
  const gcFrom = await now(page);
  const mark = await heap(page, cdp);
  const gcTo = await now(page);
  const chartsMid = await charts(page);
  const published = JSON.parse(await waitFile("stream.done", (STREAM_S + 120) * 1000)) as { samples: number };
  // the last batch drawn (or a few seconds' grace)
  await page
    .waitForFunction((n) => Number(document.querySelector(".running-run")?.getAttribute("data-samples") ?? 0) >= n, published.samples, { timeout: 10_000 })
    .catch(() => undefined);
  await page.waitForTimeout(500); // the charts' next frame
  const endMs = await now(page);
  const threadEnd = await mainThread(cdp);
  const chartsEnd = await charts(page);
  const samplesEnd = await samples(page);
  const end = await heap(page, cdp);
  await stopProfile(cdp, "stream");
  const rec = await recorded(page);
  writeFileSync(
    join(DIR, "stream.json"),
    JSON.stringify({
      start_ms: startMs,
      end_ms: endMs,
      gc_window_ms: [gcFrom, gcTo],
      heap_mark_s: Math.round((gcFrom - startMs) / 100) / 10,
      heap_bytes: { start: start.used, mark: mark.used, end: end.used },
      cdp_heap_bytes: { start: start.cdp, mark: mark.cdp, end: end.cdp },
      charts: { mid: chartsMid, end: chartsEnd },
      samples: { end: samplesEnd },
      main_thread: since(threadStart, threadEnd),
      ...rec,
    }),
  );
  await context.close();
});

test("job table: 1,000 jobs, job.status at 50 events/s", async ({ browser }) => {
  test.setTimeout(600_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(recorder, 200 * 75);
  await page.goto(`/campaigns/${JOBS_CAMPAIGN}`);
  await expect(page.locator("h1")).toContainText("bench-web job table");
  await expect(page.getByTestId("count-total")).toHaveText(`total ${JOBS}`); // the snapshot is in
  if (process.env.LLEM_BENCH_CSS) await page.addStyleTag({ content: process.env.LLEM_BENCH_CSS });
  await page.evaluate(() => {
    const tbody = document.querySelector("table.jobs tbody");
    if (!tbody) throw new Error("no jobs table");
    const dom: [string, number, number][] = [];
    window.__dom = dom;
    const seen = (el: Element, at: number) => {
      if (!(el instanceof HTMLTableRowElement) || !el.dataset.job) return;
      dom.push([el.dataset.job, Number(el.dataset.revision), at]);
    };
    new MutationObserver((records) => {
      const at = Date.now();
      for (const r of records) for (const n of r.addedNodes) seen(n as Element, at);
    }).observe(tbody, { childList: true });
    new MutationObserver((records) => {
      const at = Date.now();
      for (const r of records) seen(r.target as Element, at);
    }).observe(tbody, { attributes: true, subtree: true, attributeFilter: ["data-revision", "data-status"] });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const threadStart = await mainThread(cdp);
  await startProfile(cdp);
  const readyMs = await now(page);
  signal("jobs.ready");
  await waitFile("jobs.done", 300_000);
  await page
    .waitForFunction((n) => document.querySelectorAll('table.jobs tr[data-job][data-revision="3"]').length >= n, JOBS, { timeout: 30_000 })
    .catch(() => undefined);
  await page.waitForTimeout(500);
  const threadEnd = await mainThread(cdp);
  const endMs = await now(page);
  await stopProfile(cdp, "jobs");
  const rows = await page.locator("table.jobs tr[data-job]").count();
  const dom = await page.evaluate(() => window.__dom);
  const rec = await recorded(page);
  writeFileSync(join(DIR, "jobs.json"), JSON.stringify({ dom, rows_at_end: rows, window_ms: [readyMs, endMs], main_thread: since(threadStart, threadEnd), ...rec }));
  await context.close();
});
