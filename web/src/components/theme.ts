/** Light, dark, or the system's choice; kept in localStorage, applied as <html data-theme>. */
import { useEffect, useState } from "react";

export type Theme = "system" | "light" | "dark";
const KEY = "llem-theme";
const ORDER: Theme[] = ["system", "light", "dark"];

function stored(): Theme {
  try {
    const value = window.localStorage.getItem(KEY);
    return value === "light" || value === "dark" ? value : "system";
  } catch {
    return "system";
  }
}

export function applyTheme(theme: Theme): void {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

export function isDark(): boolean {
  const explicit = document.documentElement.dataset.theme;
  if (explicit) return explicit === "dark";
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(stored);
  useEffect(() => {
    applyTheme(theme);
    try {
      if (theme === "system") window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, theme);
    } catch {
      // private mode: the choice lasts for this page only
    }
    window.dispatchEvent(new Event("llem-theme"));
  }, [theme]);
  const next = () => setTheme((t) => ORDER[(ORDER.indexOf(t) + 1) % ORDER.length] ?? "system");
  return [theme, next];
}

/** Re-render when the effective theme changes (charts read their colours from CSS). */
export function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((v) => v + 1);
    const media = window.matchMedia?.("(prefers-color-scheme: dark)");
    window.addEventListener("llem-theme", bump);
    media?.addEventListener("change", bump);
    return () => {
      window.removeEventListener("llem-theme", bump);
      media?.removeEventListener("change", bump);
    };
  }, []);
  return version;
}

/** A CSS custom property's value (the charts' colours follow the theme). */
export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
