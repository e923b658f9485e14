/** Cancel a campaign (a signed-in user with the `campaigns:write` scope); the API's refusals shown as they are. */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, api, unwrap } from "../api/client";
import { authHeaders, useToken } from "../auth/token";
import { SignIn } from "../components/SignIn";

export function CancelCampaign({ campaignId }: { campaignId: string }) {
  const token = useToken();
  const [asking, setAsking] = useState(false);
  const cancel = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/campaigns/{campaign_id}/cancel", {
          params: { path: { campaign_id: campaignId } },
          body: { reason: "cancelled from the web app" },
          headers: authHeaders(),
        }),
      ),
  });
  const error = cancel.error;
  return (
    <div className="cancel">
      <SignIn why="Cancelling a campaign needs a token." />
      {token && !asking ? (
        <button type="button" className="danger" disabled={cancel.isPending || cancel.isSuccess} onClick={() => setAsking(true)}>
          {cancel.isPending ? "Cancelling…" : cancel.isSuccess ? "Cancel sent" : "Cancel campaign"}
        </button>
      ) : null}
      {token && asking ? (
        <p role="group" aria-label="Confirm the cancellation">
          Queued jobs are dropped and running ones stopped.{" "}
          <button
            type="button"
            className="danger"
            onClick={() => {
              setAsking(false);
              cancel.mutate();
            }}
          >
            Yes, cancel the campaign
          </button>{" "}
          <button type="button" onClick={() => setAsking(false)}>
            Keep it running
          </button>
        </p>
      ) : null}
      {error ? (
        <p className="notice notice-error" role="alert">
          {error instanceof ApiError ? `The API refused (${error.status}): ${error.message}` : `The API did not answer: ${error.message}`}
        </p>
      ) : null}
      {cancel.isSuccess ? <p role="status">Cancellation sent: queued jobs turn cancelled as the scheduler confirms them.</p> : null}
    </div>
  );
}
