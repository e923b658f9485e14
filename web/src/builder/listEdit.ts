/**
 * The list editor's logic. A grid field holds a value or a list of values; the editor always shows
 * a list, and writes back the simplest form: no value removes the key (the schema's default
 * applies), one value is written as a plain value, several as a list.
 */
import type { Json } from "./json";
import type { FieldInfo, Scalar } from "./schema";

export function gridToList(value: Json | undefined): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function listToGrid(values: readonly Json[], shape: FieldInfo["shape"]): Json | undefined {
  if (values.length === 0) return undefined;
  if (shape === "grid" && values.length === 1) return values[0];
  return [...values];
}

export function addValue(values: readonly Json[], value: Json): Json[] {
  return [...values, value];
}

export function removeValue(values: readonly Json[], index: number): Json[] {
  return values.filter((_, i) => i !== index);
}

export function setValue(values: readonly Json[], index: number, value: Json): Json[] {
  return values.map((v, i) => (i === index ? value : v));
}

/** The value "Add value" appends: the schema's default to an empty list (it is what applies
 * then), the next unused option of an enum or a boolean, else an empty value to type in. */
export function nextValue(field: Pick<FieldInfo, "scalar" | "options" | "default">, values: readonly Json[]): Json {
  const options = field.scalar === "boolean" ? [false, true] : field.options;
  if (options) return options.find((o) => !values.includes(o)) ?? options[0] ?? "";
  if (values.length === 0 && field.default !== undefined && field.default !== null && !Array.isArray(field.default)) {
    return field.default;
  }
  return "";
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** What typed text stands for: a number where the field takes numbers and the text is one, else
 * the text itself (the validator then says what is wrong with it, at its path). */
export function coerce(text: string, scalar: Scalar): Json {
  const trimmed = text.trim();
  if ((scalar === "integer" || scalar === "number") && NUMBER.test(trimmed)) return Number(trimmed);
  if (scalar === "boolean" && (trimmed === "true" || trimmed === "false")) return trimmed === "true";
  return text;
}

export function formatValue(value: Json | undefined): string {
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
