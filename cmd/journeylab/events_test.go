package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/eventnames"
	"github.com/journeylab/journeylab/store/sqlite"
)

func TestEventsUnknownListsTheNames(t *testing.T) {
	dir := t.TempDir()
	t.Run("an empty store says there are none", func(t *testing.T) {
		out, _, err := run(t, "events", "unknown", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "No unknown event names") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	err = st.AddUnknownEvents(context.Background(), []eventnames.Seen{
		{Name: "add_to_krat", Count: 3, FirstSeen: at, LastSeen: at.Add(time.Minute)},
		{Name: "newsletter_signup", Count: 7, FirstSeen: at, LastSeen: at},
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"the table has counts, times and suggestions, most frequent first", nil,
			[]string{"newsletter_signup │ 7", "add_to_krat       │ 3      │ 2026-03-01 10:00:00 │ 2026-03-01 10:01:00 │ add_to_cart"}},
		{"--json answers as the API", []string{"--json", "--limit", "1"},
			[]string{`"name": "newsletter_signup"`, `"count": 7`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := run(t, append([]string{"events", "unknown", "--data-dir", dir}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(tc.name, "json") && strings.Contains(out, "add_to_krat") {
				t.Fatalf("--limit 1 printed more:\n%s", out)
			}
		})
	}
}
