/** The spec the builder starts from, and the example campaign files it can load. */
import type { JsonObject } from "./json";

/** Like examples/demo.yaml: the tiny generated model on llama.cpp, CPU pool; 2 x 2 = 4 jobs. */
export const DEFAULT_SPEC: JsonObject = {
  name: "new-campaign",
  description: "Output length sweep on the tiny generated model, llama.cpp on CPU.",
  seed: 1,
  pools: [{ name: "default", gpu: false }],
  models: [{ name: "tiny-random", gguf: "tiny-random.gguf", context_limit: 256 }],
  backends: [{ kind: "llama_cpp", n_ctx: 256, n_threads: 1 }],
  workload: { num_requests: 4, max_output_tokens: [8, 32] },
  protocol: { meter: "auto", warmup_requests: 1 },
  repetitions: 2,
};

export interface Example {
  /** the file name without .yaml */
  name: string;
  yaml: string;
}

/** examples/*.yaml of the repository, as text (bundled at build time). */
const files = import.meta.glob<string>("../../../examples/*.yaml", { query: "?raw", import: "default", eager: true });
export const EXAMPLES: Example[] = Object.entries(files)
  .map(([path, yaml]) => ({ name: path.replace(/^.*\//, "").replace(/\.yaml$/, ""), yaml }))
  .sort((a, b) => a.name.localeCompare(b.name));
