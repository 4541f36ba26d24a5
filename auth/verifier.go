package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2/expirable"
)

// Verifier checks tokens against the KeyStore, caching verified tokens for
// a short time so the assignment hot path does not read the store per request.
type Verifier struct {
	store KeyStore
	cache *lru.LRU[[32]byte, Scope]
}

// NewVerifier returns a Verifier whose cache forgets entries ttl after they
// were verified, which bounds how long a key revoked elsewhere (another
// instance, the CLI) keeps working on this instance: at most ttl.
func NewVerifier(store KeyStore, ttl time.Duration) *Verifier {
	return &Verifier{store: store, cache: lru.NewLRU[[32]byte, Scope](10000, nil, ttl)}
}

// Verify returns the scope of a valid token, or an error wrapping
// ErrMalformedKey or ErrUnknownKey.
func (v *Verifier) Verify(ctx context.Context, token string) (Scope, error) {
	sum := sha256.Sum256([]byte(token))
	if s, ok := v.cache.Get(sum); ok {
		return s, nil
	}
	id, secret, err := Split(token)
	if err != nil {
		return "", err
	}
	k, err := v.store.GetKey(ctx, id)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return "", err
		}
		return "", fmt.Errorf("look up key: %w", err)
	}
	if !k.Matches(secret) {
		return "", ErrUnknownKey
	}
	v.cache.Add(sum, k.Scope)
	return k.Scope, nil
}

// Revoke revokes key id, recording actor, and forgets every cached key, so
// the key stops working on this instance at once (other instances stop
// within their cache TTL).
func (v *Verifier) Revoke(ctx context.Context, id string, at time.Time, actor string) (Key, error) {
	k, err := v.store.RevokeKey(ctx, id, at, actor)
	if err != nil {
		return Key{}, err
	}
	v.cache.Purge()
	return k, nil
}
