/** Data fetching as hooks (React Query): pages never fetch in their bodies. */
import { useQuery } from "@tanstack/react-query";
import { MODE, dataUrl } from "../mode";
import { ApiError, api, fetchJson, retryDelayMs, shouldRetry, unwrap } from "./client";
import type { paths } from "./schema";
import type { CampaignDetail, CampaignPage, Configurations, RequestPage, RunDetail, RunnerOut, RunPage, TimeSeries } from "./types";

/** Every configuration: from the API, or from the static site's data/configurations.json. */
export function useConfigurations() {
  return useQuery({
    queryKey: ["configurations", MODE],
    queryFn: (): Promise<Configurations> =>
      MODE === "static"
        ? fetchJson<Configurations>(dataUrl("configurations.json"))
        : unwrap(api.GET("/api/configurations")),
  });
}

export function useRun(runId: string) {
  return useQuery({
    queryKey: ["run", runId],
    queryFn: (): Promise<RunDetail> =>
      unwrap(api.GET("/api/runs/{run_id}", { params: { path: { run_id: runId } } })),
  });
}

export function useTimeseries(runId: string, bucketS: number | null) {
  return useQuery({
    queryKey: ["timeseries", runId, bucketS],
    enabled: bucketS !== null,
    queryFn: (): Promise<TimeSeries> =>
      unwrap(
        api.GET("/api/runs/{run_id}/timeseries", {
          params: { path: { run_id: runId }, query: { bucket: bucketS ?? 1 } },
        }),
      ),
  });
}

export function useRequests(runId: string) {
  return useQuery({
    queryKey: ["requests", runId],
    queryFn: (): Promise<RequestPage> =>
      unwrap(api.GET("/api/runs/{run_id}/requests", { params: { path: { run_id: runId } } })),
  });
}

export type RunsQuery = NonNullable<paths["/api/runs"]["get"]["parameters"]["query"]>;

export function useRuns(query: RunsQuery) {
  return useQuery({
    queryKey: ["runs", query],
    queryFn: (): Promise<RunPage> => unwrap(api.GET("/api/runs", { params: { query } })),
    placeholderData: (previous) => previous,
  });
}

export function useCampaigns(limit: number, offset: number) {
  return useQuery({
    queryKey: ["campaigns", limit, offset],
    queryFn: (): Promise<CampaignPage> =>
      unwrap(api.GET("/api/campaigns", { params: { query: { limit, offset } } })),
    placeholderData: (previous) => previous,
  });
}

/** A campaign just submitted is not in the database until ingest has written it: a 404 is retried for a while. */
export const NEW_CAMPAIGN_RETRIES = 30;

export function useCampaign(campaignId: string) {
  return useQuery({
    queryKey: ["campaign", campaignId],
    retry: (failures, error) =>
      error instanceof ApiError && error.status === 404 ? failures < NEW_CAMPAIGN_RETRIES : shouldRetry(failures, error),
    retryDelay: (attempt, error) => (error instanceof ApiError && error.status === 404 ? 1000 : retryDelayMs(attempt)),
    queryFn: (): Promise<CampaignDetail> =>
      unwrap(api.GET("/api/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
  });
}

export function useRunners() {
  return useQuery({
    queryKey: ["runners"],
    queryFn: (): Promise<RunnerOut[]> => unwrap(api.GET("/api/runners")),
  });
}

/** The URL of a raw CSV download of a run. */
export function downloadUrl(runId: string, what: "samples.csv" | "requests.csv"): string {
  return `/api/runs/${runId}/download/${what}`;
}
