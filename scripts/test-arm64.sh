#!/usr/bin/env bash
# Runs the arm64 tests on this x86 machine: checks the NEON WORD encodings
# (check-neon-encodings.sh), then cross-compiles the test binaries of the packages
# below for linux/arm64 and runs them under Debian's qemu-aarch64-static, with -short
# (emulation is 10-50x slower). For each package it prints the result and the kernel
# backends its tests ran on; last, the dispatch tests of the purego and noasm builds.
# The MNIST files for the arm64 training test
# (mlp/train_arm64_test.go) are fetched on the host first, since the go command
# cannot run inside the emulated test, and passed in SIMDMLP_MNIST_DIR.
#
# Without qemu-aarch64-static it prints SKIP and exits 0, except under CI=true, where
# a missing qemu is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v qemu-aarch64-static >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "test-arm64: FAIL: qemu-aarch64-static not found and CI=true (apt-get install qemu-user-static)" >&2
    exit 1
  fi
  echo "test-arm64: SKIP: qemu-aarch64-static not installed (apt-get install qemu-user-static); the arm64 tests did not run"
  exit 0
fi

scripts/check-neon-encodings.sh

if dir=$(go run ./cmd/simdmlp data 2>/dev/null | sed -n 's/^data: //p' | head -n 1) && [ -n "$dir" ]; then
  export SIMDMLP_MNIST_DIR="$dir"
else
  echo "test-arm64: could not fetch MNIST (go run ./cmd/simdmlp data); the arm64 training test will skip, or fail under CI=true"
fi

packages=(./kernels/ ./idx/... ./mlp/)
status=0
total=$SECONDS
for pkg in "${packages[@]}"; do
  log=$(mktemp)
  start=$SECONDS
  if GOARCH=arm64 go test -count=1 -short -v -exec qemu-aarch64-static "$pkg" >"$log" 2>&1; then
    result=ok
  else
    result=FAIL
    status=1
  fi
  # Backends named by the tests' logs ("backend neon") and subtests (TestX/neon).
  backends=$({ grep -oE 'backend (generic|neon|avx2|avx512)\b' "$log" | awk '{print $2}'
    grep -oE '^=== RUN +[^ ]+/(generic|neon|avx2|avx512)$' "$log" | sed 's|.*/||'; } | sort -u | paste -sd, - || true)
  echo "test-arm64: $result $pkg: linux/arm64 under qemu-aarch64-static, -short, $((SECONDS - start)) s; kernel backends tested: ${backends:-none (no kernel calls)}"
  grep -E '^(ok|FAIL)[[:space:]]' "$log" | sed 's/^/  /' || true
  # Each skipped test with its reason (the line go test prints just before "--- SKIP").
  awk '/--- SKIP: /{sub(/^ *--- SKIP: /, ""); sub(/^ +/, "", prev); print "  skipped: " $1 ": " prev} {prev=$0}' "$log"
  if [ "$result" = FAIL ]; then
    grep -E -- '--- FAIL|^panic:|_test\.go:[0-9]+:' "$log" | head -n 60 | sed 's/^/  /'
  fi
  rm -f "$log"
done
# The pure-Go builds: generic only, and neon refused by name (the rest of their suite
# is the generic backend's, run above).
for tags in purego noasm; do
  if out=$(GOARCH=arm64 go test -count=1 -short -tags "$tags" -exec qemu-aarch64-static -run 'Dispatch|Backend' ./kernels/ 2>&1); then
    echo "test-arm64: ok ./kernels/ -tags $tags: dispatch tests, linux/arm64 under qemu-aarch64-static; kernel backends: generic only"
  else
    echo "test-arm64: FAIL ./kernels/ -tags $tags: dispatch tests"
    echo "$out" | sed 's/^/  /'
    status=1
  fi
done
echo "test-arm64: $([ $status = 0 ] && echo PASS || echo FAIL) in $((SECONDS - total)) s"
exit $status
