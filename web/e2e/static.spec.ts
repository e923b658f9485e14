import { expect, test } from "@playwright/test";
import { apiJson, bestOf, bestOnPage, noSeriousAxeViolations, siteUrl, type Leaderboard } from "./fixtures";

test.use({ baseURL: siteUrl });

test("the static site shows the same leaderboard, with nothing that needs the API", async ({ page }) => {
  const apiCalls: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/api/")) apiCalls.push(r.url());
  });
  await page.goto("./");
  await expect(page.locator("table.board tbody tr").first()).toBeVisible();
  expect(await bestOnPage(page)).toEqual(bestOf(await apiJson<Leaderboard>("/api/leaderboard")));
  await page.getByLabel("Inter-token latency deadline", { exact: true }).fill("50");
  const api = await apiJson<Leaderboard>("/api/leaderboard?max_itl_ms=50");
  await expect.poll(() => bestOnPage(page)).toEqual(bestOf(api));
  expect(page.url()).toContain("#/?max_itl_ms=50");
  await expect(page.getByRole("link", { name: "Runs" })).toHaveCount(0);
  await expect(page.locator("table.board a")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Download CSV" })).toBeVisible();
  await noSeriousAxeViolations(page, "the static leaderboard");
  // a copied link reopens the same view from the static host
  await page.goto(`./#/?max_itl_ms=50`);
  await expect.poll(() => bestOnPage(page)).toEqual(bestOf(api));
  await page.goto("./#/runs");
  await expect(page.getByText("holds the leaderboard only")).toBeVisible();
  expect(apiCalls).toEqual([]);
});
