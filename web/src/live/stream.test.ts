import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openStream, withLastEventId, type Link } from "./stream";

/** Just enough of EventSource to drive the stream's logic (the browser's own is used in Playwright). */
class FakeSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static all: FakeSource[] = [];
  readyState = FakeSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, ((e: MessageEvent<string>) => void)[]>();
  constructor(readonly url: string) {
    FakeSource.all.push(this);
  }
  addEventListener(type: string, fn: (e: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.readyState = FakeSource.CLOSED;
  }
  open() {
    this.readyState = FakeSource.OPEN;
    this.onopen?.();
  }
  emit(type: string, data: object, id: string) {
    for (const fn of this.listeners.get(type) ?? []) fn(new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id }));
  }
  fail(closed: boolean) {
    this.readyState = closed ? FakeSource.CLOSED : FakeSource.CONNECTING;
    this.onerror?.();
  }
}

const status = { type: "job.status", event_id: "e1", occurred_at: "", job_id: "j", campaign_id: "c", pool: "cpu", status: "running", attempt: 1, revision: 2 };

describe("openStream", () => {
  beforeEach(() => {
    FakeSource.all = [];
    vi.stubGlobal("EventSource", FakeSource);
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("delivers events, says when it is down, and resumes a new source after the last id", () => {
    const events: string[] = [];
    const links: Link[] = [];
    let reopened = 0;
    const close = openStream("/api/live/campaigns/c", {
      onEvent: (e) => events.push(e.type),
      onLink: (l) => links.push(l),
      onOpen: (reconnect) => void (reconnect && reopened++),
    });
    const first = FakeSource.all[0];
    if (!first) throw new Error("no source");
    first.open();
    first.emit("job.status", status, "ab12cd34-7");
    first.emit("job.status", { nonsense: true }, "ab12cd34-8");
    expect(events).toEqual(["job.status"]);
    first.fail(false); // the browser retries by itself: still down, no new source
    expect(links.at(-1)?.state).toBe("reconnecting");
    expect(links.at(-1)?.downSince).not.toBeNull();
    expect(FakeSource.all).toHaveLength(1);
    first.fail(true); // it gave up (an error status): a new source, resuming after the last id
    vi.advanceTimersByTime(10_000);
    expect(FakeSource.all).toHaveLength(2);
    expect(FakeSource.all[1]?.url).toBe("/api/live/campaigns/c?last_event_id=ab12cd34-8");
    FakeSource.all[1]?.open();
    expect(links.at(-1)).toMatchObject({ state: "open", downSince: null, reconnects: 1 });
    expect(reopened).toBe(1);
    close();
    expect(FakeSource.all[1]?.readyState).toBe(FakeSource.CLOSED);
  });

  it("reports what the server dropped", () => {
    const dropped: number[] = [];
    const links: Link[] = [];
    openStream("/x", { onEvent: () => undefined, onLink: (l) => links.push(l), onDropped: (n) => dropped.push(n) });
    const source = FakeSource.all[0];
    source?.open();
    source?.emit("dropped", { dropped: 17 }, "ab12cd34-40");
    expect(dropped).toEqual([17]);
    expect(links.at(-1)?.dropped).toBe(17);
  });

  it("adds the last id to a URL that has a query already", () => {
    expect(withLastEventId("/a?b=1", "e-1")).toBe("/a?b=1&last_event_id=e-1");
    expect(withLastEventId("/a", null)).toBe("/a");
  });
});
