package health

import (
	"fmt"
	"math"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// SafeguardAction is what a safeguard does to a harmful experiment.
type SafeguardAction string

// Safeguard actions.
const (
	// SafeguardPause pauses the experiment: every visitor gets the default
	// experience (no variant) until someone resumes it.
	SafeguardPause SafeguardAction = "pause"
	// SafeguardControl sends all traffic to control (weight 1 for control,
	// 0 for every treatment). Units already exposed stay on their variant
	// (stickiness). Experiments in optimise mode are paused instead: the
	// bandit would move the traffic back.
	SafeguardControl SafeguardAction = "control"
)

// Safeguard is an opt-in circuit breaker of one experiment.
type Safeguard struct {
	Action SafeguardAction `json:"action"`
	// On lists the checks that trigger it: "guardrail" and/or "srm".
	On []Check `json:"on"`
}

// Settings are one experiment's health settings; zero fields take the
// scheduler's defaults (Options).
type Settings struct {
	// Safeguard, when set, acts on the experiment when an alert of one of
	// its checks opens.
	Safeguard *Safeguard `json:"safeguard,omitempty"`
	// PlannedUnits is the total number of exposed units (all variants) the
	// experiment needs, from its sample-size plan; the underpowered check
	// runs only when it is set.
	PlannedUnits int64 `json:"planned_units,omitempty"`
	// MaxDays is how long the experiment may run to reach PlannedUnits.
	MaxDays float64 `json:"max_days,omitempty"`
	// ExposureDelayMinutes and EventDelayMinutes are how long the
	// experiment may go without a new exposure or a new outcome event.
	ExposureDelayMinutes float64 `json:"exposure_delay_minutes,omitempty"`
	EventDelayMinutes    float64 `json:"event_delay_minutes,omitempty"`
	// UpdatedBy and UpdatedAt say who last changed the settings (set by
	// the server).
	UpdatedBy string     `json:"updated_by,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// Validate checks the settings; errors are *experiment.ValidationError.
func (s Settings) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &experiment.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if g := s.Safeguard; g != nil {
		if g.Action != SafeguardPause && g.Action != SafeguardControl {
			return bad("safeguard.action", "must be \"pause\" or \"control\", got %q", g.Action)
		}
		if len(g.On) == 0 {
			return bad("safeguard.on", "name at least one trigger: \"guardrail\" and/or \"srm\"")
		}
		for i, c := range g.On {
			if c != CheckGuardrail && c != CheckSRM {
				return bad(fmt.Sprintf("safeguard.on[%d]", i), "must be \"guardrail\" or \"srm\", got %q", c)
			}
		}
	}
	if s.PlannedUnits < 0 {
		return bad("planned_units", "must not be negative")
	}
	for field, v := range map[string]float64{"max_days": s.MaxDays, "exposure_delay_minutes": s.ExposureDelayMinutes, "event_delay_minutes": s.EventDelayMinutes} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return bad(field, "must be a non-negative number")
		}
	}
	if s.MaxDays > 3650 {
		return bad("max_days", "at most 3650")
	}
	for field, v := range map[string]float64{"exposure_delay_minutes": s.ExposureDelayMinutes, "event_delay_minutes": s.EventDelayMinutes} {
		if v != 0 && (v < 1 || v > 60*24*30) {
			return bad(field, "must be from 1 minute to 30 days (43200)")
		}
	}
	return nil
}

// triggers reports whether the safeguard acts on alerts of check c.
func (g *Safeguard) triggers(c Check) bool {
	if g == nil {
		return false
	}
	for _, x := range g.On {
		if x == c {
			return true
		}
	}
	return false
}

// minutes converts a setting in minutes, or returns def when it is zero.
func minutes(v float64, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return time.Duration(v * float64(time.Minute))
}
