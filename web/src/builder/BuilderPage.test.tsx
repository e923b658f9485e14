import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

// openapi-fetch takes the global fetch when the client is created: replace it before any import
const calls = vi.hoisted(() => {
  const seen: { url: string; method: string; body: unknown; auth: string | null }[] = [];
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const text = await request.text();
    seen.push({ url: new URL(request.url).pathname, method: request.method, body: text ? JSON.parse(text) : null, auth: request.headers.get("Authorization") });
    const json = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    if (request.url.endsWith("/api/campaigns/preview")) {
      const config = (mot: number) => ({
        config_id: `c-${mot}`,
        pool: "default",
        model_name: "tiny-random",
        backend: { kind: "llama_cpp", model_path: "tiny-random.gguf", n_ctx: 256, n_threads: 1, n_gpu_layers: 0, seed: 0 },
        workload: { prompt_set: "builtin:short", num_requests: 4, max_output_tokens: mot, concurrency: 1, arrival: "all_at_once", ignore_eos: false, seed: 1 },
        protocol: { meter: "auto", warmup_requests: 1 },
        jobs: 2,
      });
      return json(200, {
        campaign_id: "0b9c3a1e-5f6d-4e2a-9b7c-1d2e3f4a5b6c",
        name: "new-campaign",
        job_count: 4,
        configurations: [config(8), config(32)],
        dropped: [{ config: { ...config(300), jobs: undefined }, reason: "max_output_tokens 300 does not fit the 256-token context" }],
      });
    }
    if (request.url.endsWith("/api/campaigns")) {
      return json(201, { campaign_id: "0b9c3a1e-5f6d-4e2a-9b7c-1d2e3f4a5b6c", queued: 0, already: 4, dropped: [] });
    }
    return json(404, { type: "about:blank", title: "Not found", status: 404, detail: "no", instance: "" });
  };
  return seen;
});

import { setToken } from "../auth/token";
import { BuilderPage } from "./BuilderPage";

afterEach(() => {
  cleanup();
  setToken(null);
  calls.length = 0;
});

function page() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <BuilderPage />
    </QueryClientProvider>,
  );
}

describe("BuilderPage", () => {
  it("edits a list field in the form and shows it in the YAML", async () => {
    page();
    expect(((await screen.findByLabelText("Name")) as HTMLInputElement).value).toBe("new-campaign");
    const group = screen.getByRole("group", { name: "max_output_tokens" });
    expect((within(group).getByLabelText("max_output_tokens value 1") as HTMLInputElement).value).toBe("8");
    fireEvent.click(within(group).getByRole("button", { name: "Add value to max_output_tokens" }));
    const third = within(group).getByLabelText("max_output_tokens value 3") as HTMLInputElement;
    expect(third.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(third.getAttribute("aria-describedby") ?? "")?.textContent).toContain("workload.max_output_tokens.2");
    fireEvent.change(third, { target: { value: "64" } });
    expect(third.getAttribute("aria-invalid")).toBeNull();
    fireEvent.click(screen.getByRole("tab", { name: "YAML" }));
    const yaml = screen.getByLabelText("Campaign YAML") as HTMLTextAreaElement;
    expect(yaml.value).toContain("max_output_tokens: [8, 32, 64]");
  });

  it("keeps the last good spec in the form while the YAML does not parse", async () => {
    page();
    await screen.findByLabelText("Name");
    fireEvent.click(screen.getByRole("tab", { name: "YAML" }));
    const yaml = screen.getByLabelText("Campaign YAML");
    fireEvent.change(yaml, { target: { value: "name: typed\npools: [a\n" } });
    expect(screen.getByRole("alert").textContent).toMatch(/line \d+, column \d+/);
    expect(yaml.getAttribute("aria-invalid")).toBe("true");
    fireEvent.click(screen.getByRole("tab", { name: "Form" }));
    expect((screen.getByLabelText("Name") as HTMLInputElement).value).toBe("new-campaign");
    fireEvent.click(screen.getByRole("tab", { name: "YAML" }));
    fireEvent.change(screen.getByLabelText("Campaign YAML"), { target: { value: "name: typed\n" } });
    fireEvent.click(screen.getByRole("tab", { name: "Form" }));
    expect((screen.getByLabelText("Name") as HTMLInputElement).value).toBe("typed");
    expect(screen.getByText(/to fix before submitting/).textContent).toMatch(/^\d+ problems to fix/);
  });

  it("previews the valid spec by itself and lists what was pruned", async () => {
    page();
    const count = await screen.findByTestId("preview-job-count", {}, { timeout: 3000 });
    expect(count.textContent).toBe("4 jobs");
    expect(calls[0]).toMatchObject({ url: "/api/campaigns/preview", method: "POST", auth: null });
    expect(calls[0]?.body).toMatchObject({ name: "new-campaign", workload: { max_output_tokens: [8, 32] } });
    const pruned = screen.getByRole("heading", { name: "Pruned combinations" }).nextElementSibling;
    expect(pruned?.textContent).toContain("default / tiny-random / llama_cpp · max_output_tokens 300");
    expect(pruned?.textContent).toContain("does not fit");
  });

  it("submits when signed in, and says when nothing new was queued", async () => {
    page();
    const submit = (await screen.findByRole("button", { name: "Submit campaign" })) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    act(() => setToken("llem_abc_secret"));
    expect(submit.disabled).toBe(false);
    fireEvent.click(submit);
    const status = await screen.findByText(/Nothing new was queued/);
    expect(status.closest("[role=status]")?.textContent).toContain("all 4 jobs of this campaign were queued before.");
    expect(within(screen.getByRole("status")).getByRole("link").getAttribute("href")).toBe("/campaigns/0b9c3a1e-5f6d-4e2a-9b7c-1d2e3f4a5b6c");
    const post = calls.find((c) => c.url === "/api/campaigns");
    expect(post?.auth).toBe("Bearer llem_abc_secret");
  });
});
