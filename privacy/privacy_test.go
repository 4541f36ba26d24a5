package privacy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

type fakeStore struct {
	got     []Unit
	at      time.Time
	audit   map[string]bool
	lookups int
}

func (f *fakeStore) EraseUnits(_ context.Context, units []Unit, at time.Time) (Erased, error) {
	f.got, f.at = units, at
	if f.audit == nil {
		f.audit = map[string]bool{}
	}
	for _, u := range units {
		f.audit[u.Hash] = true
	}
	return Erased{Units: int64(len(units))}, nil
}

func (f *fakeStore) ErasedAmong(_ context.Context, hashes []string) (map[string]bool, error) {
	f.lookups++
	out := map[string]bool{}
	for _, h := range hashes {
		if f.audit[h] {
			out[h] = true
		}
	}
	return out, nil
}

func (f *fakeStore) AnyErased(context.Context) (bool, error) {
	f.lookups++
	return len(f.audit) > 0, nil
}

func TestHash(t *testing.T) {
	// Computed independently: printf 'customer-4711' | openssl dgst -sha256 -hmac 'a-secret-of-16-chars'
	const want = "51a2305c107f1b11fae5413aa373a2fe5db9afba7991d8d8c281c1f81637d32a"
	e := NewEraser(nil, nil, []byte("a-secret-of-16-chars"), nil)
	h := e.Hash("customer-4711")
	if h != want {
		t.Fatalf("hash %q, want HMAC-SHA256 %q", h, want)
	}
	t.Run("the same id hashes the same", func(t *testing.T) {
		if e.Hash("customer-4711") != h {
			t.Error("hash is not deterministic")
		}
	})
	t.Run("another secret gives another hash", func(t *testing.T) {
		if NewEraser(nil, nil, []byte("another-secret-16-chars"), nil).Hash("customer-4711") == h {
			t.Error("hash does not depend on the secret")
		}
	})
}

func TestErase(t *testing.T) {
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	t.Run("flushes first, erases each id once, hashes them", func(t *testing.T) {
		st := &fakeStore{}
		var order []string
		e := NewEraser(st, func(context.Context) error { order = append(order, "flush"); return nil }, []byte("k"), func() time.Time { return at })
		got, err := e.Erase(context.Background(), []string{"a", "b", "a"})
		if err != nil {
			t.Fatal(err)
		}
		if len(order) != 1 || got.Units != 2 || len(st.got) != 2 || st.got[0] != (Unit{"a", e.Hash("a")}) || st.at != at {
			t.Errorf("flushes %v, erased %+v, store got %+v at %v", order, got, st.got, st.at)
		}
	})
	t.Run("a failed flush erases nothing", func(t *testing.T) {
		st := &fakeStore{}
		boom := errors.New("disk full")
		_, err := NewEraser(st, func(context.Context) error { return boom }, []byte("k"), nil).Erase(context.Background(), []string{"a"})
		if !errors.Is(err, boom) || st.got != nil {
			t.Errorf("err %v, store got %v", err, st.got)
		}
	})
	t.Run("bad id lists name the field", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			ids   []string
			field string
		}{
			{"no ids", nil, "unit_ids"},
			{"an empty id", []string{"a", ""}, "unit_ids[1]"},
			{"an id too long", []string{string(make([]byte, MaxUnitID+1))}, "unit_ids[0]"},
			{"too many ids", make([]string, MaxBatch+1), "unit_ids"},
		} {
			_, err := NewEraser(&fakeStore{}, nil, []byte("k"), nil).Erase(context.Background(), tc.ids)
			var ve *experiment.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("%s: err %v, want a ValidationError on %s", tc.name, err, tc.field)
			}
		}
	})
}

func TestLoadSecret(t *testing.T) {
	t.Run("a generated secret is kept in the data directory and reused", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		a, err := LoadSecret("", dir)
		if err != nil {
			t.Fatal(err)
		}
		b, err := LoadSecret("", dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 32 || string(a) != string(b) {
			t.Errorf("secrets %x and %x", a, b)
		}
		fi, err := os.Stat(filepath.Join(dir, SecretFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("secret file: %v, mode %v", err, fi.Mode())
		}
	})
	t.Run("a configured secret wins and must be long enough", func(t *testing.T) {
		s, err := LoadSecret("0123456789abcdef", t.TempDir())
		if err != nil || string(s) != "0123456789abcdef" {
			t.Errorf("secret %q, %v", s, err)
		}
		var ve *experiment.ValidationError
		if _, err := LoadSecret("short", t.TempDir()); !errors.As(err, &ve) || ve.Field != "privacy.hash_secret" {
			t.Errorf("short secret: %v", err)
		}
	})
	t.Run("a damaged secret file is an error, not a new secret", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, SecretFile), []byte("not hex"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSecret("", dir); err == nil {
			t.Error("no error")
		}
	})
}

func TestErasedUnits(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	t.Run("before any erasure merges ask the store only every ten seconds", func(t *testing.T) {
		st := &fakeStore{}
		e := NewEraser(st, nil, []byte("k"), clock)
		for range 3 {
			if got, err := e.ErasedUnits(ctx, []string{"a"}); err != nil || got["a"] {
				t.Fatalf("erased %v, %v", got, err)
			}
		}
		if st.lookups != 1 {
			t.Errorf("%d store look-ups, want 1", st.lookups)
		}
	})
	t.Run("after an erasure the erased units are reported, others not", func(t *testing.T) {
		st := &fakeStore{}
		e := NewEraser(st, nil, []byte("k"), clock)
		if _, err := e.Erase(ctx, []string{"a"}); err != nil {
			t.Fatal(err)
		}
		got, err := e.ErasedUnits(ctx, []string{"a", "b", "a"})
		if err != nil || !got["a"] || got["b"] || len(got) != 1 {
			t.Errorf("erased %v, %v; want a only", got, err)
		}
	})
	t.Run("an erasure by another instance is seen at the next check", func(t *testing.T) {
		st := &fakeStore{}
		other := NewEraser(st, nil, []byte("k"), clock)
		e := NewEraser(st, nil, []byte("k"), func() time.Time { return now })
		if got, _ := e.ErasedUnits(ctx, []string{"a"}); got["a"] {
			t.Fatal("erased before any erasure")
		}
		if _, err := other.Erase(ctx, []string{"a"}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(recheck)
		if got, _ := e.ErasedUnits(ctx, []string{"a"}); !got["a"] {
			t.Error("the other instance's erasure is not seen")
		}
	})
}
