#!/usr/bin/env bash
# Checks every NEON instruction that asm/neon emits as a WORD (Go's arm64 assembler
# cannot spell them) with an independent disassembler, Debian's
# aarch64-linux-gnu-objdump (binutils-aarch64-linux-gnu):
#   - TestEncodingsDisassemble sweeps every encoding function over all register
#     numbers and lane indexes and disassembles the raw words;
#   - TestEmittedWordsDisassemble cross-compiles the kernels test binary for arm64,
#     disassembles it, and checks that each WORD of the committed kernels/*_arm64.s is
#     in its function and disassembles to exactly the instruction in its comment.
# Without objdump it prints SKIP and exits 0, except under CI=true (a failure).
set -euo pipefail
cd "$(dirname "$0")/../asm"
if ! command -v aarch64-linux-gnu-objdump >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "check-neon-encodings: FAIL: aarch64-linux-gnu-objdump not found and CI=true (apt-get install binutils-aarch64-linux-gnu)" >&2
    exit 1
  fi
  echo "check-neon-encodings: SKIP: aarch64-linux-gnu-objdump not installed (apt-get install binutils-aarch64-linux-gnu); the NEON WORD encodings were not checked"
  exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! go test -count=1 -v -run '^(TestEncodingsDisassemble|TestEmittedWordsDisassemble)$' ./neon/ >"$log" 2>&1; then
  sed 's/^/check-neon-encodings: /' "$log" >&2
  exit 1
fi
grep -E '(encode|words)_test\.go|^ok' "$log" | sed 's/^ */check-neon-encodings: /'
