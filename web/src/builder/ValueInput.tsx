/** One value typed or chosen in the form. */
import { useState } from "react";
import type { Json } from "./json";
import { coerce, formatValue } from "./listEdit";
import type { FieldInfo } from "./schema";

interface ValueInputProps {
  id: string;
  value: Json | undefined;
  field: Pick<FieldInfo, "scalar" | "options">;
  /** typed text that is empty removes the key (an optional field) */
  emptyRemoves: boolean;
  onValue: (value: Json | undefined) => void;
  aria: { "aria-invalid"?: boolean; "aria-describedby"?: string };
  label?: string;
  placeholder?: string;
  /** a select's option for "no value" (an optional field: its default applies) */
  blankLabel?: string;
}

/** One value: a select for an enum or a boolean, else text kept as typed ("0." stays "0."). */
export function ValueInput({ id, value, field, emptyRemoves, onValue, aria, label, placeholder, blankLabel }: ValueInputProps) {
  const shown = formatValue(value);
  const [draft, setDraft] = useState(shown);
  const [last, setLast] = useState(shown);
  if (shown !== last) {
    setLast(shown);
    setDraft(shown);
  }
  const options = field.scalar === "boolean" ? ["false", "true"] : field.options;
  if (options) {
    return (
      <select
        id={id}
        aria-label={label}
        value={shown}
        onChange={(e) => onValue(e.target.value === "" && emptyRemoves ? undefined : coerce(e.target.value, field.scalar))}
        {...aria}
      >
        {blankLabel !== undefined ? <option value="">{blankLabel}</option> : null}
        {options.includes(shown) || (shown === "" && blankLabel !== undefined) ? null : (
          <option value={shown}>{shown === "" ? "choose…" : shown}</option>
        )}
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  }
  const numeric = field.scalar === "integer" || field.scalar === "number";
  return (
    <input
      id={id}
      aria-label={label}
      type="text"
      inputMode={field.scalar === "integer" ? "numeric" : numeric ? "decimal" : undefined}
      spellCheck={false}
      autoComplete="off"
      placeholder={placeholder}
      value={draft}
      onChange={(e) => {
        const text = e.target.value;
        const next = text === "" && emptyRemoves ? undefined : coerce(text, field.scalar);
        setDraft(text);
        setLast(formatValue(next));
        onValue(next);
      }}
      {...aria}
    />
  );
}

