package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one share of a run's trials: those whose index modulo Count is Index. The
// trial list is deterministic, so n processes given shards 0/n .. n-1/n run every trial
// exactly once between them, on any machines.
type Shard struct {
	Index, Count int
}

// All is the whole run.
var All = Shard{Index: 0, Count: 1}

// Has reports whether trial t belongs to the shard.
func (s Shard) Has(t Trial) bool { return s.Count <= 1 || t.Index%s.Count == s.Index }

// Whole reports whether the shard is the whole run.
func (s Shard) Whole() bool { return s.Count <= 1 }

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard parses "i/n" with 0 <= i < n.
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard: expected i/n with 0 <= i < n (e.g. 0/4), found %q", v)
	}
	return Shard{Index: i, Count: n}, nil
}

// ResolveShard decides the shard from, in this order: the -shard flag value (if not
// empty); Slurm's job array variables (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, and
// SLURM_ARRAY_TASK_MIN when the array does not start at 0); Kubernetes' Indexed Job
// variable JOB_COMPLETION_INDEX with the count from the -shard-count flag. It returns
// the shard and where it came from.
func ResolveShard(flag string, count int, getenv func(string) string) (Shard, string, error) {
	if flag != "" {
		if count != 0 {
			return Shard{}, "", fmt.Errorf("shard-count: give either -shard i/n or -shard-count n (with JOB_COMPLETION_INDEX), not both")
		}
		s, err := ParseShard(flag)
		return s, "-shard", err
	}
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		n, err := strconv.Atoi(getenv("SLURM_ARRAY_TASK_COUNT"))
		if err != nil || n < 1 {
			return Shard{}, "", fmt.Errorf("SLURM_ARRAY_TASK_ID=%s is set, but SLURM_ARRAY_TASK_COUNT is %q: expected a positive count", id, getenv("SLURM_ARRAY_TASK_COUNT"))
		}
		i, err := strconv.Atoi(id)
		if err != nil {
			return Shard{}, "", fmt.Errorf("SLURM_ARRAY_TASK_ID: expected an integer, found %q", id)
		}
		if m := getenv("SLURM_ARRAY_TASK_MIN"); m != "" {
			lo, err := strconv.Atoi(m)
			if err != nil {
				return Shard{}, "", fmt.Errorf("SLURM_ARRAY_TASK_MIN: expected an integer, found %q", m)
			}
			i -= lo
		}
		if i < 0 || i >= n {
			return Shard{}, "", fmt.Errorf("Slurm array task %s (min %q) is not in 0..%d: use a contiguous array such as --array=0-%d", id, getenv("SLURM_ARRAY_TASK_MIN"), n-1, n-1)
		}
		return Shard{Index: i, Count: n}, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT", nil
	}
	if id := getenv("JOB_COMPLETION_INDEX"); id != "" || count != 0 {
		if id == "" {
			return Shard{}, "", fmt.Errorf("shard-count: %d given, but JOB_COMPLETION_INDEX is not set (it is set by a Kubernetes Indexed Job; elsewhere use -shard i/n)", count)
		}
		if count < 1 {
			return Shard{}, "", fmt.Errorf("JOB_COMPLETION_INDEX=%s is set, but -shard-count is not: give the Job's completions as -shard-count", id)
		}
		i, err := strconv.Atoi(id)
		if err != nil || i < 0 || i >= count {
			return Shard{}, "", fmt.Errorf("JOB_COMPLETION_INDEX: expected an integer in 0..%d (-shard-count %d), found %q", count-1, count, id)
		}
		return Shard{Index: i, Count: count}, "JOB_COMPLETION_INDEX/-shard-count", nil
	}
	return All, "", nil
}
