// Package auth issues and verifies API keys. A key is shown once at creation
// ("jl_<id>_<secret>"); only a SHA-256 of the secret is stored, and checks
// compare hashes in constant time. SHA-256 (not bcrypt) is right here because
// secrets are 256 random bits, not passwords: nothing to brute-force, and the
// check sits on the assignment hot path.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Scope is what a key may do.
type Scope string

// Scopes: sdk for front-ends (assign, events), admin for management, read for reports.
const (
	ScopeSDK   Scope = "sdk"
	ScopeAdmin Scope = "admin"
	ScopeRead  Scope = "read"
)

// ParseScope returns the scope named by s.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case ScopeSDK, ScopeAdmin, ScopeRead:
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q (want sdk, admin or read)", s)
}

// Allows reports whether a key with scope k may use an endpoint that needs
// scope need. Admin keys may also read; nothing else is implied.
func (k Scope) Allows(need Scope) bool {
	return k == need || (k == ScopeAdmin && need == ScopeRead)
}

// Key is a stored API key (never the secret itself).
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scope     Scope      `json:"scope"`
	Hash      []byte     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// RevokedBy is the actor who revoked the key (the audit of the revocation).
	RevokedBy string `json:"revoked_by,omitempty"`
}

// Errors for the HTTP layer: both map to 401, on purpose without saying which.
var (
	ErrMalformedKey = errors.New("malformed API key")
	ErrUnknownKey   = errors.New("unknown or revoked API key")
)

// KeyStore persists keys.
type KeyStore interface {
	CreateKey(ctx context.Context, k Key) error
	GetKey(ctx context.Context, id string) (Key, error)
	ListKeys(ctx context.Context) ([]Key, error)
	// RevokeKey marks key id revoked at the given time by actor and returns
	// it; a key revoked before keeps its first revocation. A missing key is
	// ErrUnknownKey.
	RevokeKey(ctx context.Context, id string, at time.Time, actor string) (Key, error)
}

// Generate makes a new key with the given scope; it returns the stored form
// and the plaintext token to show the user once.
func Generate(name string, scope Scope, now time.Time) (Key, string, error) {
	id := make([]byte, 6)
	secret := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return Key{}, "", fmt.Errorf("random id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return Key{}, "", fmt.Errorf("random secret: %w", err)
	}
	k := Key{ID: hex.EncodeToString(id), Name: name, Scope: scope, CreatedAt: now.UTC()}
	sec := hex.EncodeToString(secret)
	sum := sha256.Sum256([]byte(sec))
	k.Hash = sum[:]
	return k, "jl_" + k.ID + "_" + sec, nil
}

// Split parses a token into its id and secret parts.
func Split(token string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(token, "jl_")
	if !ok {
		return "", "", ErrMalformedKey
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 12 || len(secret) != 64 {
		return "", "", ErrMalformedKey
	}
	return id, secret, nil
}

// Matches reports, in constant time, whether secret belongs to k.
func (k Key) Matches(secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(sum[:], k.Hash) == 1 && k.RevokedAt == nil
}
