/**
 * Browser tests against the real stack: tests/test_web.py starts NATS, PostgreSQL + TimescaleDB,
 * ingest and llem-api serving the built app (and a static site), then runs these with
 * LLEM_API_URL, LLEM_SITE_URL and LLEM_FACTS set. Debian's Chromium: no browser download here.
 */
import { defineConfig } from "@playwright/test";

export const chromium = {
  executablePath: process.env.LLEM_CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
  ],
};

export default defineConfig({
  testDir: "e2e",
  testIgnore: "live.spec.ts", // the live suite runs against a running campaign: playwright.live.config.ts
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: process.env.LLEM_API_URL,
    launchOptions: chromium,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
});
