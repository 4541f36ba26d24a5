package journey

import (
	"errors"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

var now = time.Date(2026, 3, 31, 15, 4, 5, 0, time.UTC)

func query(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseQuery(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, c := range []struct {
		name     string
		get      func(string) string
		from, to string
		dim      string
	}{
		{"no parameters show the last 28 days up to today", query(), "2026-03-04", "2026-03-31", ""},
		{"to alone ends the default range there", query("to", "2026-02-28"), "2026-02-01", "2026-02-28", ""},
		{"from and to are both shown", query("from", "2026-03-01", "to", "2026-03-01", "dimension", "jl:persona"), "2026-03-01", "2026-03-01", "jl:persona"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := ParseQuery(c.get, now)
			if err != nil {
				t.Fatal(err)
			}
			if !q.From.Equal(day(c.from)) || !q.To.Equal(day(c.to)) || q.Dimension != c.dim {
				t.Fatalf("got %v..%v %q, want %s..%s %q", q.From, q.To, q.Dimension, c.from, c.to, c.dim)
			}
		})
	}
	for _, c := range []struct {
		name  string
		get   func(string) string
		field string
	}{
		{"a date that is not a date names from", query("from", "yesterday"), "from"},
		{"a timestamp is not a date", query("to", "2026-03-01T00:00:00Z"), "to"},
		{"to before from names to", query("from", "2026-03-02", "to", "2026-03-01"), "to"},
		{"more than a year names from", query("from", "2025-01-01", "to", "2026-03-01"), "from"},
		{"a dimension with a dollar names dimension", query("dimension", "$where"), "dimension"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseQuery(c.get, now)
			var ve *experiment.ValidationError
			if !errors.As(err, &ve) || ve.Field != c.field {
				t.Fatalf("error %v, want a validation error naming %s", err, c.field)
			}
		})
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("2026-03-01", "2026-03-28", "device")
	f.Add("", "x", "")
	f.Fuzz(func(t *testing.T, from, to, dim string) {
		q, err := ParseQuery(query("from", from, "to", to, "dimension", dim), now)
		if err != nil {
			var ve *experiment.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("error %v is not a validation error naming a field", err)
			}
			return
		}
		if q.To.Before(q.From) || q.To.Sub(q.From) > MaxDays*24*time.Hour {
			t.Fatalf("accepted range %v..%v", q.From, q.To)
		}
	})
}
