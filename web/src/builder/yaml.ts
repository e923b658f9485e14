/** The spec as YAML text and back (eemeli/yaml): lists of plain values in flow style (`[8, 32]`),
 * as the example campaign files write them. */
import { Document, isScalar, parseDocument, visit } from "yaml";
import { isObject, type JsonObject } from "./json";

export interface ParseError {
  message: string;
  /** 1-based */
  line: number;
  col: number;
}

export type Parsed = { ok: true; spec: JsonObject } | { ok: false; error: ParseError };

export function specToYaml(spec: JsonObject): string {
  const doc = new Document(spec);
  visit(doc, {
    Seq(_key, node) {
      if (node.items.every((item) => isScalar(item))) node.flow = true;
    },
  });
  return doc.toString({ flowCollectionPadding: false, lineWidth: 0 });
}

export function parseSpecYaml(text: string): Parsed {
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    const message = (first.message.split("\n")[0] ?? first.code).replace(/ at line \d+, column \d+:?$/, "");
    return { ok: false, error: { message, line: at?.line ?? 1, col: at?.col ?? 1 } };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isObject(value)) {
    return {
      ok: false,
      error: { message: "a campaign is a mapping (name: …, pools: …, models: …, backends: …)", line: 1, col: 1 },
    };
  }
  return { ok: true, spec: value };
}

export function describeParseError(error: ParseError): string {
  return `YAML error at line ${error.line}, column ${error.col}: ${error.message}`;
}
