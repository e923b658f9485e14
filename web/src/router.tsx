/**
 * A small router: the location as an external store (history API when served by the API, the hash
 * on a static site), `navigate`, and `<Link>`. Every page reads its state from the URL, so a copied
 * link reopens the same view.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from "react";
import { MODE, type SiteMode } from "./mode";

export interface Place {
  path: string;
  params: URLSearchParams;
  /** path + search, as `navigate` takes it */
  href: string;
}

export function parsePlace(href: string): Place {
  const [rawPath = "/", search = ""] = href.split("?", 2);
  const path = `/${rawPath.replace(/^\/+/, "")}`.replace(/(.)\/+$/, "$1");
  const params = new URLSearchParams(search);
  const query = params.toString();
  return { path, params, href: query ? `${path}?${query}` : path };
}

function currentHref(mode: SiteMode): string {
  if (mode === "static") return window.location.hash.replace(/^#/, "") || "/";
  return window.location.pathname + window.location.search;
}

let cached: Place | null = null;
function snapshot(): Place {
  const href = currentHref(MODE);
  if (cached === null || cached.href !== parsePlace(href).href) cached = parsePlace(href);
  return cached;
}

const listeners = new Set<() => void>();
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  window.addEventListener("hashchange", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
    window.removeEventListener("hashchange", listener);
  };
}

/** The href to put in an <a> for an app path. */
export function hrefFor(to: string, mode: SiteMode = MODE): string {
  return mode === "static" ? `#${to}` : to;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = hrefFor(parsePlace(to).href);
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  if (!options.replace) window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

export function usePlace(): Place {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { to: string; children: ReactNode };

export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    const modified = event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
    if (event.defaultPrevented || event.button !== 0 || modified) return; // new tab etc.: the browser's
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={hrefFor(to)} onClick={follow} {...rest}>
      {children}
    </a>
  );
}
