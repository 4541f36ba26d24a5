package serving

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/warning"
)

// refreshTouchpoints reads experiment.KnownTouchpoints from the store.
func (s *Service) refreshTouchpoints(ctx context.Context) error {
	list, err := s.store.ListExperiments(ctx, experiment.Filter{})
	if err != nil {
		return fmt.Errorf("list experiments for their touchpoints: %w", err)
	}
	tps := experiment.KnownTouchpoints(list)
	s.touchpoints.Store(&tps)
	return nil
}

// AppendTouchpointWarning adds "warnings" to the assign response body b
// (AppendResponse's, ending in '}') when the request names a touchpoint no
// experiment uses (experiment.UnknownTouchpoint, as of the last refresh).
func (s *Service) AppendTouchpointWarning(b []byte, r *Request) []byte {
	known := s.touchpoints.Load()
	if r.touchpoint == "" || known == nil {
		return b
	}
	w := experiment.UnknownTouchpoint(*known, r.touchpoint)
	if w == nil {
		return b
	}
	enc, err := json.Marshal([]*warning.Warning{w})
	if err != nil {
		return b // a struct of strings always encodes
	}
	b = append(b[:len(b)-1], `,"warnings":`...)
	b = append(b, enc...)
	return append(b, '}')
}
