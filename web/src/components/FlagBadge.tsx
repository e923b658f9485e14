/** A quality flag as a badge whose meaning shows on hover and on keyboard focus. */
import { useId } from "react";
import type { QualityFlagCode } from "../api/types";
import { flagMeaning } from "../flags";

export function FlagBadge({ code, detail }: { code: QualityFlagCode; detail?: string | undefined }) {
  const id = useId();
  const { label, meaning } = flagMeaning(code);
  return (
    <span className="flag">
      <button type="button" className="flag-badge" aria-describedby={id}>
        {label}
      </button>
      <span role="tooltip" id={id} className="flag-tip">
        {meaning}
        {detail ? ` This run: ${detail}` : ""}
      </span>
    </span>
  );
}

export function Flags({ codes }: { codes: readonly QualityFlagCode[] }) {
  if (codes.length === 0) return <span className="muted">none</span>;
  return (
    <span className="flags">
      {codes.map((code) => (
        <FlagBadge key={code} code={code} />
      ))}
    </span>
  );
}
