/**
 * What the form knows about a campaign spec, read from the JSON Schemas that pydantic writes
 * (schemas/dist/jsonschema): field names, types, defaults, enums, and which fields take a list of
 * values (a grid dimension). Nothing here copies a default by hand.
 */
import campaignJson from "../../../schemas/dist/jsonschema/campaign-spec.json";
import jobJson from "../../../schemas/dist/jsonschema/job.queued.json";
import type { Json } from "./json";

/** The parts of JSON Schema that pydantic writes and the builder reads. */
export interface JsonSchema {
  type?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: readonly (string | number | boolean | null)[];
  const?: Json;
  default?: Json;
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  minItems?: number;
  [keyword: string]: unknown;
}

export const CAMPAIGN_SCHEMA: JsonSchema = campaignJson as JsonSchema;
const JOB_SCHEMA: JsonSchema = jobJson as JsonSchema;

export type Scalar = "integer" | "number" | "string" | "boolean";

export interface FieldInfo {
  key: string;
  /** "Pin repetitions": the schema's title in sentence case */
  title: string;
  scalar: Scalar;
  /** the allowed values of an enum (a select) */
  options: readonly string[] | null;
  /** single: one value; grid: a value or a list of values; list: always a list */
  shape: "single" | "grid" | "list";
  nullable: boolean;
  required: boolean;
  /** the schema's default (undefined: none) */
  default: Json | undefined;
  description: string | null;
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (!ref?.startsWith("#/$defs/")) return schema;
  return root.$defs?.[ref.slice("#/$defs/".length)] ?? schema;
}

function scalarOf(schema: JsonSchema): Scalar | null {
  if (schema.type === "integer" || schema.type === "number" || schema.type === "string" || schema.type === "boolean") {
    return schema.type;
  }
  return null;
}

function sentence(title: string): string {
  return title.charAt(0) + title.slice(1).toLowerCase();
}

/** One property of an object schema as a form field; null when it is not a plain value (an object). */
export function fieldInfo(key: string, schema: JsonSchema, required: boolean, forceGrid = false): FieldInfo | null {
  const alternatives = schema.anyOf ?? [schema];
  let scalar: Scalar | null = null;
  let options: readonly string[] | null = null;
  let single = false;
  let list = false;
  let nullable = false;
  for (const alt of alternatives) {
    if (alt.type === "null") nullable = true;
    else if (alt.type === "array" && alt.items) {
      list = true;
      scalar ??= scalarOf(alt.items);
      options ??= alt.items.enum ? alt.items.enum.map(String) : null;
    } else if (scalarOf(alt)) {
      single = true;
      scalar ??= scalarOf(alt);
      options ??= alt.enum ? alt.enum.map(String) : null;
    }
  }
  if (scalar === null || alternatives.some((a) => a.const !== undefined)) return null;
  const shape = forceGrid || (single && list) ? "grid" : list ? "list" : "single";
  return {
    key,
    title: sentence(schema.title ?? key),
    scalar,
    options,
    shape,
    nullable,
    required,
    default: schema.default,
    description: schema.description ?? null,
  };
}

function fieldsOf(schema: JsonSchema, root: JsonSchema, forceGrid = false): FieldInfo[] {
  const object = resolve(schema, root);
  return Object.entries(object.properties ?? {}).flatMap(([key, prop]) => {
    const info = fieldInfo(key, prop, object.required?.includes(key) ?? false, forceGrid);
    return info ? [info] : [];
  });
}

/**
 * The form's order of fields (the models' order in llem_schemas; the JSON Schema sorts keys).
 * Only an order: a field the schema gains later still shows, after these.
 */
const ORDER: Record<string, readonly string[]> = {
  CampaignSpec: ["name", "description", "seed", "priority", "repetitions", "pin_repetitions"],
  ModelSpec: ["name", "gguf", "model_id", "context_limit"],
  LlamaCppGrid: ["n_ctx", "n_threads", "n_gpu_layers"],
  OpenAIGrid: ["base_url", "api_key_env"],
  VllmGrid: ["mode", "tensor_parallel_size", "dtype", "quantization", "max_model_len", "gpu_memory_utilization", "max_num_seqs", "extra_args"],
  WorkloadGrid: ["prompt_set", "num_requests", "max_output_tokens", "concurrency", "arrival", "request_rate_per_s", "ignore_eos"],
  MeasurementProtocol: ["meter", "warmup_requests", "repetitions", "power_limit_w", "sampling_period_ms", "idle_baseline_s", "idle_baseline_max_age_s", "cooldown_s", "temperature_drift_c"],
};

export function ordered(fields: FieldInfo[], order: readonly string[] = []): FieldInfo[] {
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return [...fields].sort((a, b) => rank(a.key) - rank(b.key));
}

/** The spec's own plain fields (name, description, seed, …). */
export const TOP_FIELDS: FieldInfo[] = ordered(fieldsOf(CAMPAIGN_SCHEMA, CAMPAIGN_SCHEMA), ORDER.CampaignSpec);

function def(name: string): JsonSchema {
  return CAMPAIGN_SCHEMA.$defs?.[name] ?? {};
}

export const POOL_FIELDS: FieldInfo[] = ordered(fieldsOf(def("PoolSpec"), CAMPAIGN_SCHEMA), ["name", "gpu"]);
export const MODEL_FIELDS: FieldInfo[] = ordered(fieldsOf(def("ModelSpec"), CAMPAIGN_SCHEMA), ORDER.ModelSpec);
export const WORKLOAD_FIELDS: FieldInfo[] = ordered(fieldsOf(def("WorkloadGrid"), CAMPAIGN_SCHEMA), ORDER.WorkloadGrid);

const backendItems = CAMPAIGN_SCHEMA.properties?.backends?.items ?? {};
const kindKey = backendItems.discriminator?.propertyName ?? "kind";
/** The backend kinds (llama_cpp, openai, vllm) and each one's fields, from the discriminated union. */
export const BACKEND_KINDS: Record<string, FieldInfo[]> = Object.fromEntries(
  (backendItems.oneOf ?? []).map((ref) => {
    const object = resolve(ref, CAMPAIGN_SCHEMA);
    const kind = object.properties?.[kindKey]?.const;
    const name = ref.$ref?.split("/").pop() ?? "";
    return [String(kind), ordered(fieldsOf(object, CAMPAIGN_SCHEMA), ORDER[name])];
  }),
);
export const BACKEND_KIND_KEY = kindKey;

/** The measurement protocol: the campaign spec keeps it as free overrides (every value may be a
 * list); its fields come from the job schema's MeasurementProtocol. */
const protocolDef: JsonSchema = JOB_SCHEMA.$defs?.MeasurementProtocol ?? {};
export const PROTOCOL_FIELDS: FieldInfo[] = ordered(fieldsOf(protocolDef, JOB_SCHEMA, true), ORDER.MeasurementProtocol);

/** Defaults of what the scheduler resolves a configuration to (job schema), for the preview. */
export function jobDefaults(defName: string): Record<string, Json> {
  const props = JOB_SCHEMA.$defs?.[defName]?.properties ?? {};
  return Object.fromEntries(
    Object.entries(props).flatMap(([k, p]) => (p.default === undefined ? [] : [[k, p.default] as const])),
  );
}

/** Defaults of a resolved backend of this kind (the job schema's LlamaCppBackend, …). */
export function backendJobDefaults(kind: string): Record<string, Json> {
  const name = Object.entries(JOB_SCHEMA.$defs ?? {}).find(([, d]) => d.properties?.[kindKey]?.const === kind)?.[0];
  return name ? jobDefaults(name) : {};
}

/** Makes a schema list every value-or-list alternative of a protocol field. */
function gridOf(schema: JsonSchema): JsonSchema {
  const alternatives = schema.anyOf ?? [schema];
  const values = alternatives.filter((a) => a.type !== "null");
  const item: JsonSchema = values.length === 1 && values[0] ? values[0] : { anyOf: values };
  return { anyOf: [...alternatives, { type: "array", items: item, minItems: 1 }] };
}

/**
 * The schema ajv validates against: the campaign schema, with
 * - the backend union's discriminator usable by ajv (no `mapping`, the tag required: pydantic
 *   needs `kind` to pick the backend too), so errors are those of the chosen kind only;
 * - `protocol` checked against MeasurementProtocol, each field a value or a list of values.
 */
export function validationSchema(): JsonSchema {
  const schema = structuredClone(CAMPAIGN_SCHEMA);
  const items = schema.properties?.backends?.items;
  if (items?.discriminator) {
    items.discriminator = { propertyName: items.discriminator.propertyName };
    items.required = [items.discriminator.propertyName];
  }
  if (schema.properties?.protocol) {
    schema.properties.protocol = {
      ...schema.properties.protocol,
      additionalProperties: false,
      properties: Object.fromEntries(
        Object.entries(protocolDef.properties ?? {}).map(([k, p]) => [k, gridOf(p)]),
      ),
    };
  }
  return schema;
}

/** A backend switched to another kind: the settings that kind also has are kept. */
export function changeKind(backend: unknown, kind: string): Record<string, Json> {
  const fields = new Set((BACKEND_KINDS[kind] ?? []).map((f) => f.key));
  const old = typeof backend === "object" && backend !== null && !Array.isArray(backend) ? (backend as Record<string, Json>) : {};
  return { [kindKey]: kind, ...Object.fromEntries(Object.entries(old).filter(([k]) => fields.has(k))) };
}
