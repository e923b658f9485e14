/**
 * The builder's one source of truth: the spec object. The YAML text is re-derived when the form
 * changes it; typed YAML that parses becomes the spec; YAML that does not parse keeps the last
 * good spec (the form shows it) and says where the text is wrong.
 */
import { DEFAULT_SPEC } from "./defaults";
import { update, type Json, type JsonObject, type Path } from "./json";
import { parseSpecYaml, specToYaml, type ParseError } from "./yaml";

export interface BuilderState {
  spec: JsonObject;
  text: string;
  parseError: ParseError | null;
}

export type BuilderAction =
  | { type: "form"; spec: JsonObject }
  | { type: "set"; path: Path; value: Json | undefined }
  | { type: "text"; text: string };

export function initialState(spec: JsonObject = DEFAULT_SPEC): BuilderState {
  return { spec, text: specToYaml(spec), parseError: null };
}

export function builderReducer(state: BuilderState, action: BuilderAction): BuilderState {
  if (action.type === "set") return builderReducer(state, { type: "form", spec: update(state.spec, action.path, action.value) });
  if (action.type === "form") return { spec: action.spec, text: specToYaml(action.spec), parseError: null };
  const parsed = parseSpecYaml(action.text);
  if (!parsed.ok) return { ...state, text: action.text, parseError: parsed.error };
  return { spec: parsed.spec, text: action.text, parseError: null };
}
