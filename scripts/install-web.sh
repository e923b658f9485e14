#!/usr/bin/env bash
# The web app's tools: Node.js + npm (Debian's, if missing), the packages of web/package-lock.json
# (npm ci, skipped while node_modules matches the lock), and Debian's Chromium for the browser tests
# (Playwright cannot download its own browser here). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[install-web] apt-get install ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error(`[install-web] Node ${process.versions.node} is too old: Vite 8 needs 20.19+`); process.exit(1) }'
cd web
# npm ci wipes node_modules: skip it while node_modules was installed from this very lock file
stamp=node_modules/.llem-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[install-web] npm ci" >&2
  npm ci --no-audit --no-fund >&2
  echo "$want" >"$stamp"
fi
