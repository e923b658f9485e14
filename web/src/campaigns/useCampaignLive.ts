/**
 * A campaign's live state: the REST snapshot (refetched after each reconnect and after the server
 * dropped messages, so nothing missed stays missing), the campaign stream (job states, progress,
 * runs) and its metrics stream (one RunSeries per run). Events change plain objects; the component
 * re-renders at most once per animation frame, with `version` telling it that something changed.
 */
import { useEffect, useRef, useState } from "react";
import { useCampaign } from "../api/queries";
import type { CampaignEvent, LiveEvent } from "../live/events";
import { applyEvent, applySnapshot, emptyCampaign, type CampaignState } from "../live/jobs";
import { RunSeries } from "../live/runSeries";
import { useLiveStream } from "../live/stream";

export interface LiveCampaign {
  state: CampaignState;
  runs: Map<string, RunSeries>;
  version: number;
}

function useFrameVersion(): [number, () => void] {
  const [version, setVersion] = useState(0);
  const pending = useRef(0);
  useEffect(() => () => cancelAnimationFrame(pending.current), []);
  const bump = () => {
    if (pending.current) return;
    pending.current = requestAnimationFrame(() => {
      pending.current = 0;
      setVersion((v) => v + 1);
    });
  };
  return [version, bump];
}

export function useCampaignLive(campaignId: string) {
  const snapshot = useCampaign(campaignId);
  const live = useRef<LiveCampaign>({ state: emptyCampaign(), runs: new Map(), version: 0 });
  const [version, bump] = useFrameVersion();

  useEffect(() => {
    const data = snapshot.data;
    if (data && applySnapshot(live.current.state, data.jobs, data.campaign.job_count)) bump();
  }, [snapshot.data]);

  const refetch = () => void snapshot.refetch();
  const campaign = useLiveStream(`/api/live/campaigns/${campaignId}`, {
    onEvent: (event: LiveEvent) => {
      if (event.type === "metric.batch" || event.type === "runner.heartbeat") return;
      if (applyEvent(live.current.state, event as CampaignEvent)) bump();
    },
    onOpen: (reconnect) => reconnect && refetch(),
    onDropped: refetch,
  });
  const metrics = useLiveStream(`/api/live/campaigns/${campaignId}/metrics`, {
    onEvent: (event: LiveEvent) => {
      if (event.type !== "metric.batch") return;
      const runs = live.current.runs;
      let series = runs.get(event.run_id);
      if (!series) {
        series = new RunSeries();
        runs.set(event.run_id, series);
      }
      if (series.apply(event)) bump();
    },
  });
  live.current.version = version;
  return { live: live.current, version, snapshot, campaignLink: campaign, metricsLink: metrics };
}
