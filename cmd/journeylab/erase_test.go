package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/store/sqlite"
)

func TestEraseRemovesUnits(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	ctx := context.Background()
	checkoutButton(t, st, svc, at, "u3")
	st.Close()
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(ids, []byte("u3\n\nu9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "erase", "u2", "--from-file", ids, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "erased 3 units: 1 events, 2 exposures, 1 rollups removed"; !strings.Contains(out, want) {
		t.Errorf("output %q, want %q", out, want)
	}
	st, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	if err := st.ExposureVariants(ctx, "checkout-button", func(unit, _ string) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("%d exposures left (%v), want u1's only", n, err)
	}
	if _, _, err := run(t, "erase", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "at least one unit id") {
		t.Errorf("no ids: err = %v", err)
	}
}
