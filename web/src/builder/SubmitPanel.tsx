/** Every error of the spec, then the submit (signed in): on to the campaign's live page when jobs
 * were queued; when the same spec was queued before, that is said here. */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { ApiError } from "../api/client";
import { useToken } from "../auth/token";
import { SignIn } from "../components/SignIn";
import { Link, navigate } from "../router";
import { canonical, type JsonObject } from "./json";
import { jobsText, useSubmit, type Submitted } from "./preview";
import type { FieldError } from "./validate";
import { describeParseError, type ParseError } from "./yaml";

function outcome(result: Submitted) {
  if (result.queued > 0) return <>Queued {jobsText(result.queued)}; opening the campaign…</>;
  const to = `/campaigns/${result.campaign_id}`;
  const what =
    result.already > 0
      ? `Nothing new was queued: all ${jobsText(result.already)} of this campaign were queued before.`
      : "Nothing was queued: every combination was pruned.";
  return (
    <>
      {what} <Link to={to}>Open the campaign</Link>
    </>
  );
}

function failure(error: unknown): string {
  if (error instanceof ApiError) return `The API refused the campaign (${error.status}): ${error.problem?.detail ?? error.message}`;
  return "The campaign was not submitted: the API is not answering. Try again in a moment.";
}

interface Props {
  spec: JsonObject;
  errors: readonly FieldError[];
  parseError: ParseError | null;
}

export function SubmitPanel({ spec, errors, parseError }: Props) {
  const token = useToken();
  const submit = useSubmit();
  const client = useQueryClient();
  const json = canonical(spec);
  const { reset } = submit;
  useEffect(() => reset(), [json, reset]); // a result is about the spec that was sent
  const blocked = errors.length > 0 || parseError !== null;
  const send = () =>
    submit.mutate(spec, {
      onSuccess: (result) => {
        void client.invalidateQueries({ queryKey: ["campaigns"] });
        if (result.queued > 0) navigate(`/campaigns/${result.campaign_id}`);
      },
    });
  const count = errors.length + (parseError ? 1 : 0);
  return (
    <section className="bsection bsubmit" aria-labelledby="builder-submit">
      <h2 id="builder-submit">Submit</h2>
      {count ? (
        <div className="berrors">
          <p id="builder-errors-title">
            <strong>{count === 1 ? "1 problem" : `${count} problems`}</strong> to fix before submitting:
          </p>
          <ul aria-labelledby="builder-errors-title">
            {parseError ? <li>{describeParseError(parseError)}</li> : null}
            {errors.map((e) => (
              <li key={`${e.path}\n${e.message}`}>
                <code>{e.path || "(the spec)"}</code>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p className="muted">The spec is valid.</p>
      )}
      <SignIn why="Submitting a campaign needs a signed-in user." />
      <p className="actions">
        <button type="button" className="primary" onClick={send} disabled={!token || blocked || submit.isPending}>
          Submit campaign
        </button>
        {!token ? <span className="muted">Sign in to submit.</span> : null}
      </p>
      {submit.isError ? (
        <div className="notice notice-error" role="alert">
          <p>{failure(submit.error)}</p>
        </div>
      ) : null}
      <p role="status" className="bstatus">
        {submit.isPending ? "Submitting…" : submit.data ? outcome(submit.data) : null}
      </p>
    </section>
  );
}
