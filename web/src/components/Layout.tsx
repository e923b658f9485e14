import type { ReactNode } from "react";
import { BOARD_PATH, MODE } from "../mode";
import { Link, usePlace } from "../router";
import { useTheme } from "./theme";

const NAV = [
  { to: "/", label: "Overview", api: true },
  { to: BOARD_PATH, label: "Leaderboard", api: false },
  { to: "/runs", label: "Runs", api: true },
  { to: "/campaigns", label: "Campaigns", api: true },
  { to: "/campaigns/new", label: "New campaign", api: true },
  { to: "/fleet", label: "Fleet", api: true },
];

export function Layout({ children }: { children: ReactNode }) {
  const place = usePlace();
  const [theme, nextTheme] = useTheme();
  const section = NAV.some((item) => item.to === place.path) ? place.path : `/${place.path.split("/")[1] ?? ""}`;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand" aria-label="llem home">
          <svg aria-hidden="true" viewBox="0 0 32 32" width="24" height="24">
            <rect width="32" height="32" rx="6" fill="var(--accent)" />
            <path d="M18 4 8 18h7l-2 10 11-15h-7z" fill="var(--accent-ink)" />
          </svg>
          llem
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => MODE === "api" || !item.api).map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={section === item.to ? "page" : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="theme" onClick={nextTheme} aria-label={`Colour theme: ${theme}. Change it`}>
          {theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐"} <span className="theme-name">{theme}</span>
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="site-footer">
        <p>
          llem measures the energy of LLM inference on real hardware. Every figure says how it was measured; a value
          that was not measured is shown as “not measured”, never estimated.
          {MODE === "static" ? " This is a static copy of the leaderboard; live pages need the llem API." : ""}
        </p>
      </footer>
    </>
  );
}
