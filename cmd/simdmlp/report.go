package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/simdmlp/simdmlp/harness"
)

func init() {
	commands["report"] = command{summary: "render the report (Markdown, CSV, SVG) from a run's results, the report's numbers beside ours", run: runReport}
}

func runReport(args []string) int { return report(args, os.Stdout, os.Stderr) }

func report(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out/reproduce", "the run's `folder`: reads run.json and results.jsonl there, writes report.md, CSV tables and SVG plots there")
	results := fs.String("results", "", "results `file` (default: FOLDER/results.jsonl)")
	runFile := fs.String("run", "", "run settings `file` written by reproduce (default: FOLDER/run.json)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "simdmlp report: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *results == "" {
		*results = filepath.Join(*out, "results.jsonl")
	}
	if *runFile == "" {
		*runFile = filepath.Join(*out, "run.json")
	}
	ri, err := harness.ReadRunInfo(*runFile)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp report: %v (written by `simdmlp reproduce`; give -run FILE or -out FOLDER)\n", err)
		return 1
	}
	recs, err := harness.ReadRecords(*results, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp report: %v\n", err)
		return 1
	}
	sweep, err := harness.NewSweep()
	if err != nil {
		fmt.Fprintf(stderr, "simdmlp report: %v\n", err)
		return 1
	}
	return renderReport(sweep, *out, ri, recs, stdout, stderr)
}
