/**
 * The browser side of make bench-web: timings from the Performance API inside Chromium, written to
 * LLEM_BENCH_OUT for bench/bench_web.py. Each first render is a fresh context (cold HTTP cache).
 */
import { expect, test, type Page } from "@playwright/test";
import { writeFileSync } from "node:fs";

const RENDERS = 5;
const CHANGES = 20;
const RUN_PAGES = 5;

interface Stats {
  n: number;
  min: number;
  median: number;
  p90: number;
  max: number;
}

function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))] ?? NaN;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: s.length, min: r(s[0] ?? NaN), median: r(at(0.5)), p90: r(at(0.9)), max: r(s.at(-1) ?? NaN) };
}

async function markTime(page: Page, name: string, count = 1): Promise<number> {
  await page.waitForFunction(([n, c]) => performance.getEntriesByName(n as string).length >= (c as number), [name, count], {
    timeout: 120_000,
  });
  return page.evaluate(([n, c]) => performance.getEntriesByName(n as string)[(c as number) - 1]?.startTime ?? NaN, [name, count]);
}

async function transferred(page: Page): Promise<{ transfer_bytes: number; decoded_bytes: number; configurations: Record<string, number> }> {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation") as PerformanceResourceTiming[];
    const resources = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
    const all = [...nav, ...resources];
    const configs = resources.find((r) => r.name.includes("/api/configurations"));
    return {
      transfer_bytes: all.reduce((n, r) => n + r.transferSize, 0),
      decoded_bytes: all.reduce((n, r) => n + r.decodedBodySize, 0),
      configurations: {
        transfer_bytes: configs?.transferSize ?? NaN,
        encoded_bytes: configs?.encodedBodySize ?? NaN,
        decoded_bytes: configs?.decodedBodySize ?? NaN,
        response_ms: configs ? configs.responseEnd - configs.requestStart : NaN,
      },
    };
  });
}

/** From an input event to the next frame after React committed (body[data-board-version] moved). */
async function timeChange(page: Page, action: "deadline" | "sort", value: string): Promise<number> {
  return page.evaluate(
    async ([kind, v]) => {
      const body = document.body;
      const before = body.dataset.boardVersion;
      const changed = new Promise<void>((resolve) => {
        const observer = new MutationObserver(() => {
          if (body.dataset.boardVersion !== before) {
            observer.disconnect();
            resolve();
          }
        });
        observer.observe(body, { attributes: true, attributeFilter: ["data-board-version"] });
      });
      const t0 = performance.now();
      if (kind === "deadline") {
        const input = document.querySelector<HTMLInputElement>('.constraints input[type="number"]');
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set;
        setter?.call(input, v);
        input?.dispatchEvent(new Event("input", { bubbles: true }));
      } else {
        const button = [...document.querySelectorAll<HTMLButtonElement>("button.sort")].find((b) => b.textContent?.startsWith(v as string));
        button?.click();
      }
      await changed;
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return performance.now() - t0;
    },
    [action, value],
  );
}

test("leaderboard and run page timings", async ({ browser }) => {
  const firstRender: number[] = [];
  let bytes: Awaited<ReturnType<typeof transferred>> | null = null;
  let shown = { best: 0, points: 0 };
  for (let i = 0; i < RENDERS; i += 1) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto("/leaderboard");
    firstRender.push(await markTime(page, "llem:leaderboard:rendered"));
    if (i === 0) {
      bytes = await transferred(page);
      shown = {
        best: await page.locator("table.board tbody tr").count(),
        points: Number(await page.locator("canvas[data-points]").getAttribute("data-points")),
      };
    }
    await context.close();
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto("/leaderboard");
  await markTime(page, "llem:leaderboard:rendered");
  const constraint: number[] = [];
  const deadlines = ["400", "200", "120", "80", "60", "40", "30", "25", "20", "15"];
  for (let i = 0; i < CHANGES; i += 1) constraint.push(await timeChange(page, "deadline", deadlines[i % deadlines.length] ?? "50"));
  const sort: number[] = [];
  const headers = ["Throughput", "Average power", "Energy per output token", "ITL", "Model"];
  for (let i = 0; i < CHANGES; i += 1) sort.push(await timeChange(page, "sort", headers[i % headers.length] ?? "Model"));
  // the same change with every one of the 200 models' rows in the table (?rows=all): reported, no goal
  await page.goto("/leaderboard?rows=all");
  await markTime(page, "llem:leaderboard:rendered");
  const allRows: number[] = [];
  for (let i = 0; i < CHANGES; i += 1) allRows.push(await timeChange(page, "deadline", deadlines[i % deadlines.length] ?? "50"));
  await context.close();

  const runId = process.env.LLEM_BENCH_RUN;
  const runDraw: number[] = [];
  let runBytes = NaN;
  let points = 0;
  for (let i = 0; i < RUN_PAGES; i += 1) {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(`/runs/${runId}`);
    runDraw.push(await markTime(p, "llem:run:chart-drawn", 3));
    if (i === 0) {
      runBytes = await p.evaluate(() =>
        (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).filter((r) => r.name.includes("/timeseries")).reduce((n, r) => n + r.transferSize, 0),
      );
      points = Number(await p.locator(".uplot-host[data-samples]").first().getAttribute("data-samples"));
    }
    await ctx.close();
  }
  expect(shown.points).toBe(5000);
  writeFileSync(
    process.env.LLEM_BENCH_OUT ?? "web-bench.json",
    JSON.stringify(
      {
        leaderboard: {
          configurations_drawn: shown.points,
          models_ranked: shown.best,
          first_render_ms: stats(firstRender),
          constraint_change_ms: stats(constraint),
          sort_ms: stats(sort),
          table_rows: 50,
          constraint_change_all_rows_ms: stats(allRows),
          ...bytes,
        },
        run_page: {
          gpus: 8,
          samples: 144_000,
          points_per_chart: points,
          timeseries_transfer_bytes: runBytes,
          draw_ms: stats(runDraw),
        },
      },
      null,
      2,
    ),
  );
});
