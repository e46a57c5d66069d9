package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// ErrDuplicate is returned by Store.Append for a trial the file already holds.
var ErrDuplicate = errors.New("trial already recorded")

// Store is an append-only results file: one JSON record per line, each appended with
// one write and fsynced before Append returns, so a finished trial survives a crash and
// a crash can at worst leave one torn last line, which OpenStore removes (the trial is
// then simply missing, and re-run). The process holds an exclusive lock on the file
// while it is open.
type Store struct {
	path string
	f    *os.File

	mu    sync.Mutex
	size  int64
	recs  map[string]Record
	order []string
}

// OpenStore opens (creating if needed) the results file at path, reads every record,
// and truncates a torn last line away, saying so on warn. A record that does not parse
// anywhere but at the end is corruption no crash of ours can cause: an error naming the
// line.
func OpenStore(path string, warn io.Writer) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	s := &Store{path: path, f: f, recs: map[string]Record{}}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	recs, good, err := parseRecords(data, path, warn)
	if err != nil {
		s.Close()
		return nil, err
	}
	if good < int64(len(data)) {
		if err := f.Truncate(good); err != nil {
			s.Close()
			return nil, fmt.Errorf("removing the torn last line of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			s.Close()
			return nil, fmt.Errorf("syncing %s: %w", path, err)
		}
	}
	s.size = good
	for _, r := range recs {
		if prev, dup := s.recs[r.Key]; dup {
			if err := sameResult(prev, r); err != nil {
				s.Close()
				return nil, fmt.Errorf("%s: trial %s is recorded twice with different results: %v", path, r.Key, err)
			}
			fmt.Fprintf(warn, "%s: trial %s is recorded twice (same result); using the first\n", path, r.Key)
			continue
		}
		s.recs[r.Key] = r
		s.order = append(s.order, r.Key)
	}
	return s, nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Has reports whether the trial with this key is recorded.
func (s *Store) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.recs[key]
	return ok
}

// Records returns the records in file order.
func (s *Store) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, len(s.order))
	for i, k := range s.order {
		out[i] = s.recs[k]
	}
	return out
}

// Len returns the number of records.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

// Append writes r as one line with a single write, then fsyncs. A trial already in the
// file is not written again: ErrDuplicate. If the write fails part way, the partial line
// is truncated away so the file stays a sequence of whole records.
func (s *Store) Append(r Record) error {
	if r.Key == "" {
		return errors.New("results: record without a key")
	}
	line, err := r.Line()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.recs[r.Key]; dup {
		return fmt.Errorf("%s: trial %s: %w", s.path, r.Key, ErrDuplicate)
	}
	if _, err := s.f.Write(line); err != nil {
		_ = s.f.Truncate(s.size)
		return fmt.Errorf("appending to %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", s.path, err)
	}
	s.size += int64(len(line))
	s.recs[r.Key] = r
	s.order = append(s.order, r.Key)
	return nil
}

// Close releases the lock and closes the file.
func (s *Store) Close() error {
	if s.f == nil {
		return nil
	}
	unlockFile(s.f)
	err := s.f.Close()
	s.f = nil
	return err
}

// ReadRecords reads a results file without modifying it: a torn last line is reported
// on warn and ignored.
func ReadRecords(path string, warn io.Writer) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	recs, _, err := parseRecords(data, path, warn)
	return recs, err
}

// parseRecords parses whole lines and returns the records and the length of the prefix
// they occupy. A last line without its newline, or a last line that is not a record, is
// torn: reported on warn and excluded. An invalid line before the last is an error.
func parseRecords(data []byte, name string, warn io.Writer) ([]Record, int64, error) {
	var recs []Record
	var off int64
	for lineNo := 1; off < int64(len(data)); lineNo++ {
		rest := data[off:]
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			fmt.Fprintf(warn, "%s:%d: torn last line (%d bytes, no newline: a crash mid-write); removed, its trial will be re-run\n", name, lineNo, len(rest))
			return recs, off, nil
		}
		line := rest[:nl]
		r, err := parseRecord(line)
		if err != nil {
			if off+int64(nl)+1 == int64(len(data)) {
				fmt.Fprintf(warn, "%s:%d: torn last line (%v); removed, its trial will be re-run\n", name, lineNo, err)
				return recs, off, nil
			}
			return nil, 0, fmt.Errorf("%s:%d: %v; this is not the last line, so it is not a torn write: fix or delete the line", name, lineNo, err)
		}
		recs = append(recs, r)
		off += int64(nl) + 1
	}
	return recs, off, nil
}

func parseRecord(line []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("not a JSON record: %v", err)
	}
	if dec.More() {
		return r, errors.New("not a JSON record: data after the object")
	}
	if r.Key == "" {
		return r, errors.New("record has no key")
	}
	return r, nil
}

// sameResult returns nil when a and b hold the same result apart from wall times and
// provenance, else an error describing the first difference.
func sameResult(a, b Record) error {
	la, err := a.Comparable().Line()
	if err != nil {
		return err
	}
	lb, err := b.Comparable().Line()
	if err != nil {
		return err
	}
	if bytes.Equal(la, lb) {
		return nil
	}
	n := 0
	for n < len(la) && n < len(lb) && la[n] == lb[n] {
		n++
	}
	lo := max(0, n-40)
	return fmt.Errorf("they first differ at byte %d: ...%s... vs ...%s...", n, la[lo:min(len(la), n+40)], lb[lo:min(len(lb), n+40)])
}
