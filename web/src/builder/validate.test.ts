import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "./defaults";
import { update, type Json, type JsonObject, type Path } from "./json";
import { errorsAt, validateSpec } from "./validate";

function withValue(path: Path, value: Json | undefined, spec: JsonObject = DEFAULT_SPEC): JsonObject {
  return update(spec, path, value);
}

function paths(spec: JsonObject): string[] {
  return validateSpec(spec).map((e) => e.path);
}

describe("validation", () => {
  it("passes the default spec", () => {
    expect(validateSpec(DEFAULT_SPEC)).toEqual([]);
  });

  it("names the field of a wrong value by its dotted path, once", () => {
    const errors = validateSpec(withValue(["backends", 0, "n_ctx"], "big"));
    expect(errors).toEqual([{ path: "backends.0.n_ctx", message: "must be an integer or a list of them" }]);
    expect(errorsAt(errors, ["backends", 0, "n_ctx"])).toHaveLength(1);
    expect(errorsAt(errors, ["backends", 0])).toHaveLength(0);
    expect(errorsAt(errors, ["backends", 0], false)).toHaveLength(1);
  });

  it("names the value of a list that is wrong, and an empty list", () => {
    expect(validateSpec(withValue(["workload", "max_output_tokens"], [8, "x"]))).toEqual([
      { path: "workload.max_output_tokens.1", message: "must be an integer" },
    ]);
    expect(paths(withValue(["workload", "max_output_tokens"], []))).toEqual(["workload.max_output_tokens"]);
  });

  it("checks a backend against its own kind only", () => {
    const openai = withValue(["backends", 0], { kind: "openai" });
    expect(validateSpec(openai)).toEqual([{ path: "backends.0.base_url", message: "is required" }]);
    expect(paths(withValue(["backends", 0], { kind: "llama_cpp", base_url: "x" }))).toEqual(["backends.0.base_url"]);
    expect(validateSpec(withValue(["backends", 0], { kind: "tgi" }))).toEqual([
      { path: "backends.0.kind", message: "must be one of llama_cpp, openai, vllm" },
    ]);
    expect(validateSpec(withValue(["backends", 0], { n_ctx: 1 }))).toEqual([{ path: "backends.0.kind", message: "is required" }]);
  });

  it("checks the protocol against the measurement protocol, each field a value or a list", () => {
    expect(validateSpec(withValue(["protocol", "power_limit_w"], [200, 250]))).toEqual([]);
    expect(validateSpec(withValue(["protocol", "power_limit_w"], [0]))).toEqual([
      { path: "protocol.power_limit_w.0", message: "must be > 0" },
    ]);
    expect(paths(withValue(["protocol", "meter"], "watts"))).toEqual(["protocol.meter"]);
    expect(paths(withValue(["protocol", "metre"], "auto"))).toEqual(["protocol.metre"]);
  });

  it("names required and unknown top-level fields, and the checks pydantic makes in code", () => {
    const { name: _name, ...noName } = DEFAULT_SPEC;
    expect(paths({ ...noName, colour: "red" }).sort()).toEqual(["colour", "name"]);
    expect(paths(withValue(["pools"], []))).toEqual(["pools"]);
    const twice = withValue(["pools", 1], { name: "default" });
    expect(validateSpec(twice)).toEqual([{ path: "pools.1.name", message: "pool names must be unique: “default” is used twice" }]);
    expect(paths(withValue(["models", 0], { name: "m" }))).toEqual(["models.0"]);
    const pinned = withValue(["protocol", "repetitions"], 3, withValue(["pin_repetitions"], true));
    expect(paths(pinned)).toEqual(["protocol.repetitions"]);
  });
});
