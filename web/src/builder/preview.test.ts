import { describe, expect, it } from "vitest";
import { describeDropped, jobsText, settingsOf, varyingKeys, whereOf, type Combination } from "./preview";

const base = {
  pool: "default",
  model_name: "tiny-random",
  backend: { kind: "llama_cpp", model_path: "tiny-random.gguf", n_ctx: 256, n_threads: 1, n_gpu_layers: 0, seed: 0 },
  workload: { prompt_set: "builtin:short", num_requests: 4, max_output_tokens: 8, concurrency: 1, seed: 1 },
  protocol: { meter: "auto", warmup_requests: 1 },
};
const other: Combination = { ...base, workload: { ...base.workload, max_output_tokens: 300 } };

describe("preview", () => {
  it("finds the settings that vary across the combinations", () => {
    expect([...varyingKeys([base, other])]).toEqual(["workload.max_output_tokens"]);
    expect(varyingKeys([base]).size).toBe(0);
  });

  it("shows varying settings first, then those away from the schema's defaults", () => {
    const varying = varyingKeys([base, other]);
    const workload = settingsOf(base, "workload", varying);
    expect(workload[0]).toEqual({ key: "max_output_tokens", value: "8", varies: true });
    expect(workload.map((s) => s.key)).toEqual(["max_output_tokens", "num_requests", "seed"]);
    expect(settingsOf(base, "backend", varying).map((s) => s.key)).toEqual(["model_path", "n_ctx", "n_threads"]);
    expect(settingsOf(base, "protocol", varying)).toEqual([]);
  });

  it("describes a pruned combination by where it runs and what tells it apart", () => {
    const varying = varyingKeys([base, other]);
    expect(whereOf(base)).toBe("default / tiny-random / llama_cpp");
    expect(describeDropped({ config: other as Record<string, unknown>, reason: "too long" }, varying)).toBe(
      "default / tiny-random / llama_cpp · max_output_tokens 300",
    );
  });

  it("counts jobs in words", () => {
    expect(jobsText(1)).toBe("1 job");
    expect(jobsText(12)).toBe("12 jobs");
  });
});
