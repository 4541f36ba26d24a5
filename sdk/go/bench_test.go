package journeylab_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/assign"
	journeylab "github.com/journeylab/journeylab/sdk/go"
)

// BenchmarkVariant evaluates ten experiments on one touchpoint, four of
// them targeted, for a unit already exposed (the steady state: the
// exposure is not queued again).
func BenchmarkVariant(b *testing.B) {
	var exps []string
	for i := range 10 {
		targeting := ""
		if i%3 == 0 {
			targeting = `,"targeting":{"device":"mobile","visits":{"$gte":2}}`
		}
		exps = append(exps, fmt.Sprintf(`{"key":"exp-%d","touchpoint":"product-page","coverage":0.9,
		 "variants":[{"key":"control"},{"key":"treatment","payload":{"n":%d}}],"allocation":{"ranges":null}%s}`, i, i, targeting))
	}
	doc := `{"version":1,"experiments":[` + strings.Join(exps, ",") + `],"layers":[],"personas":[]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, doc)
			return
		}
		_, _ = io.WriteString(w, `{"rejected":0}`)
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := journeylab.New(ctx, journeylab.Options{BaseURL: srv.URL, RefreshInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	attrs := map[string]any{"device": "mobile", "visits": 3.0}
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("exp-%d", i)
		c.Variant(ctx, "visitor-42", keys[i], attrs)
	}
	b.Run("one experiment of ten", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c.Variant(ctx, "visitor-42", keys[i%10], attrs)
		}
	})
	b.Run("a touchpoint of ten experiments in one Assign", func(b *testing.B) {
		b.ReportAllocs()
		dst := make([]assign.Assignment, 0, 16)
		for b.Loop() {
			dst = c.Assign(ctx, "visitor-42", "product-page", attrs, dst[:0])
		}
		if len(dst) < 5 {
			b.Fatalf("%d assignments, want most of the ten", len(dst))
		}
	})
	b.Run("ten experiments one Variant each", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range keys {
				c.Variant(ctx, "visitor-42", k, attrs)
			}
		}
	})
}
