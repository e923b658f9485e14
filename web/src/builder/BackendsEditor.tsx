/** The backends: a kind each (llama_cpp, openai, vllm) and that kind's fields from the schema. */
import { ErrorText, Field, described, fieldId, type Edit } from "./fields";
import { getIn, type Path } from "./json";
import { BACKEND_KINDS, BACKEND_KIND_KEY, changeKind } from "./schema";
import { ObjectList } from "./ObjectList";
import { backendKind, errorsAt } from "./validate";

function KindSelect({ edit, path, label }: { edit: Edit; path: Path; label: string }) {
  const kindPath = [...path, BACKEND_KIND_KEY];
  const id = fieldId(kindPath);
  const errors = errorsAt(edit.errors, kindPath);
  const raw = getIn(edit.spec, kindPath);
  const value = typeof raw === "string" ? raw : "";
  return (
    <div className="bfield">
      <label htmlFor={id}>
        <span className="visually-hidden">{label} </span>
        {BACKEND_KIND_KEY}
      </label>
      <select id={id} value={value} onChange={(e) => edit.set(path, changeKind(getIn(edit.spec, path), e.target.value))} {...described(id, errors)}>
        {value in BACKEND_KINDS ? null : <option value={value}>{value || "choose…"}</option>}
        {Object.keys(BACKEND_KINDS).map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
      <ErrorText id={`${id}-error`} errors={errors} />
    </div>
  );
}

export function BackendsEditor({ edit }: { edit: Edit }) {
  const first = Object.keys(BACKEND_KINDS)[0] ?? "llama_cpp";
  return (
    <ObjectList edit={edit} path={["backends"]} noun="backend" title="Backends" make={() => ({ [BACKEND_KIND_KEY]: first })}>
      {(p, label) => {
        const kind = backendKind(getIn(edit.spec, p));
        const fields = kind ? (BACKEND_KINDS[kind] ?? []) : [];
        return (
          <>
            <span className="bitem-title" aria-hidden="true">
              {label}
            </span>
            <KindSelect edit={edit} path={p} label={label} />
            {fields.map((f) => (
              <Field key={f.key} edit={edit} path={[...p, f.key]} field={f} prefix={`${label} `} />
            ))}
          </>
        );
      }}
    </ObjectList>
  );
}
