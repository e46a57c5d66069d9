package harness

import (
	"strings"
	"testing"
)

func TestResolveShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	ok := []struct {
		flag  string
		count int
		env   func(string) string
		want  Shard
	}{
		{"", 0, env(), All},
		{"2/5", 0, env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "3"), Shard{2, 5}}, // the flag wins
		{"", 0, env("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT", "3"), Shard{1, 3}},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "1"), Shard{3, 4}},
		{"", 4, env("JOB_COMPLETION_INDEX", "3"), Shard{3, 4}},
	}
	for _, c := range ok {
		got, _, err := ResolveShard(c.flag, c.count, c.env)
		if err != nil || got != c.want {
			t.Errorf("ResolveShard(%q, %d) = %v, %v; want %v", c.flag, c.count, got, err, c.want)
		}
	}
	bad := []struct {
		flag  string
		count int
		env   func(string) string
		want  string
	}{
		{"3/3", 0, env(), `expected i/n with 0 <= i < n (e.g. 0/4), found "3/3"`},
		{"1", 0, env(), `found "1"`},
		{"0/2", 2, env(), "not both"},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "1"), "SLURM_ARRAY_TASK_COUNT"},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "5", "SLURM_ARRAY_TASK_COUNT", "4"), "--array=0-3"},
		{"", 0, env("JOB_COMPLETION_INDEX", "0"), "-shard-count is not"},
		{"", 3, env(), "JOB_COMPLETION_INDEX is not set"},
		{"", 3, env("JOB_COMPLETION_INDEX", "3"), "0..2"},
	}
	for _, c := range bad {
		_, _, err := ResolveShard(c.flag, c.count, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ResolveShard(%q, %d): %v, want an error containing %q", c.flag, c.count, err, c.want)
		}
	}
}
