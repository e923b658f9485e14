/**
 * The live pages against the whole running system (tests/test_web_live.py): the fleet sees the
 * runner stop, a campaign built in the builder is watched from queued to completed with its samples
 * arriving, another is cancelled mid-way, and a third survives the API being killed and restarted.
 * What the page rendered is recorded by a MutationObserver from the first script on, so a state the
 * page showed for one frame is seen too.
 */
import { expect, test, type Page } from "@playwright/test";
import { parse, stringify } from "yaml";
import { noSeriousAxeViolations, screenshot } from "./checks";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the live browser tests through tests/test_web_live.py (make test)`);
  return value;
}
const apiUrl = required("LLEM_API_URL");
const control = required("LLEM_CONTROL_URL");
const token = required("LLEM_TOKEN");
const runnerId = required("LLEM_RUNNER_ID");
const ttlS = Number(required("LLEM_RUNNER_TTL_S"));

const CAMPAIGN_URL = /\/campaigns\/([0-9a-f-]{36})$/;
const ORDER = ["queued", "running", "completed"];

async function act(what: "restart-api" | "stop-runner" | "start-runner"): Promise<void> {
  const response = await fetch(`${control}/${what}`, { method: "POST" });
  expect(response.status, what).toBe(200);
}

/** A campaign like examples/demo.yaml, on the test's runner pool; Poisson arrivals at 8 requests/s
 * make each job last about 3 s however fast the machine is, long enough to watch it run. */
function spec(name: string, maxTokens: number[], repetitions: number) {
  return {
    name,
    seed: 7,
    pools: [{ name: "cpu", gpu: false }],
    models: [{ name: "tiny-random", gguf: "tiny-random.gguf", context_limit: 256 }],
    backends: [{ kind: "llama_cpp", n_ctx: 256, n_threads: 1 }],
    workload: { num_requests: 24, max_output_tokens: maxTokens, arrival: "poisson", request_rate_per_s: 8 },
    protocol: { meter: "auto", warmup_requests: 1 },
    repetitions,
  };
}

async function submit(body: object): Promise<string> {
  const response = await fetch(new URL("/api/campaigns", apiUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { campaign_id: string }).campaign_id;
}

declare global {
  interface Window {
    __jobs: Record<string, string[]>;
    __samples: Record<string, number>;
    /** Each live link's states in order, by what it carries ("job states", "power samples", "heartbeats"). */
    __links: Record<string, string[]>;
    __power: Record<string, string>;
  }
}

/** Record every job state, sample count and link state the page renders, from its first frame. */
async function record(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__jobs = {};
    window.__samples = {};
    window.__links = {};
    window.__power = {};
    const seen = (el: Element) => {
      const job = el.getAttribute("data-job");
      const status = el.getAttribute("data-status");
      if (job && status) {
        const list = (window.__jobs[job] ??= []);
        if (list[list.length - 1] !== status) list.push(status);
      }
      const run = el.getAttribute("data-run");
      if (run) {
        window.__samples[run] = Math.max(window.__samples[run] ?? 0, Number(el.getAttribute("data-samples") ?? 0));
        window.__power[run] = el.querySelector("[data-testid=power-now]")?.textContent ?? "";
      }
      const link = el.getAttribute("data-link");
      const what = el.getAttribute("data-link-what");
      if (link && what) {
        const list = (window.__links[what] ??= []);
        if (list[list.length - 1] !== link) list.push(link);
      }
    };
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        if (m.type === "attributes" && m.target instanceof Element) seen(m.target);
        for (const node of m.addedNodes)
          if (node instanceof Element) {
            seen(node);
            node.querySelectorAll("[data-job], [data-run], [data-link]").forEach(seen);
          }
      }
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status", "data-samples", "data-link"] });
  });
}

async function signIn(page: Page, secret: string): Promise<void> {
  await page.getByLabel("API token").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

async function count(page: Page, state: string): Promise<number> {
  return Number(await page.getByTestId(`count-${state}`).getAttribute("data-count"));
}

test.describe.configure({ mode: "serial" });

test("the fleet page shows the runner online, then offline within one heartbeat TTL of its stop @live", async ({ page }) => {
  await page.goto("/fleet");
  const row = page.locator(`tr[data-runner="${runnerId}"]`);
  await expect(row).toHaveAttribute("data-online", "true");
  await expect(row).toContainText("cpu");
  await noSeriousAxeViolations(page, "the fleet page");
  await act("stop-runner");
  const stopped = Date.now();
  await expect(row).toHaveAttribute("data-online", "false", { timeout: (ttlS + 10) * 1000 });
  const tookS = (Date.now() - stopped) / 1000;
  expect(tookS, "offline within one TTL (plus the page's 1 s clock and a heartbeat period)").toBeLessThanOrEqual(ttlS + 2.5);
  await expect(row).toContainText("offline");
});

test("a campaign built in the builder runs, and the page follows every job to completed @live", async ({ page }) => {
  await record(page);
  await page.goto("/campaigns/new");
  await signIn(page, token);
  // the forms
  await page.getByRole("tab", { name: "Form" }).click();
  await page.getByLabel("Name", { exact: true }).fill("live-e2e");
  const maxTokens = page.getByRole("group", { name: "max_output_tokens" });
  await maxTokens.getByLabel("max_output_tokens value 1").fill("8");
  await maxTokens.getByRole("button", { name: "Add value to max_output_tokens" }).click();
  await maxTokens.getByLabel("max_output_tokens value 3").fill("16");
  await maxTokens.getByRole("button", { name: "Remove value 2 from max_output_tokens" }).click();
  // the YAML: what the form wrote is there; edit it as text (a vLLM backend too, which the CPU pool prunes)
  await page.getByRole("tab", { name: "YAML" }).click();
  const yamlBox = page.getByLabel("Campaign YAML");
  const doc = parse(await yamlBox.inputValue()) as Record<string, unknown>;
  expect(doc.name).toBe("live-e2e");
  expect((doc.workload as { max_output_tokens: number[] }).max_output_tokens).toEqual([8, 16]);
  const edited = { ...spec("live-e2e", [8, 16], 2), backends: [...spec("x", [1], 1).backends, { kind: "vllm" }] };
  edited.models = [{ ...edited.models[0], model_id: "org/tiny-random" } as (typeof edited.models)[number]];
  await yamlBox.fill(stringify(edited));
  await page.getByRole("tab", { name: "Form" }).click();
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue("live-e2e");
  await expect(page.getByRole("group", { name: "max_output_tokens" }).getByLabel("max_output_tokens value 2")).toHaveValue("16");
  // the server's preview: 1 model x 1 runnable backend x 2 lengths x 2 repetitions; vLLM pruned with its reason
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview-job-count")).toContainText("4 jobs");
  const pruned = page.getByRole("heading", { name: "Pruned combinations" });
  await expect(pruned).toBeVisible();
  await expect(page.getByText(/vLLM needs a GPU/).first()).toBeVisible();
  await noSeriousAxeViolations(page, "the campaign builder");
  await screenshot(page, "builder", true);
  // the runner is stopped (previous test): every job stays queued until it starts again
  await page.getByRole("button", { name: "Submit campaign" }).click();
  await expect(page).toHaveURL(CAMPAIGN_URL);
  await expect(page.getByTestId("count-queued")).toHaveAttribute("data-count", "4");
  await expect(page.locator("tr[data-job]")).toHaveCount(4);
  await act("start-runner");
  const running = page.locator("section[data-run]").first();
  await expect.poll(async () => Number(await running.getAttribute("data-samples")), { timeout: 60_000 }).toBeGreaterThan(0);
  await screenshot(page, "campaign-live", true);
  await expect(page.getByTestId("outcome")).toContainText("Campaign completed: 4 completed", { timeout: 180_000 });
  const history = await page.evaluate(() => window.__jobs);
  expect(Object.keys(history)).toHaveLength(4);
  for (const [job, states] of Object.entries(history)) expect(states, `job ${job}`).toEqual(ORDER);
  const samples = await page.evaluate(() => window.__samples);
  expect(Object.keys(samples).length, "a live panel for each run").toBe(4);
  for (const [run, n] of Object.entries(samples)) expect(n, `samples seen live for run ${run}`).toBeGreaterThan(0);
  // this machine has no GPU and no RAPL: the samples carry token counts, and power says it was not measured
  for (const text of Object.values(await page.evaluate(() => window.__power))) expect(text).toContain("not measured (meter “none”)");
  await noSeriousAxeViolations(page, "the campaign live page");
  // a completed run links to its run page
  await page.locator("tr[data-status=completed] a").first().click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  // submitting the same spec again queues nothing new, and says so
  await page.goto("/campaigns/new");
  await expect(page.getByRole("button", { name: "Sign out" }), "the token was entered once: this tab keeps it").toBeVisible();
  await page.getByRole("tab", { name: "YAML" }).click();
  await page.getByLabel("Campaign YAML").fill(stringify(edited));
  await page.getByRole("button", { name: "Submit campaign" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Nothing new was queued" })).toBeVisible();
});

test("a campaign cancelled from its page: refusals are shown, then queued jobs turn cancelled @live", async ({ page }) => {
  await record(page);
  const id = await submit(spec("live-cancel", [8, 12, 16, 20], 2));
  await page.goto(`/campaigns/${id}`);
  await expect.poll(() => count(page, "completed"), { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
  // a token the API does not know: its 401 detail, as the API wrote it
  await signIn(page, "llem_00000000000000000000000000000000_not-a-real-token");
  await page.getByRole("button", { name: "Cancel campaign" }).click();
  await page.getByRole("button", { name: "Yes, cancel the campaign" }).click();
  await expect(page.getByRole("alert")).toContainText("The API refused (401)");
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, token);
  await page.getByRole("button", { name: "Cancel campaign" }).click();
  await page.getByRole("button", { name: "Yes, cancel the campaign" }).click();
  await expect(page.getByTestId("campaign-status")).toHaveText("cancelled");
  await expect.poll(() => count(page, "queued"), { timeout: 60_000 }).toBe(0);
  await expect.poll(() => count(page, "running"), { timeout: 60_000 }).toBe(0);
  expect(await count(page, "cancelled")).toBeGreaterThanOrEqual(1);
  await expect(page.locator("tr[data-status=cancelled]").first()).toContainText(/cancel/);
  await expect(page.getByTestId("outcome")).toContainText("Campaign cancelled");
});

test("the page rides out the API being killed and restarted, losing and repeating no job state @live", async ({ page }) => {
  await record(page);
  const id = await submit(spec("live-restart", [8, 12, 16], 2));
  await page.goto(`/campaigns/${id}`);
  await expect.poll(() => count(page, "completed"), { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
  await act("restart-api");
  const jobLink = page.locator('[data-link-what="job states"]');
  await expect(jobLink).toHaveAttribute("data-link", "open", { timeout: 60_000 });
  await expect(page.getByTestId("outcome")).toContainText("Campaign completed: 6 completed", { timeout: 180_000 });
  // the job-state link only: the power-sample banner is a second element that shows while that stream alone is down
  const links = (await page.evaluate(() => window.__links))["job states"] ?? [];
  expect(links, "the page said it was disconnected, then live again").toContain("reconnecting");
  expect(links[links.length - 1]).toBe("open");
  await expect(jobLink).toHaveAttribute("data-link", "open");
  const history = await page.evaluate(() => window.__jobs);
  expect(Object.keys(history)).toHaveLength(6);
  for (const [job, states] of Object.entries(history)) {
    // never back, never twice: the states seen are in order, each once, and end completed
    const ranks = states.map((s) => ORDER.indexOf(s));
    expect(ranks.every((r, i) => r >= 0 && (i === 0 || r > (ranks[i - 1] ?? -1))), `job ${job}: ${states.join(" -> ")}`).toBe(true);
    expect(states[states.length - 1]).toBe("completed");
  }
  await expect(page.locator("tr[data-job]")).toHaveCount(6);
});
