import { BOARD_PATH } from "../mode";
import { Link } from "../router";

export function NotFound({ detail }: { detail: string }) {
  return (
    <section className="not-found" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Not found</h1>
      <p>{detail}</p>
      <p>
        <Link to={BOARD_PATH}>Back to the leaderboard</Link>
      </p>
    </section>
  );
}
