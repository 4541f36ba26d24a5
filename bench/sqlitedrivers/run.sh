#!/usr/bin/env bash
# Runs the driver benchmark once per driver (they cannot share a binary).
set -euo pipefail
cd "$(dirname "$0")"
for tag in modernc ncruces mattn; do
  go test -tags "$tag" -run '^$' -bench . -benchtime "${BENCHTIME:-2s}" -count "${COUNT:-3}"
done
