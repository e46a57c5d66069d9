package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/simdmlp/simdmlp/harness"
)

func init() {
	commands["merge"] = command{summary: "combine results files (e.g. one per shard) into one, rejecting conflicting duplicates", run: runMerge}
}

func runMerge(args []string) int { return merge(args, os.Stdout, os.Stderr) }

func merge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "merged results `file` (e.g. out/reproduce/results.jsonl); if it exists, list it among the inputs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: simdmlp merge -out FILE INPUT.jsonl...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, `simdmlp merge: -out: want the merged results file, got ""`)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "simdmlp merge: want at least one input results file after the flags, got none")
		return 2
	}
	st, err := harness.Merge(*out, fs.Args(), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "merge: %d input files, %d trials written to %s, %d duplicates kept once\n", st.Inputs, st.Records, *out, st.Duplicates)
	return 0
}
