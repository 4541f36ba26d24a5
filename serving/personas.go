package serving

import (
	"context"
	"fmt"
	"strings"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

// PersonaReader is implemented by stores that keep personas; experiments'
// targeting conditions reference them with {"$persona": "<key>"}. A store
// without it serves experiments without personas.
type PersonaReader interface {
	// ListPersonas returns every persona ordered by key.
	ListPersonas(ctx context.Context) ([]*experiment.Persona, error)
}

// AssignPersona converts a stored persona into the assignment view.
func AssignPersona(p *experiment.Persona) assign.Persona {
	return assign.Persona{Key: p.Key, Condition: p.Condition}
}

// loadPersonas reads the personas for a snapshot rebuild.
func (s *Service) loadPersonas(ctx context.Context) ([]assign.Persona, error) {
	pr, ok := s.store.(PersonaReader)
	if !ok {
		return nil, nil
	}
	list, err := pr.ListPersonas(ctx)
	if err != nil {
		return nil, fmt.Errorf("list personas: %w", err)
	}
	out := make([]assign.Persona, len(list))
	for i, p := range list {
		out[i] = AssignPersona(p)
	}
	return out, nil
}

// compilablePersonas leaves out, logging each, the personas that do not
// compile on their own; experiments referencing them are then left out too.
func (s *Service) compilablePersonas(personas []assign.Persona) []assign.Persona {
	if _, err := assign.NewSnapshot(nil, nil, personas...); err == nil {
		return personas
	}
	var kept []assign.Persona
	seen := map[string]bool{}
	for _, p := range personas {
		if _, err := assign.NewSnapshot(nil, nil, p); err != nil || seen[p.Key] {
			s.leftOut("persona", p.Key, err)
			continue
		}
		seen[p.Key] = true
		kept = append(kept, p)
	}
	return kept
}

// withPersonas adds to an exposure's flattened attributes the personas the
// request attributes match, under experiment.PersonaDimension (keys sorted,
// joined with ","), so that reports break results down by persona through
// the ordinary dimension mechanism. It runs once per first exposure.
func withPersonas(snap *assign.Snapshot, attrs map[string]any, flat map[string]string) map[string]string {
	// A client cannot set the dimension itself.
	delete(flat, experiment.PersonaDimension)
	var buf [8]string
	matched := snap.Personas(attrs, buf[:0])
	if len(matched) == 0 {
		return flat
	}
	if flat == nil {
		flat = make(map[string]string, 1)
	}
	flat[experiment.PersonaDimension] = strings.Join(matched, ",")
	return flat
}
