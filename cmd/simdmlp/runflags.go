package main

import (
	"fmt"

	"github.com/simdmlp/simdmlp/harness"
)

// checkRunFlags validates the flags reproduce and search share for running trials:
// -j, -threads (their product must fit the CPUs) and -shard-count.
func checkRunFlags(jobs, threads, shardCount int) error {
	if jobs < 0 {
		return fmt.Errorf("-j: want >= 0 (0 = CPUs / threads), got %d", jobs)
	}
	if threads < 1 {
		return fmt.Errorf("-threads: want >= 1, got %d", threads)
	}
	if _, _, err := (&harness.Runner{Jobs: jobs, Threads: threads}).Resources(); err != nil {
		return fmt.Errorf("-j/-threads: %v", err)
	}
	if shardCount < 0 {
		return fmt.Errorf("-shard-count: want >= 1, got %d", shardCount)
	}
	return nil
}
