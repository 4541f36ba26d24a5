#!/usr/bin/env bash
# Checks the dashboard's JavaScript (web/static/js): every file starts with
# // @ts-check, ESLint's recommended rules pass and TypeScript's checkJs
# finds no type error. The tools are pinned in web/tools/package-lock.json
# and installed there with `npm ci` when missing.
set -euo pipefail
cd "$(dirname "$0")/../web/tools"
if [ ! -x node_modules/.bin/eslint ] || [ ! -x node_modules/.bin/tsc ]; then
  command -v npm >/dev/null || { echo "lint-js: npm not found (install node and npm: apt-get install -y nodejs npm)" >&2; exit 1; }
  npm ci --no-audit --no-fund --loglevel=error
fi
missing=$(cd ../static/js && for f in $(find . -name '*.js' | sort); do [ "$(head -n1 "$f")" = "// @ts-check" ] || echo "$f"; done)
if [ -n "$missing" ]; then
  echo "lint-js: these dashboard files lack // @ts-check on their first line:" >&2
  echo "$missing" >&2
  exit 1
fi
npm run --silent lint
