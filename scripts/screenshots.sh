#!/usr/bin/env bash
# Refreshes docs/img's dashboard screenshots: runs the demo into a temporary
# data directory, serves it in dev mode on a free 127.0.0.1 port, photographs the
# pages with headless Chromium (e2e/screenshots.mjs), then stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/journeylab" ./cmd/journeylab
"$dir/journeylab" demo --data-dir "$dir/data" --quiet >/dev/null
"$dir/journeylab" serve --data-dir "$dir/data" --dev-mode --listen 127.0.0.1:0 --log-format text 2>"$dir/serve.log" &
pid=$!
url=
for _ in $(seq 50); do
  url=$(sed -n 's/.*msg="journeylab listening" addr=\(http:[^ ]*\).*/\1/p' "$dir/serve.log")
  [ -n "$url" ] && break
  sleep 0.2
done
[ -n "$url" ] || { cat "$dir/serve.log" >&2; exit 1; }
JOURNEYLAB_URL=$url node e2e/screenshots.mjs
echo "updated docs/img/dashboard-{report,breakdown,form,metric-form,journey,journey-map}.png"
