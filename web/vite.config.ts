/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `base: "./"`: asset URLs relative to the page. Served by the API, index.html carries
// <base href="/"> so that deep routes (/runs/<id>) still load /assets/...; the static site
// written by `llem export --format site` drops it and works from any folder of any host.
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: { target: "es2022", chunkSizeWarningLimit: 800 },
  server: {
    // `npm run dev`: the API of a running local stack (`llem stack env` prints its port)
    proxy: { "/api": process.env.LLEM_API_URL ?? "http://127.0.0.1:8000" },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
