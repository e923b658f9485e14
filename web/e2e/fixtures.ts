/** What the browser tests share: the seeded facts, the API's own answers, axe, screenshots. */
import { expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import type { components } from "../src/api/schema";

export type Leaderboard = components["schemas"]["Leaderboard"];
export type Configurations = components["schemas"]["Configurations"];

export interface Facts {
  campaign_id: string;
  showcase_run_id: string;
  showcase_samples: number;
  unmetered_run_id: string;
  models: string[];
  configs: Record<string, string>;
  deadline: { max_itl_ms: number; model: string; without: string; with: string };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through tests/test_web.py (make test)`);
  return value;
}

export const facts: Facts = JSON.parse(readFileSync(required("LLEM_FACTS"), "utf8")) as Facts;
export const apiUrl = required("LLEM_API_URL");
export const siteUrl = required("LLEM_SITE_URL");

export async function apiJson<T>(path: string): Promise<T> {
  const response = await fetch(new URL(path, apiUrl));
  expect(response.status, `${path} answered`).toBe(200);
  return (await response.json()) as T;
}

/** model -> config id of the best rows, from the API or from the page's table. */
export function bestOf(board: Leaderboard): Record<string, string> {
  return Object.fromEntries(board.best.map((r) => [r.model, r.config_id]));
}

export async function bestOnPage(page: Page): Promise<Record<string, string>> {
  const rows = page.locator("table.board tbody tr");
  const out: Record<string, string> = {};
  for (const row of await rows.all()) {
    const model = (await row.locator(".model-name").textContent()) ?? "";
    out[model] = (await row.getAttribute("data-config")) ?? "";
  }
  return out;
}

export { noSeriousAxeViolations, screenshot } from "./checks";
