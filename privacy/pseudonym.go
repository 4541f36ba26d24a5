package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"

	"github.com/journeylab/journeylab/experiment"
)

// PseudonymBytes is how many bytes of the HMAC-SHA256 a pseudonym keeps:
// 128 bits, so that two units of one deployment never share a pseudonym in
// practice (a collision is expected after about 2^64 units).
const PseudonymBytes = 16

// PseudonymLen is the length of a pseudonym: PseudonymBytes in unpadded
// base64url.
const PseudonymLen = 22

// MinKeyLen is the shortest pseudonym key accepted.
const MinKeyLen = 16

// Unit-id modes a store records (UnitIDStore), so that a store never
// mixes raw ids with pseudonyms, or pseudonyms under two keys.
const (
	// ModeRaw: unit ids are stored as the clients send them.
	ModeRaw = "raw"
	// modePrefix starts the mode of pseudonymised ids; a fingerprint of
	// the key follows.
	modePrefix = "hmac-sha256-128:"
)

// Pseudonymiser replaces unit ids by keyed hashes at the edge, before
// anything is journaled or stored. Assignment still hashes the raw id (it
// must agree with the SDKs and with earlier answers); only what is written
// down is the pseudonym. A nil *Pseudonymiser leaves ids as they are.
type Pseudonymiser struct {
	key  []byte
	macs sync.Pool
}

// pooledMAC is a keyed MAC with a buffer for the id, so that hashing
// allocates nothing but the returned string.
type pooledMAC struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// NewPseudonymiser returns the pseudonymiser keyed by key.
func NewPseudonymiser(key []byte) *Pseudonymiser {
	return &Pseudonymiser{key: append([]byte(nil), key...)}
}

// Unit returns the pseudonym of unit id: the first PseudonymBytes of
// HMAC-SHA256(key, id), base64url without padding. On a nil receiver it
// returns id.
func (p *Pseudonymiser) Unit(id string) string {
	if p == nil {
		return id
	}
	m, _ := p.macs.Get().(*pooledMAC)
	if m == nil {
		m = &pooledMAC{mac: hmac.New(sha256.New, p.key)}
	}
	m.mac.Reset()
	m.buf = append(m.buf[:0], id...)
	m.mac.Write(m.buf)
	sum := m.mac.Sum(m.sum[:0])
	var out [PseudonymLen]byte
	base64.RawURLEncoding.Encode(out[:], sum[:PseudonymBytes])
	p.macs.Put(m)
	return string(out[:])
}

// Enabled reports whether ids are pseudonymised.
func (p *Pseudonymiser) Enabled() bool { return p != nil }

// Mode is what the store records about its unit ids: ModeRaw, or the
// pseudonym scheme with a fingerprint of the key (an HMAC of a fixed text,
// which does not reveal the key).
func (p *Pseudonymiser) Mode() string {
	if p == nil {
		return ModeRaw
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("journeylab pseudonym key fingerprint"))
	return modePrefix + hex.EncodeToString(m.Sum(nil)[:8])
}

// LoadPseudonymKey returns the pseudonym key: key itself when set (the
// privacy.pseudonym_key setting or its environment variable), else the
// contents of file (surrounding white space removed). Either must hold at
// least MinKeyLen bytes; with neither set it is an error, since a random
// key would give each instance, and each restart, other pseudonyms.
func LoadPseudonymKey(key, file string) ([]byte, error) {
	switch {
	case key != "" && file != "":
		return nil, &experiment.ValidationError{Field: "privacy.pseudonym_key", Message: "set privacy.pseudonym_key or privacy.pseudonym_key_file, not both"}
	case key != "":
		if len(key) < MinKeyLen {
			return nil, &experiment.ValidationError{Field: "privacy.pseudonym_key", Message: fmt.Sprintf("the key must be at least %d characters", MinKeyLen)}
		}
		return []byte(key), nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read privacy.pseudonym_key_file: %w", err)
		}
		k := strings.TrimSpace(string(b))
		if len(k) < MinKeyLen {
			return nil, &experiment.ValidationError{Field: "privacy.pseudonym_key_file", Message: fmt.Sprintf("%s must hold a key of at least %d characters", file, MinKeyLen)}
		}
		return []byte(k), nil
	}
	return nil, &experiment.ValidationError{Field: "privacy.pseudonym_key", Message: "privacy.pseudonymise_units is on but no key is set: set privacy.pseudonym_key (JOURNEYLAB_PRIVACY_PSEUDONYM_KEY) or privacy.pseudonym_key_file, the same on every instance"}
}

// UnitIDStore records how a store's unit ids are written.
type UnitIDStore interface {
	// UnitIDMode returns the recorded mode, "" when none was recorded.
	UnitIDMode(ctx context.Context) (string, error)
	// SetUnitIDMode records mode.
	SetUnitIDMode(ctx context.Context, mode string) error
	// HoldsUnits reports whether any exposure or event is stored.
	HoldsUnits(ctx context.Context) (bool, error)
}

// ErrUnitIDMode is returned when a store holds unit ids written another
// way than the configuration asks for.
var ErrUnitIDMode = errors.New("the store holds unit ids written another way")

// CheckUnitIDs refuses a store whose unit ids were written another way
// than p writes them (raw ids when p is nil), so that one store never
// mixes raw ids and pseudonyms, or pseudonyms under two keys: erasure by
// raw id and attribution of events to exposures would silently miss. A
// store holding no exposure or event takes the new mode. Otherwise it
// records p's mode on first use; a store that predates the record counts
// as holding raw ids.
func CheckUnitIDs(ctx context.Context, st UnitIDStore, p *Pseudonymiser) error {
	want := p.Mode()
	got, err := st.UnitIDMode(ctx)
	if err != nil {
		return fmt.Errorf("read the store's unit-id mode: %w", err)
	}
	if got == want {
		return nil
	}
	holds, err := st.HoldsUnits(ctx)
	if err != nil {
		return fmt.Errorf("read the store's unit-id mode: %w", err)
	}
	if got == "" {
		got = ModeRaw
	}
	if holds && got != want {
		return fmt.Errorf("%w: it holds %s, the configuration asks for %s (%s); see docs/privacy.md, \"Pseudonymised unit ids\"",
			ErrUnitIDMode, describeMode(got), describeMode(want), advice(got, want))
	}
	if err := st.SetUnitIDMode(ctx, want); err != nil {
		return fmt.Errorf("record the store's unit-id mode: %w", err)
	}
	return nil
}

func describeMode(m string) string {
	switch {
	case m == ModeRaw:
		return "raw unit ids"
	case strings.HasPrefix(m, modePrefix):
		return "unit ids pseudonymised under the key with fingerprint " + strings.TrimPrefix(m, modePrefix)
	}
	return "unit ids written as " + m
}

func advice(got, want string) string {
	switch {
	case want == ModeRaw:
		return "set privacy.pseudonymise_units and the key the store was written with, or start on an empty store"
	case got == ModeRaw:
		return "pseudonymisation starts on an empty store: a raw id cannot be told from a pseudonym, so existing data would no longer match its units"
	}
	return "the key changed: pseudonyms under another key cannot be matched; restore the old key, or start on an empty store"
}
