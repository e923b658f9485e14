import { QueryClient, QueryClientProvider, useQuery } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, Unreachable } from "../api/client";
import { BestTable } from "../leaderboard/BestTable";
import { DEFAULT_VIEW } from "../leaderboard/urlState";
import { row } from "../test/rows";
import { FlagBadge } from "./FlagBadge";
import { QueryState } from "./QueryState";

afterEach(cleanup);

function Failing({ error }: { error: Error }) {
  const query = useQuery({ queryKey: ["x", error.message], queryFn: () => Promise.reject(error), retry: false });
  return (
    <QueryState query={query} what="run">
      {() => <p>loaded</p>}
    </QueryState>
  );
}

function withClient(node: ReactNode) {
  return <QueryClientProvider client={new QueryClient()}>{node}</QueryClientProvider>;
}

describe("QueryState", () => {
  it("shows a not-found page for the API's 404, with its detail", async () => {
    render(withClient(<Failing error={new ApiError(404, { type: "about:blank", title: "Not found", status: 404, detail: "no run 42", instance: "/api/runs/42" })} />));
    expect(await screen.findByRole("heading", { name: "Not found" })).toBeTruthy();
    expect(screen.getByText("no run 42")).toBeTruthy();
  });

  it("says the API is not answering, and offers to retry now", async () => {
    render(withClient(<Failing error={new Unreachable("Failed to fetch")} />));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("did not answer");
    expect(alert.textContent).toContain("Failed to fetch");
    expect(screen.getByRole("button", { name: "Retry now" })).toBeTruthy();
  });
});

describe("BestTable", () => {
  const rows = [
    row({ config_id: "a", model: "A", avg_power_w: null, quality_flags: ["throttled"] }),
    row({ config_id: "b", model: "B", energy_per_output_token_j: 0.25 }),
  ];

  it("shows units, 'not measured' for a missing value, and flag meanings", () => {
    render(<BestTable rows={rows} constraints={DEFAULT_VIEW.constraints} sort="energy_per_output_token_j" descending={false} onSort={() => {}} compare={[]} onCompare={() => {}} />);
    const a = document.querySelector('tr[data-config="a"]');
    expect(a?.querySelector('[data-col="power"]')?.textContent).toBe("not measured");
    expect(a?.querySelector('[data-col="jpt"]')?.textContent).toContain("1.00 J/token");
    expect(screen.getByRole("tooltip").textContent).toContain("lowered its clocks");
  });

  it("sorts from its headers and limits comparison to four models", () => {
    const onSort = vi.fn();
    const onCompare = vi.fn();
    render(<BestTable rows={rows} constraints={DEFAULT_VIEW.constraints} sort="energy_per_output_token_j" descending={false} onSort={onSort} compare={["A", "x", "y", "z"]} onCompare={onCompare} />);
    fireEvent.click(screen.getByRole("button", { name: /Energy per output token/ }));
    expect(onSort).toHaveBeenCalledWith("energy_per_output_token_j", true);
    fireEvent.click(screen.getByRole("button", { name: /Throughput/ }));
    expect(onSort).toHaveBeenLastCalledWith("output_tokens_per_s", false);
    expect((screen.getByLabelText("Compare B") as HTMLInputElement).disabled).toBe(true);
    fireEvent.click(screen.getByLabelText("Compare A"));
    expect(onCompare).toHaveBeenCalledWith(["x", "y", "z"]);
  });
});

describe("FlagBadge", () => {
  it("ties its explanation to the badge for assistive technology", () => {
    render(<FlagBadge code="no_idle_baseline" detail="baseline disabled" />);
    const badge = screen.getByRole("button", { name: "no idle baseline" });
    const tip = document.getElementById(badge.getAttribute("aria-describedby") ?? "");
    expect(tip?.textContent).toContain("active energy (total minus idle) is unknown");
    expect(tip?.textContent).toContain("This run: baseline disabled");
  });
});
