package auth

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestScopes(t *testing.T) {
	cases := []struct {
		key, need Scope
		ok        bool
	}{
		{ScopeAdmin, ScopeAdmin, true}, {ScopeAdmin, ScopeRead, true}, {ScopeAdmin, ScopeSDK, false},
		{ScopeRead, ScopeRead, true}, {ScopeRead, ScopeAdmin, false}, {ScopeRead, ScopeSDK, false},
		{ScopeSDK, ScopeSDK, true}, {ScopeSDK, ScopeRead, false}, {ScopeSDK, ScopeAdmin, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.key)+" key on an endpoint needing "+string(tc.need), func(t *testing.T) {
			if got := tc.key.Allows(tc.need); got != tc.ok {
				t.Fatalf("Allows = %v, want %v", got, tc.ok)
			}
		})
	}
	if _, err := ParseScope("root"); err == nil {
		t.Fatal("unknown scope accepted")
	}
}

func TestGeneratedKeysVerifyOnlyTheirOwnSecret(t *testing.T) {
	k, token, err := Generate("ci", ScopeSDK, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	id, secret, err := Split(token)
	if err != nil || id != k.ID {
		t.Fatalf("Split(%q) = %q, %v", token, id, err)
	}
	if !k.Matches(secret) {
		t.Fatal("key does not match its own secret")
	}
	if k.Matches(strings.Repeat("0", 64)) {
		t.Fatal("key matches a foreign secret")
	}
	if strings.Contains(string(k.Hash), secret) {
		t.Fatal("the stored form contains the secret")
	}
	_, other, _ := Generate("ci", ScopeSDK, time.Unix(0, 0))
	if other == token {
		t.Fatal("two keys are equal")
	}
	for _, bad := range []string{"", "jl_", "jl_abc_def", "xx_" + token[3:], token + "0"} {
		if _, _, err := Split(bad); !errors.Is(err, ErrMalformedKey) {
			t.Errorf("Split(%q) err = %v, want ErrMalformedKey", bad, err)
		}
	}
}

type countingStore struct {
	key   Key
	reads atomic.Int64
}

func (s *countingStore) CreateKey(context.Context, Key) error { return nil }
func (s *countingStore) ListKeys(context.Context) ([]Key, error) {
	return []Key{s.key}, nil
}
func (s *countingStore) GetKey(_ context.Context, id string) (Key, error) {
	s.reads.Add(1)
	if id != s.key.ID {
		return Key{}, ErrUnknownKey
	}
	return s.key, nil
}

func TestVerifierCachesValidKeysOnly(t *testing.T) {
	k, token, _ := Generate("web", ScopeSDK, time.Unix(0, 0))
	st := &countingStore{key: k}
	v := NewVerifier(st, time.Minute)
	ctx := context.Background()
	for range 5 {
		if s, err := v.Verify(ctx, token); err != nil || s != ScopeSDK {
			t.Fatalf("Verify = %s, %v", s, err)
		}
	}
	if n := st.reads.Load(); n != 1 {
		t.Fatalf("%d store reads for 5 verifications, want 1 (cached)", n)
	}
	id, _, _ := Split(token)
	forged := "jl_" + id + "_" + strings.Repeat("a", 64)
	for range 3 {
		if _, err := v.Verify(ctx, forged); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("forged secret: err = %v", err)
		}
	}
	if n := st.reads.Load(); n != 4 {
		t.Fatalf("%d store reads, want 4: a failed key must never be cached", n)
	}
}

func (s *countingStore) RevokeKey(_ context.Context, id string, at time.Time, actor string) (Key, error) {
	if id != s.key.ID {
		return Key{}, ErrUnknownKey
	}
	if s.key.RevokedAt == nil {
		s.key.RevokedAt, s.key.RevokedBy = &at, actor
	}
	return s.key, nil
}

func TestRevokedKeysStopWorking(t *testing.T) {
	k, token, _ := Generate("web", ScopeSDK, time.Unix(0, 0))
	st := &countingStore{key: k}
	const ttl = 50 * time.Millisecond
	here, elsewhere := NewVerifier(st, ttl), NewVerifier(st, ttl)
	ctx := context.Background()
	for _, v := range []*Verifier{here, elsewhere} {
		if _, err := v.Verify(ctx, token); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
	}
	at := time.Unix(100, 0).UTC()
	got, err := here.Revoke(ctx, k.ID, at, "key:admin1")
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at) || got.RevokedBy != "key:admin1" {
		t.Fatalf("Revoke = %+v, %v", got, err)
	}
	t.Run("the revoking instance refuses the key at once", func(t *testing.T) {
		if _, err := here.Verify(ctx, token); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey", err)
		}
	})
	t.Run("another instance refuses it once its cache TTL has passed", func(t *testing.T) {
		time.Sleep(ttl + 20*time.Millisecond)
		if _, err := elsewhere.Verify(ctx, token); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey", err)
		}
	})
	t.Run("revoking twice keeps the first revocation", func(t *testing.T) {
		again, err := here.Revoke(ctx, k.ID, at.Add(time.Hour), "key:admin2")
		if err != nil || !again.RevokedAt.Equal(at) || again.RevokedBy != "key:admin1" {
			t.Fatalf("second Revoke = %+v, %v", again, err)
		}
	})
	t.Run("an unknown key cannot be revoked", func(t *testing.T) {
		if _, err := here.Revoke(ctx, "000000000000", at, "x"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v", err)
		}
	})
}
