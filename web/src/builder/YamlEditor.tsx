/** The YAML view: the spec as text. While the text does not parse, the error says where, and the
 * form keeps the last spec that did. */
import { useId } from "react";
import { describeParseError, type ParseError } from "./yaml";

export function YamlEditor({ text, error, onText }: { text: string; error: ParseError | null; onText: (text: string) => void }) {
  const id = useId();
  return (
    <div className="byaml">
      <label htmlFor={id}>Campaign YAML</label>
      <textarea
        id={id}
        className="byaml-text"
        value={text}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        rows={Math.min(40, Math.max(16, text.split("\n").length + 2))}
        onChange={(e) => onText(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : `${id}-hint`}
      />
      {error ? (
        <p id={`${id}-error`} className="bfield-error" role="alert">
          {describeParseError(error)}. The form shows the last spec that parsed.
        </p>
      ) : (
        <p id={`${id}-hint`} className="bhint">
          The same spec as the form: a campaign file as <code>llem campaign submit</code> takes it. Comments are kept
          until the form changes the spec.
        </p>
      )}
    </div>
  );
}
