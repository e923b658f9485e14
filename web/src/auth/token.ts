/**
 * The bearer token of a signed-in user (a `campaigns:write` token from `llem-api token create`),
 * entered once and kept in this tab's session storage: it is gone when the tab closes, and never
 * written to local storage, a cookie or a URL.
 */
import { useSyncExternalStore } from "react";

const KEY = "llem.token";
const listeners = new Set<() => void>();

function read(): string | null {
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the user enters it again
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) window.sessionStorage.setItem(KEY, token.trim());
    else window.sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled: nothing kept */
  }
  for (const listener of listeners) listener();
}

export function getToken(): string | null {
  return read();
}

/** The `Authorization` header of a write, or none when not signed in. */
export function authHeaders(): Record<string, string> {
  const token = read();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export function useToken(): string | null {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    read,
    () => null,
  );
}
