package experiment

import (
	"context"
	"fmt"
	"slices"

	"github.com/journeylab/journeylab/warning"
)

// KnownTouchpoints returns the touchpoints of the experiments that are not
// archived, sorted, each once: a touchpoint whose experiments are drafts
// or paused is known, so only a typo or a forgotten experiment is not.
func KnownTouchpoints(list []*Experiment) []string {
	var out []string
	for _, e := range list {
		if e.Status != StatusArchived && e.Touchpoint != "" {
			out = append(out, e.Touchpoint)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// UnknownTouchpoint returns the warning for a request naming touchpoint
// when it is not in known (sorted, as KnownTouchpoints returns it), with
// the closest known one as a hint; nil when it is known or empty.
func UnknownTouchpoint(known []string, touchpoint string) *warning.Warning {
	if touchpoint == "" {
		return nil
	}
	if _, ok := slices.BinarySearch(known, touchpoint); ok {
		return nil
	}
	return &warning.Warning{Code: warning.UnknownTouchpoint, Touchpoint: touchpoint,
		Message: fmt.Sprintf("no experiment uses the touchpoint %q", touchpoint),
		Hint:    warning.DidYouMean(warning.Closest(known, touchpoint))}
}

// TouchpointWarning is UnknownTouchpoint over the stored experiments.
func (s *Service) TouchpointWarning(ctx context.Context, touchpoint string) (*warning.Warning, error) {
	if touchpoint == "" {
		return nil, nil
	}
	list, err := s.store.ListExperiments(ctx, Filter{})
	if err != nil {
		return nil, fmt.Errorf("list experiments for their touchpoints: %w", err)
	}
	return UnknownTouchpoint(KnownTouchpoints(list), touchpoint), nil
}
