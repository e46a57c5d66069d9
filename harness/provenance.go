package harness

import (
	"context"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"
)

// BuildProvenance describes this process: the commit it was built from, the Go version,
// the OS, architecture and CPU model, and the data files (backend, threads and wall time
// are filled per trial from the trainer's result).
func BuildProvenance(files []FileHash) Provenance {
	cpu := strings.TrimSpace(cpuid.CPU.BrandName)
	if cpu == "" {
		cpu = "unknown"
	}
	return Provenance{
		Commit:    Commit(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		CPU:       cpu,
		DataFiles: files,
	}
}

// Commit returns the commit the program was built from: the vcs stamp of the build
// (with "+modified" when the tree had changes), else `git rev-parse HEAD` in the working
// directory (with "+modified" when `git status` lists changes to tracked files), else
// "unknown".
func Commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			if modified == "true" {
				rev += "+modified"
			}
			return rev
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "+modified"
	}
	return rev
}
