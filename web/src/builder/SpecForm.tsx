/** The form view of the spec: its own fields, pools, models, backends, workload and protocol. */
import { BackendsEditor } from "./BackendsEditor";
import { ObjectList } from "./ObjectList";
import { ErrorText, Field, SingleField, described, fieldId, type Edit } from "./fields";
import { ValueInput } from "./ValueInput";
import { getIn, type Path } from "./json";
import { MODEL_FIELDS, POOL_FIELDS, PROTOCOL_FIELDS, TOP_FIELDS, WORKLOAD_FIELDS } from "./schema";
import { errorsAt } from "./validate";

/** The name of a pool or a model, labelled "Pool 1" / "Model 1". */
function NameInput({ edit, path, label }: { edit: Edit; path: Path; label: string }) {
  const id = fieldId(path);
  const errors = errorsAt(edit.errors, path);
  return (
    <div className="bfield">
      <label htmlFor={id}>{label}</label>
      <ValueInput id={id} value={getIn(edit.spec, path)} field={{ scalar: "string", options: null }} emptyRemoves={false} onValue={(v) => edit.set(path, v)} aria={described(id, errors)} />
      <ErrorText id={`${id}-error`} errors={errors} />
    </div>
  );
}

function Fields({ edit, path, fields, prefix }: { edit: Edit; path: Path; fields: typeof POOL_FIELDS; prefix?: string }) {
  return (
    <>
      {fields.map((f) => (
        <Field key={f.key} edit={edit} path={[...path, f.key]} field={f} prefix={prefix} />
      ))}
    </>
  );
}

/** A section of grid fields (workload, protocol): every field a value or a list of values. */
function GridSection({ edit, path, fields, title, lede }: { edit: Edit; path: Path; fields: typeof POOL_FIELDS; title: string; lede: string }) {
  const unknown = errorsAt(edit.errors, path, false).filter((e) => !fields.some((f) => e.path.startsWith(`${path.join(".")}.${f.key}`)));
  return (
    <section className="bsection" aria-labelledby={`${fieldId(path)}-title`}>
      <h2 id={`${fieldId(path)}-title`}>{title}</h2>
      <p className="muted">{lede}</p>
      <div className="bgrid">
        <Fields edit={edit} path={path} fields={fields} />
      </div>
      <ErrorText id={`${fieldId(path)}-error`} errors={unknown} />
    </section>
  );
}

export function SpecForm({ edit }: { edit: Edit }) {
  return (
    <div className="bform">
      <section className="bsection" aria-label="Campaign">
        <div className="bgrid">
          {TOP_FIELDS.map((f) => (
            <SingleField key={f.key} edit={edit} path={[f.key]} field={f} label={f.title} className={f.key === "description" ? "bfield-wide" : ""} />
          ))}
        </div>
      </section>
      <ObjectList edit={edit} path={["pools"]} noun="pool" title="Pools" make={() => ({ name: "" })}>
        {(p, label) => (
          <>
            <NameInput edit={edit} path={[...p, "name"]} label={label} />
            <Fields edit={edit} path={p} fields={POOL_FIELDS.filter((f) => f.key !== "name")} prefix={`${label} `} />
          </>
        )}
      </ObjectList>
      <ObjectList edit={edit} path={["models"]} noun="model" title="Models" make={() => ({ name: "" })}>
        {(p, label) => (
          <>
            <NameInput edit={edit} path={[...p, "name"]} label={label} />
            <Fields edit={edit} path={p} fields={MODEL_FIELDS.filter((f) => f.key !== "name")} prefix={`${label} `} />
          </>
        )}
      </ObjectList>
      <BackendsEditor edit={edit} />
      <GridSection edit={edit} path={["workload"]} fields={WORKLOAD_FIELDS} title="Workload" lede="Each value or list of values; every list is a dimension of the grid." />
      <GridSection edit={edit} path={["protocol"]} fields={PROTOCOL_FIELDS} title="Protocol" lede="How each run is measured: overrides of the measurement protocol; a list is a grid dimension." />
    </div>
  );
}
