/**
 * Where the app runs. "api": served by llem-api, every page live. "static": written by
 * `llem export --format site` for any static host: the leaderboard only, from data/*.json, with hash
 * routes (a static host has no fallback for client-side paths) and nothing that needs the API.
 */
export type SiteMode = "api" | "static";

export function siteMode(doc: Document = document): SiteMode {
  const content = doc.querySelector('meta[name="llem-mode"]')?.getAttribute("content");
  return content === "static" ? "static" : "api";
}

export const MODE: SiteMode = siteMode();

/** Where the leaderboard lives: the home page of a static copy; beside the overview when served by the API. */
export const BOARD_PATH = MODE === "static" ? "/" : "/leaderboard";

/** The URL of an exported data file, relative to the page (works in any folder of any host). */
export function dataUrl(file: string): string {
  return new URL(`data/${file}`, document.baseURI).toString();
}
