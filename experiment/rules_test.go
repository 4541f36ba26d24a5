package experiment

import (
	"errors"
	"strings"
	"testing"
)

func TestKeyAndEventErrorsDescribeTheRuleInWords(t *testing.T) {
	for _, tc := range []struct {
		name, field, example string
		validate             func() error
	}{
		{"an experiment key with upper case", "key", "one-page-checkout", func() error {
			e := &Experiment{Key: "One Page", Name: "x"}
			return e.Validate()
		}},
		{"a metric event with a dollar", "event", "order_completed", func() error {
			m := &Metric{Key: "gift", Stage: StageCheckout, Kind: KindMean, Direction: HigherIsBetter, Event: "$set"}
			return m.Validate()
		}},
	} {
		t.Run(tc.name+" says what a valid one looks like, with no regular expression", func(t *testing.T) {
			var ve *ValidationError
			if err := tc.validate(); !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want a ValidationError on %q", err, tc.field)
			}
			if strings.ContainsAny(ve.Message, "^$[]{}") || !strings.Contains(ve.Message, tc.example) {
				t.Fatalf("message %q shows a pattern or lacks the example %q", ve.Message, tc.example)
			}
		})
	}
}
