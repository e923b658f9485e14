import { describe, expect, it } from "vitest";
import { DEFAULT_VIEW, apiQuery, parseView, serializeView, type BoardView } from "./urlState";

describe("URL state", () => {
  it("round-trips every part of a view", () => {
    const view: BoardView = {
      filters: { task: "chat & code", gpu: "NVIDIA H100 80GB HBM3", backend: "vllm", precision: null, pool: "h100" },
      constraints: { maxItlMs: 42.5, itlPercentile: "p90", maxTtftMs: 300, ttftPercentile: "p50", maxPowerW: 700 },
      sort: "output_tokens_per_s",
      descending: true,
      compare: ["org/model-a", "model b, with a comma"],
      logScale: true,
      allRows: true,
    };
    const params = serializeView(view);
    expect(parseView(new URLSearchParams(params.toString()))).toEqual({ view, ignored: [] });
  });

  it("leaves defaults out of the URL", () => {
    expect(serializeView(DEFAULT_VIEW).toString()).toBe("");
    expect(parseView(new URLSearchParams(""))).toEqual({ view: DEFAULT_VIEW, ignored: [] });
  });

  it("ignores what it cannot read, and says so", () => {
    const { view, ignored } = parseView(new URLSearchParams("max_itl_ms=-3&itl_percentile=p42&sort=password&max_power_w=abc"));
    expect(view).toEqual(DEFAULT_VIEW);
    expect(ignored).toHaveLength(4);
  });

  it("keeps at most four compared models", () => {
    const { view, ignored } = parseView(new URLSearchParams("compare=a&compare=b&compare=c&compare=d&compare=e"));
    expect(view.compare).toEqual(["a", "b", "c", "d"]);
    expect(ignored).toHaveLength(1);
  });

  it("names the API's parameters for the same leaderboard", () => {
    const { view } = parseView(new URLSearchParams("max_itl_ms=50&itl_percentile=p50&gpu=A&sort=-runs&compare=x"));
    expect(apiQuery(view).toString()).toBe("gpu=A&max_itl_ms=50&itl_percentile=p50");
  });
});
