/**
 * Form controls for the schema's fields. Every control is labelled, names its path in the spec,
 * and shows the validator's errors at the field (aria-invalid, aria-describedby).
 */
import type { ReactNode } from "react";
import { getIn, type Json, type JsonObject, type Path } from "./json";
import { addValue, formatValue, gridToList, listToGrid, nextValue, removeValue, setValue } from "./listEdit";
import type { FieldInfo } from "./schema";
import { errorsAt, type FieldError } from "./validate";
import { ValueInput } from "./ValueInput";

/** What every control needs: the spec, its errors, and how to change one value. */
export interface Edit {
  spec: JsonObject;
  errors: readonly FieldError[];
  set: (path: Path, value: Json | undefined) => void;
}

export function fieldId(path: Path): string {
  return `spec-${path.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, "_")).join("-")}`;
}

export function ErrorText({ id, errors }: { id: string; errors: readonly FieldError[] }) {
  if (errors.length === 0) return null;
  return (
    <span id={id} className="bfield-error">
      {errors.map((e) => (
        <span key={e.message} className="block">
          <code>{e.path}</code>: {e.message}
        </span>
      ))}
    </span>
  );
}

/** aria attributes of a control with these errors (and an optional hint). */
export function described(id: string, errors: readonly FieldError[], hint?: string | null) {
  const ids = [errors.length ? `${id}-error` : null, hint ? `${id}-hint` : null].filter(Boolean).join(" ");
  return { "aria-invalid": errors.length ? true : undefined, "aria-describedby": ids || undefined };
}

function defaultHint(field: FieldInfo): string | null {
  if (field.default === undefined) return field.required ? null : "optional";
  return field.default === null ? "default: not set" : `default: ${formatValue(field.default)}`;
}

/** A field of one value: a checkbox, a select or a text input, with its label and errors. */
interface SingleProps {
  edit: Edit;
  path: Path;
  field: FieldInfo;
  label: ReactNode;
  className?: string;
}

export function SingleField({ edit, path, field, label, className = "" }: SingleProps) {
  const id = fieldId(path);
  const errors = errorsAt(edit.errors, path);
  const value = getIn(edit.spec, path);
  const hint = field.description;
  const aria = described(id, errors, hint);
  if (field.scalar === "boolean") {
    const checked = typeof value === "boolean" ? value : field.default === true;
    return (
      <div className={`bfield bfield-check ${className}`}>
        <label className="inline">
          <input id={id} type="checkbox" checked={checked} onChange={(e) => edit.set(path, e.target.checked)} {...aria} />
          {label}
        </label>
        {hint ? <span id={`${id}-hint`} className="bhint">{hint}</span> : null}
        <ErrorText id={`${id}-error`} errors={errors} />
      </div>
    );
  }
  const placeholder = defaultHint(field) ?? undefined;
  return (
    <div className={`bfield ${className}`}>
      <label htmlFor={id}>{label}</label>
      <ValueInput
        id={id}
        value={value}
        field={field}
        emptyRemoves={!field.required}
        onValue={(v) => edit.set(path, v)}
        aria={aria}
        placeholder={placeholder}
        blankLabel={field.options && !field.required ? (placeholder ?? "not set") : undefined}
      />
      {hint ? <span id={`${id}-hint`} className="bhint">{hint}</span> : null}
      <ErrorText id={`${id}-error`} errors={errors} />
    </div>
  );
}

/** A field that takes a value or a list of values (a grid dimension), or a list: one input per
 * value, each removable, and "Add value to …". `name` names the group and its controls. */
export function ListField({ edit, path, field, prefix = "" }: { edit: Edit; path: Path; field: FieldInfo; prefix?: string }) {
  const name = `${prefix}${field.key}`;
  const id = fieldId(path);
  const values = gridToList(getIn(edit.spec, path));
  const own = errorsAt(edit.errors, path);
  const write = (next: Json[]) => edit.set(path, listToGrid(next, field.shape));
  const hint =
    values.length > 0 ? null : field.default === undefined || field.default === null ? "Not set." : `Default: ${formatValue(field.default)}.`;
  return (
    <fieldset className="blist" aria-describedby={described(id, own, hint)["aria-describedby"]}>
      <legend>
        {prefix ? <span className="visually-hidden">{prefix}</span> : null}
        {field.key}
      </legend>
      {values.map((value, i) => {
        const itemId = `${id}-${i}`;
        const errors = errorsAt(edit.errors, [...path, i]);
        return (
          <span key={i} className="blist-item">
            <ValueInput id={itemId} label={`${name} value ${i + 1}`} value={value} field={field} emptyRemoves={false} onValue={(v) => write(setValue(values, i, v ?? ""))} aria={described(itemId, errors)} />
            <button type="button" className="blist-remove" onClick={() => write(removeValue(values, i))}>
              <span aria-hidden="true">✕</span>
              <span className="visually-hidden">Remove value {i + 1} from {name}</span>
            </button>
            <ErrorText id={`${itemId}-error`} errors={errors} />
          </span>
        );
      })}
      <button type="button" className="blist-add" onClick={() => write(addValue(values, nextValue(field, values)))}>
        Add value<span className="visually-hidden"> to {name}</span>
      </button>
      {hint ? <span id={`${id}-hint`} className="bhint">{hint}</span> : null}
      <ErrorText id={`${id}-error`} errors={own} />
    </fieldset>
  );
}

/** The right control for a schema field; `prefix` ("Backend 1 ") keeps names unique. */
export function Field({ edit, path, field, prefix = "" }: { edit: Edit; path: Path; field: FieldInfo; prefix?: string }) {
  if (field.shape !== "single") return <ListField edit={edit} path={path} field={field} prefix={prefix} />;
  const label = prefix ? (
    <>
      <span className="visually-hidden">{prefix}</span>
      {field.key}
    </>
  ) : (
    field.key
  );
  return <SingleField edit={edit} path={path} field={field} label={label} />;
}
