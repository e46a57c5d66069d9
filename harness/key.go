package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/simdmlp/simdmlp/mlp"
)

// keyVersion is hashed into every key: bump it when the meaning of a record changes
// without its configuration changing, so old results are not reused by mistake.
const keyVersion = "simdmlp trial v1"

// CanonicalConfig returns the configuration's canonical JSON: normalized (every default
// spelled out), with Threads cleared, because the trainer gives the same bits for any
// thread count, so threads are provenance, not part of the experiment. Seed and Protocol
// are fields of the configuration, so they are part of it.
func CanonicalConfig(cfg mlp.Config) ([]byte, error) {
	c := cloneConfig(cfg)
	if err := c.Normalize(); err != nil {
		return nil, fmt.Errorf("trial configuration: %w", err)
	}
	c.Threads = 0
	return json.Marshal(c)
}

// TrialKey is the trial's identity: the first 16 hex digits of
// sha256(keyVersion "\n" canonical config JSON "\n" data fingerprint). The data
// fingerprint (see Dataset.Fingerprint) keeps results on other data (a subset for smoke
// tests, Fashion-MNIST) from ever being taken for MNIST results.
func TrialKey(cfg mlp.Config, data string) (string, error) {
	b, err := CanonicalConfig(cfg)
	if err != nil {
		return "", err
	}
	return keyOf(b, data), nil
}

func keyOf(canonical []byte, data string) string {
	h := sha256.New()
	h.Write([]byte(keyVersion + "\n"))
	h.Write(canonical)
	h.Write([]byte("\n" + data))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// cellOf identifies the cell a trial belongs to: its configuration apart from the seed,
// and the data. Seeds of one cell are the samples its mean and spread are computed over.
func cellOf(cfg mlp.Config, data string) (string, error) {
	c := cloneConfig(cfg)
	c.Seed = 0
	b, err := CanonicalConfig(c)
	if err != nil {
		return "", err
	}
	return string(b) + "\n" + data, nil
}

func cloneConfig(c mlp.Config) mlp.Config {
	c.Hidden = append([]mlp.Layer(nil), c.Hidden...)
	return c
}
