package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/mlp"
)

// helperEnv makes the test binary, run as a subprocess, run the tiny plan into the
// results file it names (see TestHelperRun).
const helperEnv = "SIMDMLP_HARNESS_HELPER"

// TestHelperRun is not a test: it is the body of the subprocess of TestKillResume.
// With SIMDMLP_HARNESS_HELPER_SLOW set it sleeps after each epoch so that the parent
// can kill it in the middle of the run.
func TestHelperRun(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("subprocess body of TestKillResume")
	}
	var train TrainFunc
	if os.Getenv(helperEnv+"_SLOW") != "" {
		train = func(ctx context.Context, cfg mlp.Config, d *Dataset, on func(mlp.EpochMetrics)) (*mlp.Result, error) {
			return TrainMLP(ctx, cfg, d, func(e mlp.EpochMetrics) { on(e); time.Sleep(40 * time.Millisecond) })
		}
	}
	ds := tinyDataset(t)
	prov := BuildProvenance(nil)
	// The parent passes its commit: git's HEAD may move while the test runs (other
	// commits in the checkout) although the binary under test does not change.
	prov.Commit = os.Getenv(helperEnv + "_COMMIT")
	s, err := OpenStore(path, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	r := &Runner{Plan: tinyPlanner(t, ds.Fingerprint()), Data: ds, Store: s, Jobs: 2, Threads: 1,
		Provenance: prov, Train: train, CPUs: 2, Log: os.Stderr}
	sum, err := r.Run(context.Background())
	s.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	fmt.Fprintf(os.Stderr, "helper summary: %+v\n", sum)
}

func helper(path string, slow bool, commit string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRun$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path, helperEnv+"_COMMIT="+commit)
	if slow {
		cmd.Env = append(cmd.Env, helperEnv+"_SLOW=1")
	}
	return cmd
}

// A run killed with SIGKILL midway, with a torn half record appended as a crash in the
// middle of a write would leave it, then restarted, ends with exactly the records of an
// uninterrupted run: byte for byte apart from wall times, no duplicate.
func TestKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	ref, got := filepath.Join(dir, "ref.jsonl"), filepath.Join(dir, "got.jsonl")
	commit := Commit()
	if out, err := helper(ref, false, commit).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	refLines := canonicalLines(t, ref, false)
	if len(refLines) != 12 {
		t.Fatalf("uninterrupted run wrote %d records, want 12", len(refLines))
	}

	cmd := helper(got, true, commit)
	var killedOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &killedOut, &killedOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, _ := os.ReadFile(got)
		if bytes.Count(data, []byte("\n")) >= 4 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the slow run wrote no 4 records in 60s:\n%s", killedOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the slow run was not killed by SIGKILL (%v); it finished before?\n%s", err, killedOut.String())
	}
	killedRecs, err := ReadRecords(got, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(killedRecs) < 4 || len(killedRecs) >= 12 {
		t.Fatalf("killed run left %d records, want 4..11 (killed midway)", len(killedRecs))
	}
	// Simulate a crash mid-write: half of a missing trial's record, no newline.
	have := map[string]bool{}
	for _, r := range killedRecs {
		have[r.Key] = true
	}
	refRecs, _ := ReadRecords(ref, &bytes.Buffer{})
	var torn Record
	for _, r := range refRecs {
		if !have[r.Key] {
			torn = r
			break
		}
	}
	line, _ := torn.Line()
	f, err := os.OpenFile(got, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(line[:len(line)/2])
	f.Close()

	out, err := helper(got, false, commit).CombinedOutput()
	if err != nil {
		t.Fatalf("restarted run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "torn last line") {
		t.Errorf("the restarted run did not report the torn line:\n%s", out)
	}
	wantSummary := fmt.Sprintf("Reused:%d Ran:%d", len(killedRecs), 12-len(killedRecs))
	if !strings.Contains(string(out), wantSummary) {
		t.Errorf("restarted run summary does not contain %q:\n%s", wantSummary, out)
	}
	gotLines := canonicalLines(t, got, false) // fails on a duplicate
	if !slices.Equal(refLines, gotLines) {
		t.Fatalf("killed+restarted records differ from the uninterrupted run's: %s", firstDiff(gotLines, refLines))
	}
	// The file is whole lines only.
	data, _ := os.ReadFile(got)
	if len(data) == 0 || data[len(data)-1] != '\n' || bytes.Count(data, []byte("\n")) != 12 {
		t.Fatalf("final file has %d lines", bytes.Count(data, []byte("\n")))
	}
}

// firstDiff describes the first difference between two sorted sets of lines.
func firstDiff(a, b []string) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d lines vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			n := 0
			for n < len(a[i]) && n < len(b[i]) && a[i][n] == b[i][n] {
				n++
			}
			lo := max(0, n-60)
			return fmt.Sprintf("line %d, byte %d: ...%s... vs ...%s...", i, n, a[i][lo:min(len(a[i]), n+60)], b[i][lo:min(len(b[i]), n+60)])
		}
	}
	return "no difference"
}
