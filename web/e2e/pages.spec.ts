import { expect, test } from "@playwright/test";
import { facts, noSeriousAxeViolations } from "./fixtures";

test("the runs list pages and filters as the API does", async ({ page }) => {
  await page.goto("/runs");
  const rows = page.getByRole("region", { name: "Runs" }).locator("tbody tr");
  await expect(rows).toHaveCount(8); // 7 measured runs and the unmetered one
  await expect(page.getByText("1–8 of 8 runs")).toBeVisible();
  await page.getByLabel("Model").fill("qwen2.5-7b");
  await expect(rows).toHaveCount(2);
  await expect(page).toHaveURL(/model=qwen2.5-7b/);
  await page.getByLabel("Order").selectOption("energy_per_output_token_j");
  await expect(rows.first()).toContainText("0.310 J/token");
  await noSeriousAxeViolations(page, "the runs list");
  await rows.first().getByRole("link").click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("qwen2.5-7b");
});

test("the campaigns list shows progress and links to the campaign's runs", async ({ page }) => {
  await page.goto("/campaigns");
  const row = page.getByRole("row", { name: /web-browser-tests/ });
  await expect(row).toContainText("finished");
  await expect(row).toContainText("9 completed");
  await noSeriousAxeViolations(page, "the campaigns list");
  await row.getByRole("link", { name: "its runs" }).click();
  await expect(page).toHaveURL(new RegExp(`campaign_id=${facts.campaign_id}`));
});

test("an unknown run and an unknown page say they are not found", async ({ page }) => {
  await page.goto("/runs/00000000-0000-4000-8000-000000000000");
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(page.getByText("no run 00000000-0000-4000-8000-000000000000")).toBeVisible();
  await page.goto("/runs/not-a-uuid");
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  await page.goto("/nowhere");
  await expect(page.getByText("There is no page at /nowhere.")).toBeVisible();
  await noSeriousAxeViolations(page, "the not-found page");
});

test("the API being down shows a clear message, retries, and recovers", async ({ page }) => {
  await page.route("**/api/**", (route) => route.fulfill({ status: 503, contentType: "text/plain", body: "upstream down" }));
  await page.goto("/leaderboard");
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("The llem API did not answer");
  await expect(alert).toContainText("Retrying automatically");
  await page.unroute("**/api/**");
  await expect(page.locator("table.board tbody tr").first()).toBeVisible({ timeout: 30_000 });
  await expect(alert).toHaveCount(0);
  // a network failure (no answer at all) on a run page: same message, and "Retry now" works
  await page.route("**/api/runs/**", (route) => route.abort("connectionrefused"));
  await page.goto(`/runs/${facts.showcase_run_id}`);
  await expect(page.getByRole("alert")).toContainText("did not answer");
  await page.unroute("**/api/runs/**");
  await page.getByRole("button", { name: "Retry now" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("llama-3.1-8b");
});

test("the overview shows the top of the leaderboard and links on; part 1's leaderboard links still open it", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Energy of LLM inference");
  const top = page.getByTestId("top-board");
  await expect(top.locator("li")).toHaveCount(Math.min(5, facts.models.length));
  await expect(page.getByTestId("runners-online")).toContainText("online");
  await expect(page.getByRole("link", { name: "The whole leaderboard" })).toHaveAttribute("href", "/leaderboard");
  await noSeriousAxeViolations(page, "the overview");
  await page.goto("/?max_itl_ms=50");
  await expect(page).toHaveURL(/\/leaderboard\?max_itl_ms=50$/);
  await expect(page.getByLabel("Inter-token latency deadline", { exact: true })).toHaveValue("50");
});
