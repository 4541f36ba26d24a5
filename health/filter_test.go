package health_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
)

func TestParseFilter(t *testing.T) {
	cases := []struct {
		name  string
		q     map[string]string
		want  health.Filter
		field string
	}{
		{"no parameters list everything, 100 at most", nil, health.Filter{Limit: health.DefaultLimit}, ""},
		{"every parameter is read", map[string]string{"status": "open", "experiment": "checkout", "check": "srm", "limit": "5"},
			health.Filter{Status: health.Open, Experiment: "checkout", Check: health.CheckSRM, Limit: 5}, ""},
		{"an unknown status names status", map[string]string{"status": "closed"}, health.Filter{}, "status"},
		{"an unknown check names check", map[string]string{"check": "SRM"}, health.Filter{}, "check"},
		{"a limit above the maximum names limit", map[string]string{"limit": strconv.Itoa(health.MaxLimit + 1)}, health.Filter{}, "limit"},
		{"a limit that is not a number names limit", map[string]string{"limit": "ten"}, health.Filter{}, "limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := health.ParseFilter(func(k string) string { return tc.q[k] })
			var ve *experiment.ValidationError
			if tc.field != "" {
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("err %v, want a validation error on %s", err, tc.field)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	f.Add("open", "srm", "10", "x")
	f.Add("", "", "", "")
	f.Add("resolved", "guardrail", "-1", "\x00")
	f.Fuzz(func(t *testing.T, status, check, limit, exp string) {
		q := map[string]string{"status": status, "check": check, "limit": limit, "experiment": exp}
		got, err := health.ParseFilter(func(k string) string { return q[k] })
		if err != nil {
			if !errors.Is(err, experiment.ErrInvalid) {
				t.Fatalf("error %v is not a validation error", err)
			}
			return
		}
		if got.Limit < 1 || got.Limit > health.MaxLimit || (got.Status != "" && got.Status != health.Open && got.Status != health.Resolved) {
			t.Fatalf("accepted %+v", got)
		}
	})
}
