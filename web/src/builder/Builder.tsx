/**
 * The campaign builder (/campaigns/new): one spec, edited as a form or as YAML (both views of the
 * same object), checked in the browser against the campaign JSON Schema, previewed by the server
 * (jobs, configurations, pruned combinations) and submitted by a signed-in user. Loaded on demand
 * by BuilderPage (YAML and the validator stay out of the other pages' bundle).
 */
import { useEffect, useMemo, useReducer, useState, type KeyboardEvent } from "react";
import { DEFAULT_SPEC, EXAMPLES } from "./defaults";
import type { Edit } from "./fields";
import { PreviewPanel } from "./PreviewPanel";
import { usePreview } from "./preview";
import { SpecForm } from "./SpecForm";
import { builderReducer, initialState } from "./state";
import { SubmitPanel } from "./SubmitPanel";
import { validateSpec } from "./validate";
import { specToYaml } from "./yaml";
import { YamlEditor } from "./YamlEditor";

const VIEWS = [
  { id: "form", label: "Form" },
  { id: "yaml", label: "YAML" },
] as const;
type View = (typeof VIEWS)[number]["id"];

function ViewTabs({ view, onView }: { view: View; onView: (view: View) => void }) {
  const onKey = (event: KeyboardEvent) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const next = VIEWS[(VIEWS.findIndex((v) => v.id === view) + 1) % VIEWS.length];
    if (!next) return;
    onView(next.id);
    document.getElementById(`builder-tab-${next.id}`)?.focus();
  };
  return (
    <div role="tablist" aria-label="Edit the spec as" className="btabs" onKeyDown={onKey}>
      {VIEWS.map((v) => (
        <button
          key={v.id}
          id={`builder-tab-${v.id}`}
          type="button"
          role="tab"
          aria-selected={view === v.id}
          aria-controls="builder-panel"
          tabIndex={view === v.id ? 0 : -1}
          onClick={() => onView(v.id)}
        >
          {v.label}
        </button>
      ))}
    </div>
  );
}

function ExamplePicker({ onLoad }: { onLoad: (yaml: string) => void }) {
  const [choice, setChoice] = useState("");
  const options = [{ name: "default", yaml: specToYaml(DEFAULT_SPEC) }, ...EXAMPLES];
  const picked = options.find((o) => o.name === choice);
  return (
    <p className="actions">
      <label htmlFor="builder-example">Start from</label>
      <select id="builder-example" value={choice} onChange={(e) => setChoice(e.target.value)}>
        <option value="">choose…</option>
        {options.map((o) => (
          <option key={o.name} value={o.name}>
            {o.name === "default" ? "the default spec" : `examples/${o.name}.yaml`}
          </option>
        ))}
      </select>
      <button type="button" disabled={!picked} onClick={() => picked && onLoad(picked.yaml)}>
        Load
      </button>
    </p>
  );
}

export function Builder() {
  const [state, dispatch] = useReducer(builderReducer, undefined, () => initialState());
  const [view, setView] = useState<View>("form");
  const errors = useMemo(() => validateSpec(state.spec), [state.spec]);
  const edit: Edit = useMemo(
    () => ({ spec: state.spec, errors, set: (path, value) => dispatch({ type: "set", path, value }) }),
    [state.spec, errors],
  );
  const valid = errors.length === 0 && state.parseError === null;
  const preview = usePreview(state.spec, valid);
  useEffect(() => {
    document.title = "New campaign · llem";
  }, []);
  return (
    <>
      <h1>New campaign</h1>
      <p className="lede">
        A campaign is a grid: every list of values is a dimension, times the pools, models, backends and repetitions.
        Edit it as a form or as YAML; the preview shows the jobs it expands to before anything is queued.
      </p>
      <ExamplePicker onLoad={(text) => dispatch({ type: "text", text })} />
      <ViewTabs view={view} onView={setView} />
      <div id="builder-panel" role="tabpanel" aria-labelledby={`builder-tab-${view}`} className="bpanel">
        {view === "form" ? (
          <SpecForm edit={edit} />
        ) : (
          <YamlEditor text={state.text} error={state.parseError} onText={(text) => dispatch({ type: "text", text })} />
        )}
      </div>
      <PreviewPanel
        preview={preview.query.data?.preview}
        error={preview.query.error}
        loading={preview.query.isFetching || preview.pending}
        current={preview.current}
        onPreview={preview.request}
      />
      <SubmitPanel spec={state.spec} errors={errors} parseError={state.parseError} />
    </>
  );
}
