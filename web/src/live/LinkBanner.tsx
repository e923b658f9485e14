/** How fresh a live view is: connected, or disconnected since when, and what the server dropped. */
import { useEffect, useState } from "react";
import { since } from "../format";
import type { Link } from "./stream";

export function LinkBanner({ link, what }: { link: Link; what: string }) {
  const [, tick] = useState(0);
  const down = link.state !== "open";
  useEffect(() => {
    if (!down) return undefined;
    const timer = window.setInterval(() => tick((t) => t + 1), 1000);
    return () => window.clearInterval(timer);
  }, [down]);
  return (
    <div className="live-link" data-link={link.state} data-link-what={what}>
      {link.state === "open" ? (
        <p className="muted">
          <span className="dot dot-live" aria-hidden="true" /> Live: {what} update as they happen
          {link.reconnects ? ` (reconnected ${link.reconnects}×)` : ""}.
        </p>
      ) : link.state === "connecting" ? (
        <p className="muted">Connecting to the live stream…</p>
      ) : (
        <p className="notice notice-error" role="alert">
          <strong>Disconnected from the live stream</strong>, reconnecting. What you see is{" "}
          {link.lastMessageAt ? `from ${since(link.lastMessageAt)} ago` : "not live"}
          {link.downSince ? ` (down for ${since(link.downSince)})` : ""}.
        </p>
      )}
      {link.dropped > 0 ? (
        <p className="notice" role="status" data-testid="dropped">
          The server dropped {link.dropped} live message{link.dropped === 1 ? "" : "s"} for this page because it fell behind;
          the job table was reloaded from the database.
        </p>
      ) : null}
    </div>
  );
}
