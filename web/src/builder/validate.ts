/**
 * The spec checked in the browser against the campaign JSON Schema (ajv, draft 2020-12, every
 * error), plus the checks pydantic makes in code (a model needs a file or an id, unique names).
 * Each error names its field by the dotted path the form and the server use (`backends.0.n_ctx`).
 * The server stays the judge: the preview and the submit run the scheduler's own validation.
 */
import Ajv2020, { type ErrorObject } from "ajv/dist/2020";
import { asList, dotted, getIn, isObject, type Json, type JsonObject, type Path } from "./json";
import { BACKEND_KINDS, BACKEND_KIND_KEY, validationSchema } from "./schema";

export interface FieldError {
  /** dotted path, `""` for the spec itself */
  path: string;
  message: string;
}

const ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: false });
const check = ajv.compile(validationSchema());

function pathOf(error: ErrorObject): string[] {
  const steps = error.instancePath === "" ? [] : error.instancePath.slice(1).split("/");
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required" && typeof params.missingProperty === "string") steps.push(params.missingProperty);
  if (error.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
    steps.push(params.additionalProperty);
  }
  if (error.keyword === "discriminator" && typeof params.tag === "string") steps.push(params.tag);
  return steps.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const TYPE_WORDS: Record<string, string> = {
  integer: "an integer",
  number: "a number",
  string: "text",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
};

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return "is required";
    case "additionalProperties":
      return "is not a field of this schema";
    case "enum":
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(", ")}`;
    case "discriminator":
      return `must be one of ${Object.keys(BACKEND_KINDS).join(", ")}`;
    case "type":
      return `must be ${TYPE_WORDS[String(params.type)] ?? String(params.type)}`;
    default:
      return error.message ?? error.keyword;
  }
}

/** The alternative of an `anyOf` an error belongs to (its index), or null. */
function branchOf(error: ErrorObject, anyOf: ErrorObject): number | null {
  const prefix = `${anyOf.schemaPath}/`;
  if (!error.schemaPath.startsWith(prefix) || !error.instancePath.startsWith(anyOf.instancePath)) return null;
  const index = Number(error.schemaPath.slice(prefix.length).split("/")[0]);
  return Number.isInteger(index) ? index : null;
}

/**
 * ajv's errors in words, one per problem: for a value-or-list field that fits no alternative,
 * the errors of the alternative the value was meant for (a list: its items), or one
 * "must be an integer or a list of them".
 */
export function friendlyErrors(errors: readonly ErrorObject[]): FieldError[] {
  const dropped = new Set<ErrorObject>();
  const extra: FieldError[] = [];
  for (const anyOf of errors.filter((e) => e.keyword === "anyOf")) {
    const branches = new Map<number, ErrorObject[]>();
    for (const error of errors) {
      const index = error === anyOf ? null : branchOf(error, anyOf);
      if (index === null) continue;
      dropped.add(error);
      branches.set(index, [...(branches.get(index) ?? []), error]);
    }
    dropped.add(anyOf);
    const wrongType = (list: ErrorObject[]) =>
      list.some((e) => e.keyword === "type" && e.instancePath === anyOf.instancePath);
    const meant = [...branches.values()].filter((list) => !wrongType(list));
    if (meant.length > 0) {
      for (const list of meant) for (const e of list) extra.push({ path: dotted(pathOf(e)), message: messageOf(e) });
      continue;
    }
    const types = [...branches.values()].flat().flatMap((e) => (e.keyword === "type" ? [String(e.params.type)] : []));
    const plain = types.filter((t) => t !== "array" && t !== "null").map((t) => TYPE_WORDS[t] ?? t);
    const words = [...new Set(plain)].join(" or ");
    const message = types.includes("array") ? `must be ${words} or a list of them` : `must be ${words}`;
    extra.push({ path: dotted(pathOf(anyOf)), message });
  }
  const rest = errors.filter((e) => !dropped.has(e)).map((e) => ({ path: dotted(pathOf(e)), message: messageOf(e) }));
  const all = [...rest, ...extra];
  // a missing field: "is required" says it all (not also what the missing value is not)
  const missing = new Set(all.filter((e) => e.message === "is required").map((e) => e.path));
  return unique(all.filter((e) => e.message === "is required" || !missing.has(e.path)));
}

function unique(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\n${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function duplicates(spec: JsonObject, list: string, what: string): FieldError[] {
  const seen = new Set<string>();
  return asList(spec[list]).flatMap((item, i) => {
    const name = isObject(item) ? item.name : undefined;
    if (typeof name !== "string") return [];
    if (!seen.has(name)) {
      seen.add(name);
      return [];
    }
    return [{ path: dotted([list, i, "name"]), message: `${what} names must be unique: “${name}” is used twice` }];
  });
}

/** The checks pydantic and the scheduler make in code, beyond the JSON Schema. */
function ruleErrors(spec: JsonObject): FieldError[] {
  const errors: FieldError[] = [...duplicates(spec, "pools", "pool"), ...duplicates(spec, "models", "model")];
  asList(spec.models).forEach((model, i) => {
    if (isObject(model) && (model.gguf ?? null) === null && (model.model_id ?? null) === null) {
      errors.push({ path: dotted(["models", i]), message: "a model needs gguf (llama_cpp) or model_id (vllm, openai)" });
    }
  });
  if (spec.pin_repetitions === true && isObject(spec.protocol) && "repetitions" in spec.protocol) {
    errors.push({ path: "protocol.repetitions", message: "with pin_repetitions, set repetitions at the top level only" });
  }
  return errors;
}

export function validateSpec(spec: JsonObject): FieldError[] {
  const schemaErrors = check(spec) ? [] : friendlyErrors(check.errors ?? []);
  return [...schemaErrors, ...ruleErrors(spec)];
}

/** The errors at one field: its own (`exact`) and those inside it, e.g. a list's values. */
export function errorsAt(errors: readonly FieldError[], path: Path, exact = true): FieldError[] {
  const key = dotted(path);
  return errors.filter((e) => e.path === key || (!exact && e.path.startsWith(`${key}.`)));
}

/** The kind of a backend, when it is one the schema knows. */
export function backendKind(backend: Json | undefined): string | null {
  const kind = getIn(backend, [BACKEND_KIND_KEY]);
  return typeof kind === "string" && kind in BACKEND_KINDS ? kind : null;
}
