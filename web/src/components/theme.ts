/** Light, dark, or the system's choice; kept in localStorage, applied as <html data-theme>. */
import { useEffect, useMemo, useState } from "react";

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

const DARK = "(prefers-color-scheme: dark)";

/** <html data-theme> is always the theme in effect ("system" resolved), so CSS has one dark block. */
export function applyTheme(theme: Theme): void {
  const systemDark = window.matchMedia?.(DARK).matches ?? false;
  document.documentElement.dataset.theme = theme === "system" ? (systemDark ? "dark" : "light") : theme;
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(stored);
  useEffect(() => {
    applyTheme(theme);
    const media = window.matchMedia?.(DARK);
    const follow = () => {
      applyTheme(theme);
      window.dispatchEvent(new Event("llem-theme"));
    };
    if (theme === "system") media?.addEventListener("change", follow);
    try {
      if (theme === "system") window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, theme);
    } catch {
      // private mode: the choice lasts for this page only
    }
    window.dispatchEvent(new Event("llem-theme"));
    return () => media?.removeEventListener("change", follow);
  }, [theme]);
  const next = () => setTheme((t) => ORDER[(ORDER.indexOf(t) + 1) % ORDER.length] ?? "system");
  return [theme, next];
}

/** Re-render when the effective theme changes (charts read their colours from CSS). */
export function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((v) => v + 1);
    window.addEventListener("llem-theme", bump);
    return () => window.removeEventListener("llem-theme", bump);
  }, []);
  return version;
}

/**
 * Custom properties read once per theme, not per draw: reading computed style in a draw forces a
 * style recalculation in the middle of every update (10 ms per leaderboard change, profiled).
 */
export function usePalette<K extends string>(fallbacks: Record<K, string>): Record<K, string> {
  const version = useThemeVersion();
  // `fallbacks` is a module constant: the palette changes with the theme only
  return useMemo(() => {
    void version; // recomputed when the theme changes
    const style = getComputedStyle(document.documentElement);
    const out = {} as Record<K, string>;
    for (const name of Object.keys(fallbacks) as K[]) out[name] = style.getPropertyValue(name).trim() || fallbacks[name];
    return out;
  }, [version, fallbacks]);
}
