package health

import (
	"fmt"
	"strconv"

	"github.com/journeylab/journeylab/experiment"
)

func invalid(field, format string, args ...any) error {
	return &experiment.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ParseFilter reads the alert-list query (status, experiment, check,
// limit); errors name the parameter.
func ParseFilter(q func(string) string) (Filter, error) {
	f := Filter{Experiment: q("experiment")}
	switch s := AlertStatus(q("status")); s {
	case "", Open, Resolved:
		f.Status = s
	default:
		return f, invalid("status", "want open or resolved, got %q", s)
	}
	if c := Check(q("check")); c != "" {
		known := false
		for _, k := range Checks() {
			known = known || k == c
		}
		if !known {
			return f, invalid("check", "unknown check %q (want one of %v)", c, Checks())
		}
		f.Check = c
	}
	limit, err := ParseLimit(q("limit"))
	f.Limit = limit
	return f, err
}

// ParseLimit reads a list limit: DefaultLimit when empty, else a whole
// number from 1 to MaxLimit (an error naming "limit" otherwise).
func ParseLimit(s string) (int, error) {
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, invalid("limit", "want a whole number from 1 to %d", MaxLimit)
	}
	return n, nil
}
