import { describe, expect, it } from "vitest";
import { EXAMPLES, DEFAULT_SPEC } from "./defaults";
import { getIn, update, type JsonObject } from "./json";
import { addValue, gridToList, listToGrid } from "./listEdit";
import { describeParseError, parseSpecYaml, specToYaml } from "./yaml";

function roundTrip(spec: JsonObject): JsonObject {
  const parsed = parseSpecYaml(specToYaml(spec));
  if (!parsed.ok) throw new Error(describeParseError(parsed.error));
  return parsed.spec;
}

describe("spec <-> YAML", () => {
  it("is the identity for the default spec and every example", () => {
    expect(roundTrip(DEFAULT_SPEC)).toEqual(DEFAULT_SPEC);
    for (const example of EXAMPLES) {
      const parsed = parseSpecYaml(example.yaml);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) expect(roundTrip(parsed.spec)).toEqual(parsed.spec);
    }
  });

  it("keeps a value and a one-value list apart, and strings that look like numbers", () => {
    const spec: JsonObject = {
      name: "x",
      workload: { max_output_tokens: 32, num_requests: [8], concurrency: [1, 2] },
      models: [{ name: "m", gguf: "123", model_id: "true" }],
      protocol: { power_limit_w: [200, 250.5], meter: "auto" },
      description: "",
    };
    const back = roundTrip(spec);
    expect(back).toEqual(spec);
    expect(getIn(back, ["workload", "max_output_tokens"])).toBe(32);
    expect(getIn(back, ["workload", "num_requests"])).toEqual([8]);
    expect(getIn(back, ["models", 0, "gguf"])).toBe("123");
  });

  it("writes lists of plain values in flow style", () => {
    const text = specToYaml({ name: "x", workload: { max_output_tokens: [8, 32] }, pools: [{ name: "a", gpu: false }] });
    expect(text).toBe("name: x\nworkload:\n  max_output_tokens: [8, 32]\npools:\n  - name: a\n    gpu: false\n");
  });

  it("gives the YAML expected after a list field is edited in the form", () => {
    const spec: JsonObject = { name: "x", workload: { num_requests: 4, max_output_tokens: [8, 32] } };
    const path = ["workload", "max_output_tokens"];
    const added = update(spec, path, listToGrid(addValue(gridToList(getIn(spec, path)), 64), "grid"));
    expect(specToYaml(added)).toBe("name: x\nworkload:\n  num_requests: 4\n  max_output_tokens: [8, 32, 64]\n");
    const one = update(spec, path, listToGrid([8], "grid"));
    expect(specToYaml(one)).toBe("name: x\nworkload:\n  num_requests: 4\n  max_output_tokens: 8\n");
    const none = update(spec, path, listToGrid([], "grid"));
    expect(specToYaml(none)).toBe("name: x\nworkload:\n  num_requests: 4\n");
  });
});

describe("parse errors", () => {
  it("give the line and column", () => {
    const parsed = parseSpecYaml("name: x\npools: [a\nfoo");
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.line).toBe(3);
      expect(parsed.error.col).toBe(1);
      expect(describeParseError(parsed.error)).toMatch(/^YAML error at line 3, column 1: /);
      expect(parsed.error.message).not.toMatch(/at line/);
    }
  });

  it("refuse duplicate keys and a document that is not a mapping", () => {
    const dup = parseSpecYaml("name: a\nname: b\n");
    expect(dup.ok ? null : dup.error.line).toBe(2);
    expect(parseSpecYaml("- a\n- b\n").ok).toBe(false);
    expect(parseSpecYaml("").ok).toBe(false);
  });
});
