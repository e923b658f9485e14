/**
 * What a page shows while its data is not there: loading, the API not answering (retried, and
 * said so, with how long it has been), what the API refused (its problem detail), or not found.
 * Never a blank page.
 */
import type { UseQueryResult } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { ApiError, Unreachable } from "../api/client";
import { since } from "../format";
import { MODE } from "../mode";
import { NotFound } from "./NotFound";

export function UnreachableNotice({ error, firstFailure, onRetry }: { error: Error; firstFailure: number; onRetry: () => void }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => tick((t) => t + 1), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const what = MODE === "static" ? "The leaderboard's data files" : "The llem API";
  return (
    <div className="notice notice-error" role="alert">
      <p>
        <strong>{what} did not answer</strong> ({error.message}). Retrying automatically; first failure{" "}
        {since(firstFailure)} ago.
      </p>
      <button type="button" onClick={onRetry}>
        Retry now
      </button>
    </div>
  );
}

interface Props<T> {
  query: UseQueryResult<T>;
  what: string;
  children: (data: T) => ReactNode;
}

export function QueryState<T>({ query, what, children }: Props<T>) {
  const [firstFailure, setFirstFailure] = useState<number | null>(null);
  const failure = query.error ?? query.failureReason;
  useEffect(() => {
    if (failure && firstFailure === null) setFirstFailure(Date.now());
    if (!failure && firstFailure !== null) setFirstFailure(null);
  }, [failure, firstFailure]);

  if (failure instanceof ApiError && failure.status === 404) {
    return <NotFound detail={failure.problem?.detail ?? `No ${what}.`} />;
  }
  if (failure instanceof ApiError) {
    return (
      <div className="notice notice-error" role="alert">
        <p>
          <strong>The API refused to load the {what}</strong> ({failure.status}): {failure.message}
        </p>
      </div>
    );
  }
  const stale = query.data !== undefined;
  const banner =
    failure instanceof Unreachable || (failure && !(failure instanceof ApiError)) ? (
      <UnreachableNotice error={failure} firstFailure={firstFailure ?? Date.now()} onRetry={() => void query.refetch()} />
    ) : null;
  if (!stale) {
    return (
      banner ?? (
        <p className="loading" aria-busy="true">
          Loading the {what}…
        </p>
      )
    );
  }
  return (
    <>
      {banner}
      {children(query.data as T)}
    </>
  );
}
