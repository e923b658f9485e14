/**
 * The preview (what a submit would queue, expanded by the scheduler's own code on the server) and
 * the submit, as hooks; and how a configuration or a pruned combination is shown: the settings
 * that vary across the grid, and those away from their defaults.
 */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, unwrap, Unreachable } from "../api/client";
import type { components } from "../api/schema";
import { authHeaders } from "../auth/token";
import { canonical, isObject, type Json, type JsonObject } from "./json";
import { backendJobDefaults, jobDefaults } from "./schema";

export type CampaignPreview = components["schemas"]["CampaignPreview"];
export type PreviewConfiguration = components["schemas"]["PreviewConfiguration"];
export type Dropped = components["schemas"]["DroppedOut"];
export type Submitted = components["schemas"]["SubmittedOut"];

export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export interface PreviewResult {
  /** canonical JSON of the spec this preview is of */
  of: string;
  preview: CampaignPreview;
}

/**
 * The preview of `spec`: automatically once the spec is valid and has not changed for a moment,
 * or on `request()` (the Preview button, valid or not: the server says what is wrong). The last
 * preview stays shown while a new one loads; `current` says whether it is of the spec as it is.
 */
export function usePreview(spec: JsonObject, valid: boolean) {
  const json = canonical(spec);
  const auto = useDebounced(valid ? json : null, 600);
  const [asked, setAsked] = useState<string | null>(null);
  const target = asked === json ? json : auto === json ? auto : null;
  const query = useQuery({
    queryKey: ["campaign-preview", target],
    enabled: target !== null,
    queryFn: async (): Promise<PreviewResult> => {
      const body = JSON.parse(target ?? "{}") as Record<string, unknown>;
      const preview = await unwrap(api.POST("/api/campaigns/preview", { body }));
      return { of: target ?? "", preview };
    },
    retry: (failures, error) => error instanceof Unreachable && failures < 2,
    placeholderData: (previous) => previous,
    staleTime: 60_000,
  });
  const request = () => {
    if (target === json) void query.refetch();
    else setAsked(json);
  };
  const current = query.data?.of === json;
  return { query, request, current, pending: target === null && valid };
}

export function useSubmit() {
  return useMutation({
    mutationFn: (spec: JsonObject): Promise<Submitted> =>
      unwrap(api.POST("/api/campaigns", { body: spec, headers: authHeaders() })),
  });
}

type Section = "backend" | "workload" | "protocol";
export const SECTIONS: readonly Section[] = ["backend", "workload", "protocol"];

/** A combination as the server describes one (a configuration or a pruned one). */
export interface Combination {
  pool?: unknown;
  model_name?: unknown;
  backend?: unknown;
  workload?: unknown;
  protocol?: unknown;
}

function sectionOf(combo: Combination, section: Section): JsonObject {
  const value = combo[section];
  return isObject(value) ? value : {};
}

/** `backend.n_ctx`, `workload.max_output_tokens`, …: the settings whose values differ between
 * the combinations (the grid's dimensions, as expanded). */
export function varyingKeys(combos: readonly Combination[]): Set<string> {
  const seen = new Map<string, Set<string>>();
  for (const combo of combos) {
    for (const section of SECTIONS) {
      for (const [key, value] of Object.entries(sectionOf(combo, section))) {
        const id = `${section}.${key}`;
        seen.set(id, (seen.get(id) ?? new Set()).add(canonical(value)));
      }
    }
  }
  // a key some combinations lack also varies
  return new Set(
    [...seen.entries()]
      .filter(([id, values]) => {
        const [section, key] = id.split(".") as [Section, string];
        return values.size > 1 || combos.some((c) => !(key in sectionOf(c, section)));
      })
      .map(([id]) => id),
  );
}

function defaultsOf(combo: Combination, section: Section): Record<string, Json> {
  if (section === "workload") return jobDefaults("Workload");
  if (section === "protocol") return jobDefaults("MeasurementProtocol");
  const kind = sectionOf(combo, "backend").kind;
  return typeof kind === "string" ? backendJobDefaults(kind) : {};
}

export interface Setting {
  key: string;
  value: string;
  varies: boolean;
}

function show(value: Json): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The settings of one section worth showing: those that vary across the combinations, then
 * those away from the schema's default (the rest are at their defaults). `kind` is shown apart. */
export function settingsOf(combo: Combination, section: Section, varying: Set<string>, all = false): Setting[] {
  const defaults = defaultsOf(combo, section);
  const entries = Object.entries(sectionOf(combo, section)).filter(([key]) => !(section === "backend" && key === "kind"));
  const settings = entries.flatMap(([key, value]) => {
    const varies = varying.has(`${section}.${key}`);
    const atDefault = key in defaults && canonical(defaults[key]) === canonical(value);
    if (!all && !varies && (atDefault || value === null)) return [];
    return [{ key, value: show(value), varies }];
  });
  return [...settings.filter((s) => s.varies), ...settings.filter((s) => !s.varies)];
}

export function kindOf(combo: Combination): string {
  const kind = sectionOf(combo, "backend").kind;
  return typeof kind === "string" ? kind : "?";
}

/** "default / tiny-random / llama_cpp": where a combination runs. */
export function whereOf(combo: Combination): string {
  const model = typeof combo.model_name === "string" ? combo.model_name : "?";
  return `${String(combo.pool ?? "?")} / ${model} / ${kindOf(combo)}`;
}

/** A pruned combination in words: where, and the settings that tell it apart. */
export function describeDropped(dropped: Dropped, varying: Set<string>): string {
  const combo = dropped.config as Combination;
  const parts = SECTIONS.flatMap((section) =>
    settingsOf(combo, section, varying)
      .filter((s) => s.varies)
      .map((s) => `${s.key} ${s.value}`),
  );
  return parts.length ? `${whereOf(combo)} · ${parts.join(" · ")}` : whereOf(combo);
}

export function jobsText(n: number): string {
  return `${n} ${n === 1 ? "job" : "jobs"}`;
}
