import { describe, expect, it } from "vitest";
import { addValue, coerce, formatValue, gridToList, listToGrid, nextValue, removeValue, setValue } from "./listEdit";
import { WORKLOAD_FIELDS } from "./schema";

describe("list editor", () => {
  it("shows a value or a list as a list, nothing as an empty one", () => {
    expect(gridToList(8)).toEqual([8]);
    expect(gridToList([8, 32])).toEqual([8, 32]);
    expect(gridToList(undefined)).toEqual([]);
    expect(gridToList(null)).toEqual([]);
  });

  it("writes the simplest form back", () => {
    expect(listToGrid([], "grid")).toBeUndefined();
    expect(listToGrid([8], "grid")).toBe(8);
    expect(listToGrid([8, 32], "grid")).toEqual([8, 32]);
    expect(listToGrid(["--x"], "list")).toEqual(["--x"]);
    expect(listToGrid([], "list")).toBeUndefined();
  });

  it("adds, removes and sets values without touching the input", () => {
    const values = [8, 32];
    expect(addValue(values, 64)).toEqual([8, 32, 64]);
    expect(removeValue(values, 0)).toEqual([32]);
    expect(removeValue(values, 5)).toEqual([8, 32]);
    expect(setValue(values, 1, 16)).toEqual([8, 16]);
    expect(values).toEqual([8, 32]);
    expect(listToGrid(removeValue(removeValue(values, 0), 0), "grid")).toBeUndefined();
  });

  it("adds the schema default first, then an empty value to type in", () => {
    const field = WORKLOAD_FIELDS.find((f) => f.key === "max_output_tokens");
    expect(field?.default).toBe(32);
    if (!field) return;
    expect(nextValue(field, [])).toBe(32);
    expect(nextValue(field, [32])).toBe("");
    const arrival = WORKLOAD_FIELDS.find((f) => f.key === "arrival");
    if (arrival) expect(nextValue(arrival, ["all_at_once"])).toBe("poisson");
    const eos = WORKLOAD_FIELDS.find((f) => f.key === "ignore_eos");
    if (eos) expect(nextValue(eos, [false])).toBe(true);
  });

  it("reads typed numbers as numbers and anything else as text", () => {
    expect(coerce("64", "integer")).toBe(64);
    expect(coerce(" 0.9 ", "number")).toBe(0.9);
    expect(coerce("1e3", "number")).toBe(1000);
    expect(coerce("6x", "integer")).toBe("6x");
    expect(coerce("", "integer")).toBe("");
    expect(coerce("64", "string")).toBe("64");
    expect(formatValue(64)).toBe("64");
    expect(formatValue(undefined)).toBe("");
  });
});
