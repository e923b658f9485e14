import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { facts, noSeriousAxeViolations, screenshot } from "./fixtures";

interface Drawn {
  label: string;
  kind: string;
  x0: number;
  x1: number;
  top: number;
  height: number;
}

test("the run page draws every sample and shades the steady-state window", async ({ page }) => {
  await page.goto(`/runs/${facts.showcase_run_id}`);
  const charts = page.locator(".uplot-host[data-samples]");
  await expect(charts).toHaveCount(3); // power, temperature, SM clock
  for (const chart of await charts.all()) {
    await expect(chart).toHaveAttribute("data-samples", String(facts.showcase_samples));
  }
  const power = charts.first();
  await expect(power).toHaveAttribute("data-bands", /steady state/);
  const bands = JSON.parse((await power.getAttribute("data-bands")) ?? "[]") as Drawn[];
  expect(bands.map((b) => b.label).sort()).toEqual(["repetition 1", "repetition 2", "steady state"]);
  const steady = bands.find((b) => b.kind === "steady");
  expect(steady && steady.x1 - steady.x0).toBeGreaterThan(50);
  // the shading is on the canvas: inside the band (top edge, where no line runs) differs from outside
  const [inside, outside] = await power.locator("canvas").evaluate((canvas: HTMLCanvasElement, band: Drawn) => {
    const ctx = canvas.getContext("2d");
    const y = Math.round(band.top + 2);
    const px = (x: number) => Array.from(ctx?.getImageData(Math.round(x), y, 1, 1).data ?? []);
    return [px((band.x0 + band.x1) / 2), px(band.x0 - 8)];
  }, steady as Drawn);
  expect(inside).not.toEqual(outside);
  await expect(page.getByText("steady state", { exact: true })).toBeVisible();
  await page.setViewportSize({ width: 1440, height: 1100 });
  await screenshot(page, "run");
});

test("the run page shows distributions, how it was measured, and what ran on what", async ({ page }) => {
  await page.goto(`/runs/${facts.showcase_run_id}`);
  await expect(page.locator("figure.histogram")).toHaveCount(4);
  for (const title of ["Time to first token", "Inter-token latency (mean per request)", "End to end", "Energy per request"]) {
    await expect(page.locator("figure.histogram", { hasText: title }).getByText(/64 requests: p50/)).toBeVisible();
  }
  const measured = page.getByRole("region", { name: "How it was measured" });
  await expect(measured.getByText("nvml")).toBeVisible();
  await expect(measured.getByText("100 ms (10 Hz requested)")).toBeVisible();
  await expect(measured.getByText("9.8 Hz")).toBeVisible();
  await expect(page.getByRole("table", { name: "GPUs" }).getByRole("row")).toHaveCount(3);
  await expect(page.getByText("[0.300, 0.500] J/token 95% CI, n=2")).toBeVisible();
  await expect(page.getByRole("table", { name: "Repetitions" }).getByRole("row")).toHaveCount(3);
  await noSeriousAxeViolations(page, "the run page");
});

test("raw CSV downloads hold every sample and request", async ({ page }) => {
  await page.goto(`/runs/${facts.showcase_run_id}`);
  const [samples] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "samples.csv" }).click()]);
  const lines = readFileSync((await samples.path()) ?? "", "utf8").trim().split("\n");
  expect(lines[0]).toMatch(/^sampled_at,gpu_index,meter,power_w/);
  expect(lines).toHaveLength(1 + facts.showcase_samples);
  const [requests] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "requests.csv" }).click()]);
  expect(readFileSync((await requests.path()) ?? "", "utf8").trim().split("\n")).toHaveLength(1 + 64);
});

test("every quality flag of a run is explained in words", async ({ page, request }) => {
  const throttled = (await (await request.get(`/api/configurations`)).json()) as { configurations: { config_id: string; run_ids: string[] }[] };
  const mistral = throttled.configurations.find((c) => c.config_id === facts.configs["mistral-7b/m8"]);
  await page.goto(`/runs/${mistral?.run_ids[0]}`);
  const flag = page.locator('li[data-flag="throttled"]');
  await expect(flag).toContainText("The GPU lowered its clocks during the window");
  await expect(flag).toContainText("This run: power cap for 12% of the window (value 0.120)");
  await page.goto(`/runs/${facts.unmetered_run_id}`);
  await expect(page.locator('li[data-flag="no_energy_meter"]')).toContainText("never estimates it");
  await expect(page.locator(".figure", { hasText: "Energy per output token" })).toContainText("not measured");
});
