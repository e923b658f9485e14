/**
 * One live stream (SSE) with resumption. The browser's EventSource reconnects by itself after a
 * network error and sends `Last-Event-ID`; when it gives up (the API answered an error, e.g. 503
 * while it restarts), a new EventSource is opened after a backoff, resuming with the last id as the
 * `last_event_id` query parameter (an EventSource cannot set headers). Ids carry the API process's
 * epoch, so a restarted API replays its history rather than skipping; the reducers drop repeats.
 */
import { useEffect, useRef, useState } from "react";
import { EVENT_TYPES, parseEvent, type LiveEvent } from "./events";

export type LinkState = "connecting" | "open" | "reconnecting";

export interface Link {
  state: LinkState;
  /** when the last message arrived (ms since epoch), or null before the first */
  lastMessageAt: number | null;
  /** since when the stream is down (ms since epoch), or null while open */
  downSince: number | null;
  /** messages the server dropped for this page because it fell behind (cumulative) */
  dropped: number;
  reconnects: number;
}


export interface StreamHandlers {
  onEvent: (event: LiveEvent) => void;
  onLink: (link: Link) => void;
  /** a (re)connection opened: the page may refetch its snapshot to cover what the ring lost */
  onOpen?: (reconnect: boolean) => void;
  /** the server dropped messages for this client */
  onDropped?: (count: number) => void;
}

export function withLastEventId(url: string, lastId: string | null): string {
  if (!lastId) return url;
  return `${url}${url.includes("?") ? "&" : "?"}last_event_id=${encodeURIComponent(lastId)}`;
}

/** Open the stream; returns the function that closes it. */
export function openStream(url: string, handlers: StreamHandlers): () => void {
  let source: EventSource | null = null;
  let lastId: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  let failures = 0;
  let opened = false;
  const link: Link = { state: "connecting", lastMessageAt: null, downSince: null, dropped: 0, reconnects: 0 };
  const report = (patch: Partial<Link>) => {
    Object.assign(link, patch);
    handlers.onLink({ ...link });
  };

  const onMessage = (message: MessageEvent<string>) => {
    if (message.lastEventId) lastId = message.lastEventId;
    link.lastMessageAt = Date.now();
    const event = parseEvent(message.data);
    if (event) handlers.onEvent(event);
  };
  const onDropped = (message: MessageEvent<string>) => {
    if (message.lastEventId) lastId = message.lastEventId;
    let count = 0;
    try {
      count = Number((JSON.parse(message.data) as { dropped?: unknown }).dropped) || 0;
    } catch {
      /* an unreadable notice still says something was lost */
    }
    report({ dropped: link.dropped + Math.max(1, count) });
    handlers.onDropped?.(count);
  };

  const connect = () => {
    if (closed) return;
    const es = new EventSource(withLastEventId(url, lastId));
    source = es;
    for (const type of EVENT_TYPES) es.addEventListener(type, onMessage as EventListener);
    es.addEventListener("message", onMessage as EventListener);
    es.addEventListener("dropped", onDropped as EventListener);
    es.onopen = () => {
      failures = 0;
      const reconnect = opened;
      opened = true;
      report({ state: "open", downSince: null, reconnects: link.reconnects + (reconnect ? 1 : 0) });
      handlers.onOpen?.(reconnect);
    };
    es.onerror = () => {
      if (closed) return;
      if (link.state !== "reconnecting" || link.downSince === null) report({ state: "reconnecting", downSince: Date.now() });
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        failures += 1;
        timer = setTimeout(connect, Math.min(500 * 2 ** failures, 8000));
      }
    };
  };
  connect();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    source?.close();
  };
}

/**
 * A stream for the life of a component. `onEvent` is read through a ref (it may change every
 * render); the returned link state re-renders the component only when the connection changes.
 */
export function useLiveStream(url: string | null, handlers: Omit<StreamHandlers, "onLink">): Link {
  const ref = useRef(handlers);
  ref.current = handlers;
  const [link, setLink] = useState<Link>({ state: "connecting", lastMessageAt: null, downSince: null, dropped: 0, reconnects: 0 });
  useEffect(() => {
    if (!url) return undefined;
    return openStream(url, {
      onEvent: (e) => ref.current.onEvent(e),
      onOpen: (r) => ref.current.onOpen?.(r),
      onDropped: (n) => ref.current.onDropped?.(n),
      onLink: (l) =>
        setLink((prev) =>
          prev.state === l.state && prev.downSince === l.downSince && prev.dropped === l.dropped && prev.reconnects === l.reconnects ? prev : l,
        ),
    });
  }, [url]);
  return link;
}
