import { describe, expect, it } from "vitest";
import { BACKEND_KINDS, PROTOCOL_FIELDS, TOP_FIELDS, WORKLOAD_FIELDS, changeKind, jobDefaults } from "./schema";

const byKey = (fields: typeof TOP_FIELDS, key: string) => fields.find((f) => f.key === key);

describe("fields from the JSON Schema", () => {
  it("knows which workload fields take a value or a list, and their defaults", () => {
    expect(byKey(WORKLOAD_FIELDS, "max_output_tokens")).toMatchObject({ shape: "grid", scalar: "integer", default: 32 });
    expect(byKey(WORKLOAD_FIELDS, "arrival")).toMatchObject({ shape: "grid", options: ["all_at_once", "poisson"] });
    expect(byKey(WORKLOAD_FIELDS, "request_rate_per_s")).toMatchObject({ shape: "grid", scalar: "number", nullable: true });
  });

  it("lists the backend kinds with their own fields", () => {
    expect(Object.keys(BACKEND_KINDS)).toEqual(["llama_cpp", "openai", "vllm"]);
    expect(byKey(BACKEND_KINDS.openai ?? [], "base_url")).toMatchObject({ shape: "single", required: true });
    expect(byKey(BACKEND_KINDS.vllm ?? [], "extra_args")).toMatchObject({ shape: "list", scalar: "string" });
    expect(byKey(BACKEND_KINDS.vllm ?? [], "mode")).toMatchObject({ shape: "single", options: ["offline", "serve"] });
  });

  it("takes the protocol's fields from the measurement protocol, every one a grid", () => {
    expect(byKey(PROTOCOL_FIELDS, "power_limit_w")).toMatchObject({ shape: "grid", scalar: "number", default: null });
    expect(PROTOCOL_FIELDS.every((f) => f.shape === "grid")).toBe(true);
    expect(jobDefaults("MeasurementProtocol").meter).toBe("auto");
  });

  it("orders fields as the models declare them", () => {
    expect(WORKLOAD_FIELDS.map((f) => f.key).slice(0, 3)).toEqual(["prompt_set", "num_requests", "max_output_tokens"]);
    expect(BACKEND_KINDS.llama_cpp?.map((f) => f.key)).toEqual(["n_ctx", "n_threads", "n_gpu_layers"]);
  });

  it("orders the spec's own fields with sentence-case titles", () => {
    expect(TOP_FIELDS.map((f) => f.title).slice(0, 2)).toEqual(["Name", "Description"]);
    expect(byKey(TOP_FIELDS, "pin_repetitions")?.title).toBe("Pin repetitions");
  });

  it("keeps the settings a new backend kind also has", () => {
    expect(changeKind({ kind: "llama_cpp", n_ctx: 256, n_threads: 1 }, "vllm")).toEqual({ kind: "vllm" });
    expect(changeKind({ kind: "vllm", max_num_seqs: 4, dtype: "auto" }, "vllm")).toEqual({ kind: "vllm", max_num_seqs: 4, dtype: "auto" });
    expect(changeKind(null, "openai")).toEqual({ kind: "openai" });
  });
});
