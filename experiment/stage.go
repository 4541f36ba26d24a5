package experiment

import "fmt"

// Stage is a step of the customer journey. Every touchpoint and every metric
// belongs to exactly one stage, and reports are grouped by stage in journey order.
type Stage string

// The journey stages, in the order a customer meets them.
const (
	StageAwareness     Stage = "awareness"
	StageConsideration Stage = "consideration"
	StageDecision      Stage = "decision"
	StageCheckout      Stage = "checkout"
	StageDelivery      Stage = "delivery"
	StageUsage         Stage = "usage"
	StageLoyalty       Stage = "loyalty"
	StageReturns       Stage = "returns"
)

// Stages lists every journey stage in journey order.
func Stages() []Stage {
	return []Stage{StageAwareness, StageConsideration, StageDecision, StageCheckout,
		StageDelivery, StageUsage, StageLoyalty, StageReturns}
}

// Order is the position of the stage in the journey (0 for awareness), or -1
// for an unknown stage, so that unknown values sort last when callers add 1.
func (s Stage) Order() int {
	for i, known := range Stages() {
		if s == known {
			return i
		}
	}
	return -1
}

// Valid reports whether s is one of the journey stages.
func (s Stage) Valid() bool { return s.Order() >= 0 }

// ParseStage returns the stage named by s, or an error listing the valid names.
func ParseStage(s string) (Stage, error) {
	stage := Stage(s)
	if !stage.Valid() {
		return "", fmt.Errorf("unknown journey stage %q (want one of %v)", s, Stages())
	}
	return stage, nil
}

// StageBits maps each event name that a metric of ms uses (its event or
// denominator event) to the bits of the metrics' stages: bit i is the stage
// of Order i.
func StageBits(ms []Metric) map[string]int64 {
	out := map[string]int64{}
	for _, m := range ms {
		i := m.Stage.Order()
		if i < 0 {
			continue
		}
		for _, ev := range []string{m.Event, m.DenominatorEvent} {
			if ev != "" {
				out[ev] |= 1 << i
			}
		}
	}
	return out
}
