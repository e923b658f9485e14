import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "./defaults";
import { getIn } from "./json";
import { builderReducer, initialState } from "./state";

describe("builder state", () => {
  it("re-derives the YAML when the form changes the spec", () => {
    const start = initialState();
    const next = builderReducer(start, { type: "set", path: ["workload", "max_output_tokens"], value: [8, 32, 64] });
    expect(next.text).toContain("max_output_tokens: [8, 32, 64]");
    expect(getIn(next.spec, ["workload", "max_output_tokens"])).toEqual([8, 32, 64]);
    expect(start.spec).toBe(DEFAULT_SPEC);
  });

  it("takes typed YAML that parses as the spec, and keeps its text as typed", () => {
    const text = "# mine\nname: typed\npools: [{name: a, gpu: false}]\n";
    const next = builderReducer(initialState(), { type: "text", text });
    expect(next.spec).toEqual({ name: "typed", pools: [{ name: "a", gpu: false }] });
    expect(next.text).toBe(text);
    expect(next.parseError).toBeNull();
  });

  it("keeps the last good spec while the YAML does not parse", () => {
    const start = initialState();
    const broken = builderReducer(start, { type: "text", text: "name: x\npools: [a\n" });
    expect(broken.spec).toBe(start.spec);
    expect(broken.parseError?.line).toBeGreaterThan(0);
    const fixed = builderReducer(broken, { type: "text", text: "name: x\n" });
    expect(fixed.parseError).toBeNull();
    expect(fixed.spec).toEqual({ name: "x" });
  });
});
