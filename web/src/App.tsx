import { CampaignsPage } from "./campaigns/CampaignsPage";
import { Layout } from "./components/Layout";
import { NotFound } from "./components/NotFound";
import { LeaderboardPage } from "./leaderboard/LeaderboardPage";
import { MODE } from "./mode";
import { usePlace } from "./router";
import { RunPage } from "./runs/RunPage";
import { RunsPage } from "./runs/RunsPage";

const RUN = /^\/runs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

function Page() {
  const { path } = usePlace();
  if (path === "/") return <LeaderboardPage />;
  if (MODE === "static") return <NotFound detail="This static copy of llem holds the leaderboard only; runs and campaigns need the llem API." />;
  if (path === "/runs") return <RunsPage />;
  if (path === "/campaigns") return <CampaignsPage />;
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
