package report

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/journeylab/journeylab/experiment"
)

// Query values come from the outside: every parser must answer a value or
// a ValidationError naming its parameter, never panic.

func FuzzParseReportQuery(f *testing.F) {
	for _, s := range []string{"", "csv", "device", "conversion,add_to_cart_rate", ",", "a,,b", "nps", "$where", "\x00", "conversion, conversion"} {
		f.Add(s)
	}
	e, m := testExperiment(), metricsByKey()
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseFormat(s); err != nil {
			requireValidation(t, err, "format")
		}
		if d, err := ParseDimension(s); err != nil {
			requireValidation(t, err, "dimension")
		} else if d != s {
			t.Fatalf("dimension %q came back as %q", s, d)
		}
		if steps, err := ParseFunnel(s, e, m); err != nil {
			requireValidation(t, err, "funnel")
		} else {
			for _, st := range steps {
				if st.Kind != experiment.KindBinomial {
					t.Fatalf("funnel accepted %s metric %s", st.Kind, st.Key)
				}
			}
		}
		if _, err := ParseSeriesMetrics(s, e, m); err != nil {
			requireValidation(t, err, "metric")
		}
	})
}

func FuzzParsePowerQuery(f *testing.F) {
	f.Add("baseline=0.05&mde=0.1&daily_units=1000")
	f.Add("sigma=1&delta=0.1&arms=3&alpha=0.01&power=0.9")
	f.Add("baseline=1e-300&mde=1e300")
	f.Add("sigma=1e-300&delta=1e300&arms=20&daily_units=1e-300&coverage=1e-300")
	f.Add("baseline=5%25&mde=10%25&units_per_arm=20000&test=t&arms=4&correction=none")
	f.Add("baseline=30&sigma=40&units_per_arm=2&contrast=relative&test=t")
	f.Add("sigma=1&delta=0.1&method=sequential&sequential_tuning=1e-300")
	f.Add("baseline=0.999999&units_per_arm=9223372036854775807&test=t")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		in, err := ParsePowerQuery(q.Get)
		if err != nil {
			requireValidation(t, err, "")
			return
		}
		p, err := PlanSampleSize(in)
		if err != nil {
			requireValidation(t, err, "")
			return
		}
		if p.PerArm < 1 || p.Total < p.PerArm || p.Days < 0 || !(p.PowerAchieved >= 0 && p.PowerAchieved <= 1) || !finite(p.Effect.Absolute) {
			t.Fatalf("plan %+v from %q", p, raw)
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("plan from %q does not marshal: %v", raw, err)
		}
	})
}

func requireValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *experiment.ValidationError
	if !errors.As(err, &ve) || ve.Field == "" || (field != "" && ve.Field != field) {
		t.Fatalf("err = %v (%T), want a ValidationError naming %q", err, err, field)
	}
}
