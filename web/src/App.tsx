import { useEffect } from "react";
import { BuilderPage } from "./builder/BuilderPage";
import { CampaignLivePage } from "./campaigns/CampaignLivePage";
import { CampaignsPage } from "./campaigns/CampaignsPage";
import { Layout } from "./components/Layout";
import { NotFound } from "./components/NotFound";
import { LeaderboardPage } from "./leaderboard/LeaderboardPage";
import { FleetPage } from "./fleet/FleetPage";
import { MODE } from "./mode";
import { OverviewPage } from "./overview/OverviewPage";
import { navigate, usePlace } from "./router";
import { RunPage } from "./runs/RunPage";
import { RunsPage } from "./runs/RunsPage";

const UUID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";
const CAMPAIGN = new RegExp(`^/campaigns/${UUID}$`, "i");
const RUN = new RegExp(`^/runs/${UUID}$`, "i");

/** Part 1 put the leaderboard at `/`: its shared links (`/?max_itl_ms=50`) still open it. */
function LegacyBoard({ search }: { search: string }) {
  useEffect(() => navigate(`/leaderboard?${search}`, { replace: true }), [search]);
  return null;
}

function Page() {
  const { path, params } = usePlace();
  if (MODE === "static") {
    if (path === "/") return <LeaderboardPage />;
    return <NotFound detail="This static copy of llem holds the leaderboard only; runs and campaigns need the llem API." />;
  }
  if (path === "/") return params.size ? <LegacyBoard search={params.toString()} /> : <OverviewPage />;
  if (path === "/leaderboard") return <LeaderboardPage />;
  if (path === "/fleet") return <FleetPage />;
  if (path === "/runs") return <RunsPage />;
  if (path === "/campaigns") return <CampaignsPage />;
  if (path === "/campaigns/new") return <BuilderPage />;
  const campaign = CAMPAIGN.exec(path);
  if (campaign?.[1]) return <CampaignLivePage key={campaign[1]} campaignId={campaign[1].toLowerCase()} />;
  const run = RUN.exec(path);
  if (run?.[1]) return <RunPage key={run[1]} runId={run[1].toLowerCase()} />;
  if (path.startsWith("/runs/")) return <NotFound detail={`“${path.slice(6)}” is not a run id (a UUID).`} />;
  return <NotFound detail={`There is no page at ${path}.`} />;
}

export function App() {
  return (
    <Layout>
      <Page />
    </Layout>
  );
}
