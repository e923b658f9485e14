/** make bench-web: bench/bench_web.py seeds the data, starts llem-api and runs these (one file per run). */
import { defineConfig } from "@playwright/test";
import { chromium } from "../playwright.config";

export default defineConfig({
  testDir: ".",
  testMatch: ["web.bench.ts", "live.bench.ts"],
  timeout: 600_000,
  workers: 1,
  reporter: [["list"]],
  outputDir: "../test-results/bench",
  use: { baseURL: process.env.LLEM_API_URL, launchOptions: chromium, viewport: { width: 1440, height: 1000 } },
});
