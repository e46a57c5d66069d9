#!/usr/bin/env bash
# Installs the Debian packages the tests need beyond Go itself:
#   qemu-user-static            runs the arm64 test binaries on x86 (make test-arm64)
#   binutils-aarch64-linux-gnu  its objdump independently checks the NEON encodings
# Uses sudo when not root. Go 1.26 must already be installed (Debian 12's golang
# package is too old; see README).
set -euo pipefail
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to apt-get install" >&2; exit 1; }
  sudo=sudo
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  make git ca-certificates qemu-user-static binutils-aarch64-linux-gnu >/dev/null
echo "setup: installed qemu-user-static $(dpkg-query -W -f='${Version}' qemu-user-static), binutils-aarch64-linux-gnu $(dpkg-query -W -f='${Version}' binutils-aarch64-linux-gnu)"
