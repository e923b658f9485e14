/** The preview: how many jobs a submit would queue, every configuration, and what was pruned. */
import { useMemo } from "react";
import { ApiError } from "../api/client";
import { SECTIONS, describeDropped, jobsText, kindOf, settingsOf, varyingKeys, type CampaignPreview, type Combination, type Setting } from "./preview";

function Settings({ settings }: { settings: Setting[] }) {
  if (settings.length === 0) return <span className="muted">defaults</span>;
  return (
    <ul className="bsettings">
      {settings.map((s) => (
        <li key={s.key} className={s.varies ? "varies" : undefined}>
          {s.key} <code>{s.value}</code>
        </li>
      ))}
    </ul>
  );
}

function Result({ preview }: { preview: CampaignPreview }) {
  // what varies among the configurations (bold in the table), and among the pruned combinations (named in the list)
  const varying = useMemo(() => varyingKeys(preview.configurations), [preview]);
  const varyingDropped = useMemo(
    () => new Set([...varying, ...varyingKeys(preview.dropped.map((d) => d.config as Combination))]),
    [preview, varying],
  );
  return (
    <>
      <p className="bjobs">
        <strong data-testid="preview-job-count">{jobsText(preview.job_count)}</strong> in{" "}
        {preview.configurations.length} configuration{preview.configurations.length === 1 ? "" : "s"}
        {preview.dropped.length ? `, ${preview.dropped.length} combination${preview.dropped.length === 1 ? "" : "s"} pruned` : ""}.{" "}
        <span className="muted">Settings in bold vary across the grid; settings at their defaults are not shown.</span>
      </p>
      {preview.configurations.length ? (
        <div className="table-scroll" role="region" aria-label="Configurations" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Pool</th>
                <th scope="col">Model</th>
                <th scope="col">Backend</th>
                <th scope="col">Workload</th>
                <th scope="col">Protocol</th>
                <th scope="col" className="num">Jobs</th>
              </tr>
            </thead>
            <tbody>
              {preview.configurations.map((c) => (
                <tr key={c.config_id}>
                  <td>{c.pool}</td>
                  <th scope="row">{c.model_name ?? "—"}</th>
                  <td>
                    <code>{kindOf(c)}</code>
                    <Settings settings={settingsOf(c, "backend", varying)} />
                  </td>
                  {SECTIONS.slice(1).map((section) => (
                    <td key={section}>
                      <Settings settings={settingsOf(c, section, varying)} />
                    </td>
                  ))}
                  <td className="num">{c.jobs}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <h3>Pruned combinations</h3>
      {preview.dropped.length ? (
        <ul className="bdropped">
          {preview.dropped.map((d, i) => (
            <li key={i}>
              {describeDropped(d, varyingDropped)}: <span className="bdropped-reason">{d.reason}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">None: every combination of the grid can run.</p>
      )}
    </>
  );
}

interface Props {
  preview: CampaignPreview | undefined;
  error: unknown;
  loading: boolean;
  current: boolean;
  onPreview: () => void;
}

export function PreviewPanel({ preview, error, loading, current, onPreview }: Props) {
  return (
    <section className="bsection bpreview" aria-labelledby="builder-preview" aria-busy={loading || undefined}>
      <div className="section-head">
        <h2 id="builder-preview">What it would queue</h2>
        <button type="button" onClick={onPreview}>
          Preview
        </button>
      </div>
      <p className="muted">
        Expanded by the scheduler's own code on the server, nothing is queued; updates by itself while the spec is valid.
        {loading ? " Updating…" : !current && preview ? " This preview is of an earlier version of the spec." : ""}
      </p>
      {error ? (
        <div className="notice notice-error" role="alert">
          <p>
            {error instanceof ApiError
              ? `The API refused the spec (${error.status}): ${error.problem?.detail ?? error.message}`
              : `No preview: the API is not answering (${error instanceof Error ? error.message : String(error)}).`}
          </p>
        </div>
      ) : null}
      {preview ? <Result preview={preview} /> : null}
    </section>
  );
}
