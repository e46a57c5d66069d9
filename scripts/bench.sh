#!/bin/sh
# make bench: the kernel and trainer benchmarks, a table a user can read, and a
# comparison with the committed baseline through benchstat, so that a regression shows.
#
#   scripts/bench.sh                 the default set (below), COUNT=3 runs each
#   BENCH_KERNELS='pattern ...' BENCH_MLP='pattern ...' COUNT=n scripts/bench.sh
#   BASELINE=file scripts/bench.sh   compare with another file
#   UPDATE=1 scripts/bench.sh        also write this run as the new baseline
#
# Each pattern is one -bench argument (go test matches it level by level, split at
# the slashes); the patterns of a list run one after the other.
#
# The raw `go test -bench` output goes to out/bench/latest.txt. The table gives, per
# benchmark and backend, the mean of the runs: GFLOP/s of matrix work, %peak (of the
# FMA peak of the same backend and thread count, measured in the same process),
# seconds per epoch or per step, GB/s for the optimizer updates, allocations. On a
# machine shared with other work, compare figures from one run (ratios), and
# threads2 against threads1 only when the second core is free.
set -euf # no globbing: the benchmark patterns hold regexp characters
cd "$(dirname "$0")/.."

GO=${GO:-go}
COUNT=${COUNT:-3}
# The largest GEMMs of a batch-64 training step on one and all threads, the adam
# update over the final model, a step at batch 64 and 512, whole epochs (SIMD
# backends: a generic epoch takes tens of seconds), and epoch 10 against epoch 1.
BENCH_KERNELS=${BENCH_KERNELS:-'^BenchmarkPoolSgemm$/./././^(m64n600k784|m64n200k600|m784n600k64|m64n600k200)$ ^BenchmarkPoolAdam$'}
BENCH_MLP=${BENCH_MLP:-'^BenchmarkTrainStep$/./^b(64|512)$ ^BenchmarkEpoch$/^(avx|neon) ^BenchmarkEpochDrift$'}
BASELINE=${BASELINE:-testdata/bench/baseline.txt}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

mkdir -p out/bench
new=out/bench/latest.txt
: >"$new"
echo "bench: kernels ($BENCH_KERNELS), trainer ($BENCH_MLP), count $COUNT -> $new" >&2
for pat in $BENCH_KERNELS; do
	$GO test -run '^$' -bench "$pat" -count "$COUNT" -timeout 1h ./kernels/ | tee -a "$new" >&2
done
for pat in $BENCH_MLP; do
	$GO test -run '^$' -bench "$pat" -count "$COUNT" -timeout 2h ./mlp/ | tee -a "$new" >&2
done

# The table: one line per benchmark, the mean of its runs for each metric.
echo
awk '
/^Benchmark/ {
	name = $1
	sub(/-[0-9]+$/, "", name)      # the GOMAXPROCS suffix
	sub(/^Benchmark/, "", name)
	if (!(name in runs)) order[++n] = name
	runs[name]++
	for (i = 3; i + 1 <= NF; i += 2) sum[name, $(i + 1)] += $i
}
function mean(name, unit) { return (name, unit) in sum ? sum[name, unit] / runs[name] : "" }
function show(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
END {
	printf "%-34s %-8s %9s %7s %10s %9s %8s %7s\n", "benchmark", "backend", "GFLOP/s", "%peak", "s/epoch", "s/step", "GB/s", "allocs"
	for (k = 1; k <= n; k++) {
		name = order[k]
		split(name, part, "/")
		backend = part[2]
		rest = part[1]
		for (j = 3; j in part; j++) rest = rest "/" part[j]
		sep = mean(name, "s/epoch")
		if (sep == "") sep = mean(name, "s/epoch10")
		printf "%-34s %-8s %9s %7s %10s %9s %8s %7s\n", rest, backend,
			show(mean(name, "GFLOP/s"), "%.1f"), show(mean(name, "%peak"), "%.1f"),
			show(sep, "%.3f"), show(mean(name, "s/step"), "%.5f"),
			show(mean(name, "GB/s"), "%.1f"), show(mean(name, "allocs/op"), "%.0f")
		if (mean(name, "epoch10/epoch1") != "")
			printf "%-34s %-8s %s %.3f (wall)%s\n", "", "", "epoch 10 / epoch 1:", mean(name, "epoch10/epoch1"),
				mean(name, "cpu-epoch10/epoch1") == "" ? "" : sprintf(", %.3f (thread CPU time)", mean(name, "cpu-epoch10/epoch1"))
	}
}' "$new"
echo

if [ -n "${UPDATE:-}" ]; then
	mkdir -p "$(dirname "$BASELINE")"
	cp "$new" "$BASELINE"
	echo "bench: wrote $BASELINE" >&2
elif [ -f "$BASELINE" ]; then
	echo "benchstat $BASELINE (old) vs $new (new):"
	$GO run "$BENCHSTAT" "$BASELINE" "$new"
else
	echo "bench: no baseline at $BASELINE (UPDATE=1 writes one)" >&2
fi
