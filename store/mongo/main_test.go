package mongo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// The tests that need a server run against a real MongoDB replica set:
// the one JOURNEYLAB_TEST_MONGODB_URI names. `make test-mongo` starts a
// throw-away one in Docker and sets it. Without it they skip, saying why.
// Nothing here imitates MongoDB.

// uriEnv names the environment variable with the URI of a test replica set.
const uriEnv = "JOURNEYLAB_TEST_MONGODB_URI"

// TestingURI returns the URI of a MongoDB replica set for tests, or skips
// t when none is configured.
func TestingURI(t testing.TB) string {
	t.Helper()
	uri := os.Getenv(uriEnv)
	if uri == "" {
		t.Skip(uriEnv + " unset: skipping the tests that need a MongoDB server (make test-mongo starts one in Docker and runs them)")
	}
	return uri
}

// OpenTesting opens a store on a fresh database of the test server and
// drops the database when t ends.
func OpenTesting(t testing.TB) *Store {
	t.Helper()
	uri := TestingURI(t)
	ctx := context.Background()
	name := fmt.Sprintf("jltest_%s_%08x", sanitize(t.Name()), rand.Uint32())
	st, err := Open(ctx, uri, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := st.db.Drop(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("drop %s: %v", name, err)
		}
		_ = st.Close()
	})
	return st
}

// sanitize shortens a test name into database-name characters.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() == 30 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// DropTesting drops the database name of the test server, for the tests of
// package mongo_test that start the whole service.
func DropTesting(t testing.TB, uri, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := Open(ctx, uri, name, Options{})
	if err != nil {
		t.Logf("drop %s: %v", name, err)
		return
	}
	defer st.Close()
	if err := st.db.Drop(ctx); err != nil {
		t.Logf("drop %s: %v", name, err)
	}
}
