/** A list of objects in the form (pools, models, backends). */
import type { ReactNode } from "react";
import { ErrorText, fieldId, type Edit } from "./fields";
import { asList, getIn, type Json, type Path } from "./json";
import { errorsAt } from "./validate";

interface ObjectListProps {
  edit: Edit;
  path: Path;
  /** "pool": "Pool 1", "Remove pool 1", "Add pool" */
  noun: string;
  title: string;
  make: () => Json;
  children: (itemPath: Path, label: string) => ReactNode;
}

/** A list of objects (pools, models, backends): one row each, removable, and "Add …". */
export function ObjectList({ edit, path, noun, title, make, children }: ObjectListProps) {
  const items = asList(getIn(edit.spec, path));
  const id = fieldId(path);
  const own = errorsAt(edit.errors, path);
  const Noun = noun.charAt(0).toUpperCase() + noun.slice(1);
  return (
    <section className="bsection" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {items.map((_, i) => {
        const itemPath = [...path, i];
        const label = `${Noun} ${i + 1}`;
        const errors = errorsAt(edit.errors, itemPath);
        return (
          <div key={i} className="bitem" role="group" aria-label={label}>
            {children(itemPath, label)}
            <button type="button" className="bitem-remove" onClick={() => edit.set(itemPath, undefined)}>
              Remove<span className="visually-hidden"> {noun} {i + 1}</span>
            </button>
            <ErrorText id={`${fieldId(itemPath)}-error`} errors={errors} />
          </div>
        );
      })}
      <ErrorText id={`${id}-error`} errors={own} />
      <button type="button" onClick={() => edit.set([...path, items.length], make())}>
        Add {noun}
      </button>
    </section>
  );
}

