package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
)

func init() {
	commands["data"] = command{summary: "fetch and verify MNIST through the Go module proxy (or check a -data folder)", run: runData}
}

// runData fetches the canonical MNIST files (or checks the folder given with -data),
// loads them to prove they parse, and prints where they are and their checksums.
func runData(args []string) int {
	fs := flag.NewFlagSet("data", flag.ContinueOnError)
	dir := fs.String("data", "", "check this folder of MNIST-style IDX files instead of fetching (gzipped or not)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "simdmlp data: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d := *dir
	if d == "" {
		var err error
		if d, err = mnistdata.Fetch(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "simdmlp data: %v\n", err)
			return 1
		}
	}
	ds, err := idx.LoadDir(d)
	if err != nil {
		fmt.Fprintf(os.Stderr, "simdmlp data: %v\n", err)
		return 1
	}
	sums, err := mnistdata.Checksums(d)
	if err != nil {
		fmt.Fprintf(os.Stderr, "simdmlp data: %v\n", err)
		return 1
	}
	fmt.Printf("data: %s\n", d)
	fmt.Printf("train: %d images %dx%d, test: %d images\n", ds.Train.Images.N, ds.Train.Images.Rows, ds.Train.Images.Cols, ds.Test.Images.N)
	for _, c := range sums {
		fmt.Printf("  %-60s %9d bytes  md5 %s\n", c.Path, c.Size, c.MD5)
	}
	return 0
}
