// Package warning is what the API says about input it accepted as sent but
// that looks like a mistake: an event name no metric uses, a touchpoint no
// experiment runs on, a breakdown attribute no unit has. Accepting keeps
// the data (events are the source of truth); the warning, with a "did you
// mean" hint when a known name is close, lets the sender notice the typo.
package warning

import (
	"strings"

	"github.com/agnivade/levenshtein"
)

// Codes of the warnings.
const (
	UnknownEvent      = "unknown_event"
	UnknownTouchpoint = "unknown_touchpoint"
	UnknownDimension  = "unknown_dimension"
)

// Warning is one warning; the members that do not apply to its code are
// empty and left out of the JSON.
type Warning struct {
	Code string `json:"code"`
	// Event is the event name (UnknownEvent) and Count how many events of
	// the batch carry it.
	Event string `json:"event,omitempty"`
	Count int    `json:"count,omitempty"`
	// Touchpoint is the touchpoint asked for (UnknownTouchpoint).
	Touchpoint string `json:"touchpoint,omitempty"`
	// Dimension is the breakdown attribute asked for (UnknownDimension).
	Dimension string `json:"dimension,omitempty"`
	Message   string `json:"message"`
	// Hint suggests a fix, e.g. "did you mean add_to_cart?".
	Hint string `json:"hint,omitempty"`
}

// Closest returns the candidate closest to name by edit distance, ignoring
// case, or "" when none is close: at most a third of the name's characters
// may differ (at least 2). Ties go to the earlier candidate.
func Closest(candidates []string, name string) string {
	lower := strings.ToLower(name)
	best, bestD := "", max(2, len([]rune(name))/3)+1
	for _, c := range candidates {
		if d := levenshtein.ComputeDistance(lower, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean is the hint for a closest candidate, "" for none.
func DidYouMean(closest string) string {
	if closest == "" {
		return ""
	}
	return "did you mean " + closest + "?"
}
