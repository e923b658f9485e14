/**
 * The spec as plain JSON, read and written by path. The form never assumes the spec has the right
 * shape (typed YAML can hold anything): it reads with these helpers and writes a new object.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
/** A path into the spec: object keys and array indexes (`["backends", 0, "n_ctx"]`). */
export type Path = readonly (string | number)[];

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `backends.0.n_ctx`: how errors, the server and the form name a field. */
export function dotted(path: Path): string {
  return path.join(".");
}

export function getIn(doc: Json | undefined, path: Path): Json | undefined {
  let here: Json | undefined = doc;
  for (const step of path) {
    if (typeof step === "number" ? !Array.isArray(here) : !isObject(here)) return undefined;
    here = Array.isArray(here) ? here[step as number] : (here as JsonObject)[step];
  }
  return here;
}

/** A copy of `doc` with the value at `path` replaced (`undefined` removes an object key). Missing
 * parents are created; a parent of the wrong shape is replaced. */
export function setIn(doc: Json | undefined, path: Path, value: Json | undefined): Json | undefined {
  const [step, ...rest] = path;
  if (step === undefined) return value;
  if (typeof step === "number") {
    const list = Array.isArray(doc) ? [...doc] : [];
    const next = setIn(list[step], rest, value);
    if (next === undefined) list.splice(step, 1);
    else list[step] = next;
    return list;
  }
  const obj: JsonObject = isObject(doc) ? { ...doc } : {};
  const next = setIn(obj[step], rest, value);
  if (next === undefined) delete obj[step];
  else obj[step] = next;
  return obj;
}

/** Set a value in the spec (the root stays an object). */
export function update(spec: JsonObject, path: Path, value: Json | undefined): JsonObject {
  const next = setIn(spec, path, value);
  return isObject(next) ? next : {};
}

export function asList(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

/** Stable JSON (sorted keys): equal specs give equal strings, for query keys and comparisons. */
export function canonical(value: Json | undefined): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}
