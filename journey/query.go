package journey

import (
	"fmt"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

// DefaultDays is the range a map shows when the query names none.
const DefaultDays = 28

// ParseQuery reads a map query from its text fields (from, to: UTC dates
// YYYY-MM-DD, both shown; dimension: a unit attribute). A missing to is
// today; a missing from is DefaultDays days up to to.
func ParseQuery(get func(string) string, now time.Time) (Query, error) {
	var q Query
	var err error
	q.To = now.UTC().Truncate(24 * time.Hour)
	if s := get("to"); s != "" {
		if q.To, err = parseDate("to", s); err != nil {
			return Query{}, err
		}
	}
	q.From = q.To.AddDate(0, 0, -(DefaultDays - 1))
	if s := get("from"); s != "" {
		if q.From, err = parseDate("from", s); err != nil {
			return Query{}, err
		}
	}
	if q.To.Before(q.From) {
		return Query{}, &experiment.ValidationError{Field: "to", Message: fmt.Sprintf("%s is before from (%s)", q.To.Format(time.DateOnly), q.From.Format(time.DateOnly))}
	}
	if days := int(q.To.Sub(q.From).Hours()/24) + 1; days > MaxDays {
		return Query{}, &experiment.ValidationError{Field: "from", Message: fmt.Sprintf("the range is %d days; at most %d", days, MaxDays)}
	}
	if q.Dimension, err = report.ParseDimension(get("dimension")); err != nil {
		return Query{}, err
	}
	return q, nil
}

func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &experiment.ValidationError{Field: field, Message: fmt.Sprintf("must be a date like 2026-03-01, got %q", s)}
	}
	return t, nil
}
