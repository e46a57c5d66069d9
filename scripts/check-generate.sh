#!/usr/bin/env bash
# Regenerates every generated file (make generate) and fails if any of them changed:
# generated code is never edited by hand, and what is committed is what the
# generators produce.
set -euo pipefail
cd "$(dirname "$0")/.."
list() { grep -rl --include='*.s' --include='*.go' -e '^// Code generated .* DO NOT EDIT\.$' kernels | sort; }
before=$(mktemp); after=$(mktemp); trap 'rm -f "$before" "$after"' EXIT
list | xargs -r md5sum >"$before"
(cd asm && go generate ./...)
list | xargs -r md5sum >"$after"
if ! diff -u "$before" "$after"; then
  echo "check-generate: regenerating changed the files above; run 'make generate' and commit the result" >&2
  exit 1
fi
echo "check-generate: $(wc -l <"$after") generated files reproduce exactly"
