// Package harness reproduces the report's hyperparameter study: its eight sweeps are
// data (the report's own table rows, embedded from report-tables.csv, plus the settings
// protocol.md fixes for each stage), a trial is one configuration x seed x split protocol,
// and every finished trial becomes one durable JSON line in a results file, so a sweep
// interrupted by Ctrl-C or kill -9 resumes with only the missing trials. Trials run in
// parallel within the machine's cores, or across machines by sharding the deterministic
// trial list; Merge combines shard files; Render writes the report's numbers beside ours
// (Markdown, CSV, SVG plots).
//
// Nothing here prints to the terminal except through the io.Writer it is given; the
// command line lives in cmd/simdmlp.
package harness
