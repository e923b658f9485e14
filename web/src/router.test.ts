import { describe, expect, it } from "vitest";
import { hrefFor, parsePlace } from "./router";

describe("places", () => {
  it("normalises paths and keeps the query", () => {
    expect(parsePlace("/runs/?limit=5").href).toBe("/runs?limit=5");
    expect(parsePlace("runs//").path).toBe("/runs");
    expect(parsePlace("/").path).toBe("/");
    expect(parsePlace("/?max_itl_ms=50").params.get("max_itl_ms")).toBe("50");
  });

  it("uses hash links on a static site", () => {
    expect(hrefFor("/?gpu=A", "static")).toBe("#/?gpu=A");
    expect(hrefFor("/runs/1", "api")).toBe("/runs/1");
  });
});
