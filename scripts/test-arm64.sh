#!/usr/bin/env bash
# Placeholder until the NEON backend lands: runs the arm64 tests under qemu.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v qemu-aarch64-static >/dev/null; then
  if [ "${CI:-}" = true ]; then echo "test-arm64: qemu-aarch64-static missing under CI=true" >&2; exit 1; fi
  echo "test-arm64: SKIP: qemu-aarch64-static not installed (apt-get install qemu-user-static)"; exit 0
fi
GOARCH=arm64 go test -count=1 -short -exec qemu-aarch64-static ./kernels/ ./idx/
