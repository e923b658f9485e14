import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { joulesPerToken } from "../src/format";
import {
  apiJson,
  bestOf,
  bestOnPage,
  facts,
  noSeriousAxeViolations,
  screenshot,
  type Configurations,
  type Leaderboard,
} from "./fixtures";

test("the leaderboard shows the seeded models with the API's values", async ({ page }) => {
  const api = await apiJson<Leaderboard>("/api/leaderboard");
  await page.goto("/leaderboard");
  await expect(page.locator("table.board tbody tr")).toHaveCount(api.best.length);
  expect(await bestOnPage(page)).toEqual(bestOf(api));
  for (const row of api.best) {
    const tr = page.locator(`tr[data-config="${row.config_id}"]`);
    await expect(tr.locator('[data-col="jpt"]')).toContainText(joulesPerToken(row.energy_per_output_token_j));
  }
  expect(Object.keys(bestOf(api)).sort()).toEqual(facts.models);
  await expect(page.getByText("1 completed run without measured energy is not ranked")).toBeVisible();
  await expect(page.locator("canvas[data-points]")).toHaveAttribute("data-points", String(api.points.length));
  // the README's picture: a deadline that changes a winner, two models compared
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.goto("/leaderboard?max_itl_ms=50&compare=llama-3.1-8b&compare=qwen2.5-7b");
  await expect(page.getByRole("region", { name: "Compared models" })).toBeVisible();
  await screenshot(page, "leaderboard", true);
});

test("changing the ITL deadline changes the chosen configuration exactly as GET /api/leaderboard does", async ({ page }) => {
  await page.goto("/leaderboard");
  await expect(page.locator("table.board tbody tr").first()).toBeVisible();
  const deadline = page.getByLabel("Inter-token latency deadline", { exact: true });
  const percentile = page.getByLabel("Inter-token latency percentile");
  const cases: [string, string][] = [["", "p99"], ["100", "p99"], ["50", "p99"], ["36", "p99"], ["50", "p50"], ["20", "p50"], ["5", "p99"]];
  for (const [limit, pct] of cases) {
    await percentile.selectOption(pct);
    await deadline.fill(limit);
    await expect.poll(() => new URL(page.url()).searchParams.get("max_itl_ms")).toBe(limit || null);
    const query = new URLSearchParams({ itl_percentile: pct, ...(limit ? { max_itl_ms: limit } : {}) });
    const api = await apiJson<Leaderboard>(`/api/leaderboard?${query}`);
    await expect.poll(() => bestOnPage(page), `deadline ${limit || "none"} at ${pct}`).toEqual(bestOf(api));
  }
  // the seeded case: llama's winner moves from c16 to c4 under a 50 ms p99 deadline
  const d = facts.deadline;
  await percentile.selectOption("p99");
  await deadline.fill("");
  await expect.poll(async () => (await bestOnPage(page))[d.model]).toBe(facts.configs[`${d.model}/${d.without}`]);
  await deadline.fill(String(d.max_itl_ms));
  await expect.poll(async () => (await bestOnPage(page))[d.model]).toBe(facts.configs[`${d.model}/${d.with}`]);
});

test("a URL with filters, constraints, sort and comparison reopens the same view", async ({ page }) => {
  const view = "/leaderboard?gpu=NVIDIA+A100-SXM4-80GB&max_itl_ms=70&max_power_w=390&sort=-output_tokens_per_s&compare=qwen2.5-7b&compare=mistral-7b&scale=log";
  await page.goto(view);
  await expect(page.getByLabel("GPU", { exact: true })).toHaveValue("NVIDIA A100-SXM4-80GB");
  await expect(page.getByLabel("Inter-token latency deadline", { exact: true })).toHaveValue("70");
  await expect(page.getByLabel("Power cap (average power)")).toHaveValue("390");
  await expect(page.getByLabel("log scales")).toBeChecked();
  const api = await apiJson<Leaderboard>("/api/leaderboard?gpu=NVIDIA+A100-SXM4-80GB&max_itl_ms=70&max_power_w=390");
  await expect.poll(() => bestOnPage(page)).toEqual(bestOf(api));
  await expect(page.getByRole("columnheader", { name: /Throughput/ })).toHaveAttribute("aria-sort", "descending");
  const compare = page.getByRole("region", { name: "Compared models" });
  await expect(compare.getByRole("columnheader", { name: /qwen2.5-7b/ })).toBeVisible();
  await expect(compare.getByRole("columnheader", { name: /mistral-7b/ })).toBeVisible();
  // change it in the page, reload: the URL carried the change
  await page.getByRole("button", { name: /Energy per output token/ }).click();
  await page.reload();
  await expect(page.getByRole("columnheader", { name: /Energy per output token/ })).toHaveAttribute("aria-sort", "ascending");
  await expect(page.getByLabel("GPU", { exact: true })).toHaveValue("NVIDIA A100-SXM4-80GB");
  await expect(page.getByLabel("Compare qwen2.5-7b")).toBeChecked();
});

test("a point of the chart opens its run, by keyboard and by mouse", async ({ page }) => {
  const configs = await apiJson<Configurations>("/api/configurations");
  const target = configs.configurations.find((c) => c.config_id === facts.configs["llama-3.1-8b/c4"]);
  expect(target).toBeDefined();
  await page.goto("/leaderboard");
  const chart = page.getByRole("application", { name: /Time-energy chart/ });
  await chart.focus();
  const focusText = page.locator("#pareto-focus");
  const wanted = joulesPerToken(target?.energy_per_output_token_j);
  for (let i = 0; i < 20 && !((await focusText.textContent()) ?? "").includes(wanted); i += 1) await chart.press("ArrowRight");
  await expect(focusText).toContainText("llama-3.1-8b");
  await expect(focusText).toContainText(wanted);
  const x = Number(await chart.getAttribute("data-active-x"));
  const y = Number(await chart.getAttribute("data-active-y"));
  await chart.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/runs/(${target?.run_ids.join("|")})$`));
  await page.goBack();
  const box = await page.getByRole("application", { name: /Time-energy chart/ }).boundingBox();
  expect(box).not.toBeNull();
  await page.mouse.click((box?.x ?? 0) + x, (box?.y ?? 0) + y);
  await expect(page).toHaveURL(new RegExp(`/runs/(${target?.run_ids.join("|")})$`));
});

test("CSV and JSON downloads hold the rows that are shown", async ({ page }) => {
  await page.goto("/leaderboard?max_itl_ms=50");
  const api = await apiJson<Leaderboard>("/api/leaderboard?max_itl_ms=50");
  await expect.poll(() => bestOnPage(page)).toEqual(bestOf(api));
  const [csvDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  const lines = readFileSync((await csvDownload.path()) ?? "", "utf8").trim().split("\n");
  const header = (lines[0] ?? "").split(",");
  expect(header.slice(0, 4)).toEqual(["model", "task", "config_id", "energy_per_output_token_j"]);
  expect(lines).toHaveLength(1 + api.best.length);
  const fromCsv = Object.fromEntries(lines.slice(1).map((l) => l.split(",")).map((c) => [c[0], [c[2], Number(c[3])]]));
  expect(fromCsv).toEqual(Object.fromEntries(api.best.map((r) => [r.model, [r.config_id, r.energy_per_output_token_j]])));
  const [jsonDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download JSON" }).click()]);
  const doc = JSON.parse(readFileSync((await jsonDownload.path()) ?? "", "utf8")) as { view: Record<string, string>; rows: { config_id: string }[] };
  expect(doc.view).toEqual({ max_itl_ms: "50" });
  expect(doc.rows.map((r) => r.config_id).sort()).toEqual(api.best.map((r) => r.config_id).sort());
});

test("a quality badge says what it means on keyboard focus", async ({ page }) => {
  await page.goto("/leaderboard");
  const badge = page.locator(`tr[data-config="${facts.configs["mistral-7b/m8"]}"]`).getByRole("button", { name: "throttled" });
  await badge.focus();
  await expect(page.getByRole("tooltip").filter({ hasText: "lowered its clocks" })).toBeVisible();
});

test("no serious accessibility violation, light and dark, and it fits a phone", async ({ page }) => {
  await page.goto("/leaderboard?compare=qwen2.5-7b&compare=mistral-7b");
  await expect(page.locator("table.board tbody tr").first()).toBeVisible();
  await noSeriousAxeViolations(page, "the leaderboard, light");
  await page.emulateMedia({ colorScheme: "dark" });
  await noSeriousAxeViolations(page, "the leaderboard, dark");
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.locator("table.board tbody tr").first()).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, "the page itself never scrolls sideways; tables scroll in their box").toBeLessThanOrEqual(0);
  await noSeriousAxeViolations(page, "the leaderboard on a phone, dark");
});
