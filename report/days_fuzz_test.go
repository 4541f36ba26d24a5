package report

import (
	"errors"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
)

// The view and days query values come from the outside: an answer within
// bounds, or a ValidationError naming its parameter, never a panic.
func FuzzParseExposureDaysOptions(f *testing.F) {
	for _, s := range [][2]string{{"", ""}, {"daily", "7"}, {"cumulative", "90"}, {"weekly", "0"}, {"Daily", "-1"}, {"", "1e3"}, {"", " 7"}, {"\x00", "٣"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, view, days string) {
		o, err := ParseExposureDaysOptions(view, days)
		if err != nil {
			var ve *experiment.ValidationError
			if !errors.As(err, &ve) || (ve.Field != "view" && ve.Field != "days") {
				t.Fatalf("err = %v (%T), want a ValidationError naming view or days", err, err)
			}
			return
		}
		if o.View != outcomes.Daily && o.View != outcomes.Cumulative {
			t.Fatalf("view %q accepted as %q", view, o.View)
		}
		if o.Days < 1 || o.Days > MaxExposureDays {
			t.Fatalf("days %q accepted as %d", days, o.Days)
		}
	})
}
