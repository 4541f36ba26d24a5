// Package privacy erases a unit (a visitor or customer) on request and
// pseudonymises what the erasure audit keeps: the audit stores a keyed hash
// (HMAC-SHA256 under a per-deployment secret) of each erased unit id, never
// the id. The stores do the erasing (they own the maintained totals); this
// package validates requests, hashes ids and orders the steps.
package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// MaxBatch is the most unit ids one erasure request may name.
const MaxBatch = 1000

// MaxUnitID is the longest unit id accepted, as for events and exposures.
const MaxUnitID = 256

// SecretFile is the file in the data directory that holds the keyed-hash
// secret when none is configured.
const SecretFile = "privacy.key"

// Unit is one unit to erase: its id and the keyed hash the audit keeps.
type Unit struct {
	ID   string
	Hash string
}

// Erased counts what one erasure removed.
type Erased struct {
	// Units is how many units were named (each counted once).
	Units int64 `json:"units"`
	// Events, Exposures and Rollups count the removed rows or documents.
	Events    int64 `json:"events"`
	Exposures int64 `json:"exposures"`
	Rollups   int64 `json:"rollups"`
}

// Add returns e + o.
func (e Erased) Add(o Erased) Erased {
	return Erased{Units: e.Units + o.Units, Events: e.Events + o.Events, Exposures: e.Exposures + o.Exposures, Rollups: e.Rollups + o.Rollups}
}

// Store erases units. Within one transaction per call (per unit on a
// sharded MongoDB) it removes each unit's events, exposures and rollups,
// subtracts the unit's contribution from every total the store maintains,
// and records an audit entry under the unit's Hash at time at. Erasing a
// unit that has nothing stored only records the audit entry.
type Store interface {
	EraseUnits(ctx context.Context, units []Unit, at time.Time) (Erased, error)
	// ErasedAmong returns which of the hashes the erasure audit holds.
	ErasedAmong(ctx context.Context, hashes []string) (map[string]bool, error)
	// AnyErased reports whether the erasure audit holds any unit.
	AnyErased(ctx context.Context) (bool, error)
}

// Flusher merges journaled exposures and events into the store, so that
// nothing staged before an erasure reaches the store after it.
type Flusher func(ctx context.Context) error

// Eraser erases units: it flushes the journals, then has the store erase.
type Eraser struct {
	st    Store
	flush Flusher
	key   []byte
	now   func() time.Time
	ko    keepOut
	units *Pseudonymiser
}

// WithPseudonyms makes e erase the pseudonyms of the ids it is given:
// the store holds pseudonyms when p is set. It returns e.
func (e *Eraser) WithPseudonyms(p *Pseudonymiser) *Eraser {
	e.units = p
	return e
}

// NewEraser returns an Eraser over st; flush may be nil (no journals).
func NewEraser(st Store, flush Flusher, secret []byte, now func() time.Time) *Eraser {
	if now == nil {
		now = time.Now
	}
	return &Eraser{st: st, flush: flush, key: secret, now: now}
}

// Hash returns the keyed hash of a unit id, hex encoded: what the audit
// keeps instead of the id.
func (e *Eraser) Hash(unit string) string { return e.pooledHash(unit) }

// Validate checks a list of unit ids: 1 to MaxBatch non-empty ids of at
// most MaxUnitID bytes. field names the list in errors.
func Validate(field string, ids []string) error {
	if len(ids) == 0 {
		return &experiment.ValidationError{Field: field, Message: "at least one unit id is required"}
	}
	if len(ids) > MaxBatch {
		return &experiment.ValidationError{Field: field, Message: fmt.Sprintf("at most %d unit ids per request", MaxBatch)}
	}
	for i, id := range ids {
		if id == "" || len(id) > MaxUnitID {
			return &experiment.ValidationError{Field: fmt.Sprintf("%s[%d]", field, i), Message: fmt.Sprintf("a unit id of 1 to %d bytes is required", MaxUnitID)}
		}
	}
	return nil
}

// Erase erases the units (duplicates count once) after flushing the
// journals. It is idempotent: erasing again removes nothing more and
// records the request in the audit again.
func (e *Eraser) Erase(ctx context.Context, ids []string) (Erased, error) {
	if err := Validate("unit_ids", ids); err != nil {
		return Erased{}, err
	}
	if e.flush != nil {
		if err := e.flush(ctx); err != nil {
			return Erased{}, fmt.Errorf("flush journals before erasing: %w", err)
		}
	}
	seen := map[string]bool{}
	units := make([]Unit, 0, len(ids))
	for _, raw := range ids {
		id := e.units.Unit(raw)
		if !seen[id] {
			seen[id] = true
			units = append(units, Unit{ID: id, Hash: e.Hash(id)})
		}
	}
	e.activate()
	out, err := e.st.EraseUnits(ctx, units, e.now())
	if err != nil {
		return out, fmt.Errorf("erase %d units: %w", len(units), err)
	}
	return out, nil
}

// LoadSecret returns the keyed-hash secret: configured (hex or plain text,
// at least 16 bytes) when not empty, else the one in dataDir/SecretFile,
// created with 32 random bytes on first use (mode 0600).
func LoadSecret(configured, dataDir string) ([]byte, error) {
	if configured != "" {
		if len(configured) < 16 {
			return nil, &experiment.ValidationError{Field: "privacy.hash_secret", Message: "the secret must be at least 16 characters"}
		}
		return []byte(configured), nil
	}
	path := filepath.Join(dataDir, SecretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		s, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(s) < 16 {
			return nil, fmt.Errorf("read %s: not a hex secret of at least 16 bytes", path)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("generate hash secret: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first: use theirs.
		return LoadSecret("", dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(s) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return s, f.Close()
}
