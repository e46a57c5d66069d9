#!/bin/sh
# make compare: the report's final model trained by simdmlp and by PyTorch (Debian's
# python3-torch, or any python3 that can import torch) on the same MNIST files, the
# seconds per epoch side by side. Optional: without PyTorch it says how to install it
# and exits 0.
#
#   scripts/compare.sh               2 epochs (EPOCHS=n to change), every CPU
#   THREADS=1 scripts/compare.sh     simdmlp on one thread
#   PYTHON=/path/to/python3 scripts/compare.sh
set -eu
cd "$(dirname "$0")/.."

GO=${GO:-go}
EPOCHS=${EPOCHS:-2}
THREADS=${THREADS:-0}

# The first interpreter that can import torch: $PYTHON, python3 on the PATH, then
# Debian's own (a pyenv or venv python3 does not see Debian's packages).
py=""
for cand in ${PYTHON:-} ${COMPARE_PYTHONS:-python3 /usr/bin/python3}; do
	if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch' >/dev/null 2>&1; then
		py=$cand
		break
	fi
done
if [ -z "$py" ]; then
	cat <<'EOF'
compare: PyTorch is not installed, so there is nothing to compare with.
  Debian/Ubuntu:  sudo apt-get install python3-torch libopenblas0-pthread   (about 800 MB; then
                  run make compare again; without OpenBLAS, torch uses the slow reference BLAS)
  elsewhere:      pip install torch, and PYTHON=/path/to/that/python3 make compare
EOF
	exit 0
fi

mkdir -p out/compare
$GO build -o out/compare/simdmlp ./cmd/simdmlp
data=$(out/compare/simdmlp data | sed -n 's/^data: //p')
if [ -z "$data" ]; then
	echo "compare: could not locate MNIST (simdmlp data printed no folder)" >&2
	exit 1
fi
echo "compare: simdmlp train, $EPOCHS epoch(s), threads $THREADS (0 = every CPU)" >&2
out/compare/simdmlp train -epochs "$EPOCHS" -threads "$THREADS" -json out/compare/simdmlp.json >&2
echo "compare: PyTorch ($py), $EPOCHS epoch(s) as installed, then tuned" >&2
"$py" scripts/compare-torch.py --data "$data" --epochs "$EPOCHS" --ours out/compare/simdmlp.json
