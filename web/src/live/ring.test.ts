import { describe, expect, it } from "vitest";
import { Ring } from "./ring";

describe("Ring", () => {
  it("keeps rows oldest first and overwrites the oldest past capacity", () => {
    const ring = new Ring(3, 1);
    for (let t = 1; t <= 5; t++) ring.put(t, 0, t * 10);
    expect(ring.length).toBe(3);
    expect(ring.aligned()).toEqual([
      [3, 4, 5],
      [30, 40, 50],
    ]);
  });

  it("fills the newest row when values share its x, and leaves gaps as null", () => {
    const ring = new Ring(4);
    ring.put(1, 0, 100);
    ring.put(1, 1, 200);
    ring.put(2, 1, 210);
    expect(ring.aligned()).toEqual([
      [1, 2],
      [100, null],
      [200, 210],
    ]);
  });

  it("adds a column for a series that appears later, empty before it appeared", () => {
    const ring = new Ring(4, 1);
    ring.put(1, 0, 1);
    ring.put(2, 2, 5);
    expect(ring.columns).toBe(3);
    expect(ring.aligned()).toEqual([
      [1, 2],
      [1, null],
      [null, null],
      [null, 5],
    ]);
  });

  it("ignores rows older than the newest and records null values as gaps", () => {
    const ring = new Ring(4, 1);
    ring.put(5, 0, 1);
    const version = ring.version;
    ring.put(4, 0, 2);
    expect(ring.version).toBe(version);
    ring.put(6, 0, null);
    expect(ring.aligned()).toEqual([
      [5, 6],
      [1, null],
    ]);
  });

  it("memory stays bounded over many rows", () => {
    const ring = new Ring(1000, 8);
    for (let t = 0; t < 100_000; t++) for (let g = 0; g < 8; g++) ring.put(t, g, g);
    expect(ring.length).toBe(1000);
    expect(ring.aligned()[0][0]).toBe(99_000);
  });

  it("refuses a zero capacity", () => {
    expect(() => new Ring(0)).toThrow(/positive/);
  });
});
