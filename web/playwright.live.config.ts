/**
 * The live suite (e2e/live.spec.ts): tests/test_web_live.py starts NATS, PostgreSQL + TimescaleDB,
 * ingest, the scheduler, a runner on the tiny model and llem-api, then runs these with
 * LLEM_API_URL, LLEM_CONTROL_URL (restart the API, stop the runner), LLEM_TOKEN and LLEM_RUNNER_ID.
 */
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

export default defineConfig({
  ...base,
  testIgnore: undefined,
  testMatch: "live.spec.ts",
  timeout: 240_000,
  expect: { timeout: 30_000 },
  outputDir: "test-results/live",
  use: { ...base.use, actionTimeout: 30_000 },
});
