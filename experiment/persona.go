package experiment

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/journeylab/journeylab/assign"
)

// Persona is a named, reusable audience: a targeting condition with a
// human description, like the journey map's "Sarah, worried about quality,
// sizes and returns". Experiments reference it from their targeting with
// {"$persona": "<key>"}; reports can break results down by persona.
type Persona struct {
	Key         string           `json:"key"`
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	Condition   assign.Condition `json:"condition"`
	Version     int64            `json:"version"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// PersonaDimension is the exposure attribute that records the personas a
// unit's attributes matched at its first exposure (keys sorted, joined with
// ","): reports break results down by persona with
// ?dimension=jl:persona. Its name cannot come from a persona key or clash
// with the usual attribute names.
const PersonaDimension = "jl:persona"

// personaAuditPrefix keys a persona's audit entries in the audit trail;
// experiment keys cannot contain ':', so they never collide.
const personaAuditPrefix = "persona:"

// PersonaAuditKey is the key under which a persona's audit entries are
// stored (AuditEntry.ExperimentKey).
func PersonaAuditKey(key string) string { return personaAuditPrefix + key }

// Normalize fills defaults.
func (p *Persona) Normalize() {
	if p.Name == "" {
		p.Name = p.Key
	}
}

// Validate checks the persona, including that its condition compiles, and
// reports every problem; errors name the field, for the condition the path
// of the bad part (e.g. "condition.$or[1].age.$gt").
func (p *Persona) Validate() error {
	var ps problems
	if !validKey(p.Key) {
		ps.add("key", "%s", keyRule)
	}
	if len(p.Name) > 200 {
		ps.add("name", "at most 200 characters")
	}
	if len(p.Description) > 4000 {
		ps.add("description", "at most 4000 characters")
	}
	if p.Condition.IsZero() {
		ps.add("condition", "required: a condition in MongoDB query syntax, e.g. {\"segment\": \"quality-seeker\"}")
	} else if _, err := assign.CompilePersona(p.Condition, assign.Env{}); err != nil {
		_ = ps.addError(conditionError("condition", err))
	}
	return ps.err()
}

// conditionError turns a compile error into validation errors whose fields
// are the paths of the bad parts.
func conditionError(field string, err error) error {
	var p problems
	var each []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		each = j.Unwrap()
	} else {
		each = []error{err}
	}
	for _, e := range each {
		var re *assign.RuleError
		if errors.As(e, &re) {
			p.add(re.Path, "%s", re.Reason)
		} else {
			p.add(field, "%v", e)
		}
	}
	return p.err()
}

// ValidateTargeting compiles the experiment's targeting condition with the
// personas it may reference (compiled, by key); errors name the path of the
// bad part, rooted at "targeting".
func (e *Experiment) ValidateTargeting(personas map[string]assign.Matcher) error {
	if _, err := assign.CompileCondition(e.Targeting, assign.Env{Personas: personas}); err != nil {
		return conditionError("targeting", err)
	}
	return nil
}

// compiledPersonas compiles every stored persona, for validating targeting
// conditions that reference them.
func (s *Service) compiledPersonas(ctx context.Context) (map[string]assign.Matcher, error) {
	list, err := s.store.ListPersonas(ctx)
	if err != nil {
		return nil, fmt.Errorf("list personas: %w", err)
	}
	out := make(map[string]assign.Matcher, len(list))
	for _, p := range list {
		m, err := assign.CompilePersona(p.Condition, assign.Env{})
		if err != nil {
			continue // a stored persona that no longer compiles matches no experiment
		}
		out[p.Key] = m
	}
	return out, nil
}

// CreatePersona validates and stores a new persona, with its audit entry.
func (s *Service) CreatePersona(ctx context.Context, actor string, p Persona) (*Persona, error) {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	p.Version, p.CreatedAt, p.UpdatedAt = 1, now, now
	audit := AuditEntry{ExperimentKey: PersonaAuditKey(p.Key), Actor: actor, Action: "create", At: now, Version: 1, Changes: personaDiff(nil, &p)}
	if err := s.store.CreatePersona(ctx, &p, audit); err != nil {
		return nil, fmt.Errorf("create persona %s: %w", p.Key, err)
	}
	return &p, nil
}

// GetPersona returns one persona.
func (s *Service) GetPersona(ctx context.Context, key string) (*Persona, error) {
	p, err := s.store.GetPersona(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get persona %s: %w", key, err)
	}
	return p, nil
}

// ListPersonas returns every persona ordered by key.
func (s *Service) ListPersonas(ctx context.Context) ([]*Persona, error) {
	list, err := s.store.ListPersonas(ctx)
	if err != nil {
		return nil, fmt.Errorf("list personas: %w", err)
	}
	return list, nil
}

// UpdatePersona replaces a persona's name, description and condition.
// next.Version must be the version the client read. Running experiments
// that reference the persona see the new condition at the next refresh of
// the assignment snapshot.
func (s *Service) UpdatePersona(ctx context.Context, actor, key string, next Persona) (*Persona, error) {
	cur, err := s.GetPersona(ctx, key)
	if err != nil {
		return nil, err
	}
	if next.Version != cur.Version {
		return nil, fmt.Errorf("%w: persona %s is at version %d, the update was based on %d", ErrVersionConflict, key, cur.Version, next.Version)
	}
	if next.Key != "" && next.Key != key {
		return nil, invalid("key", "cannot be changed (was %q)", key)
	}
	next.Key = key
	next.Normalize()
	if err := next.Validate(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	next.Version, next.CreatedAt, next.UpdatedAt = cur.Version+1, cur.CreatedAt, now
	audit := AuditEntry{ExperimentKey: PersonaAuditKey(key), Actor: actor, Action: "update", At: now, Version: next.Version, Changes: personaDiff(cur, &next)}
	if err := s.store.UpdatePersona(ctx, &next, cur.Version, audit); err != nil {
		return nil, fmt.Errorf("update persona %s: %w", key, err)
	}
	return &next, nil
}

// DeletePersona removes a persona that no experiment references any more
// (archived experiments excepted); the audit trail keeps its history.
func (s *Service) DeletePersona(ctx context.Context, actor, key string) error {
	cur, err := s.GetPersona(ctx, key)
	if err != nil {
		return err
	}
	users, err := s.PersonaUsers(ctx, key)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("%w: persona %s is referenced by experiment(s) %s; remove it from their targeting first",
			ErrIllegalTransition, key, strings.Join(users, ", "))
	}
	now := s.now().UTC()
	audit := AuditEntry{ExperimentKey: PersonaAuditKey(key), Actor: actor, Action: "delete", At: now, Version: cur.Version + 1, Changes: personaDiff(cur, nil)}
	if err := s.store.DeletePersona(ctx, key, cur.Version, audit); err != nil {
		return fmt.Errorf("delete persona %s: %w", key, err)
	}
	return nil
}

// PersonaUsers returns the keys of the experiments, archived ones excepted,
// whose targeting references the persona, sorted.
func (s *Service) PersonaUsers(ctx context.Context, key string) ([]string, error) {
	list, err := s.store.ListExperiments(ctx, Filter{})
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	var out []string
	for _, e := range list {
		if e.Status == StatusArchived {
			continue
		}
		for _, k := range e.Targeting.Personas() {
			if k == key {
				out = append(out, e.Key)
				break
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// PersonaAudit returns the persona's audit trail, oldest first; it is
// available after the persona was deleted too.
func (s *Service) PersonaAudit(ctx context.Context, key string) ([]AuditEntry, error) {
	entries, err := s.store.ListAudit(ctx, PersonaAuditKey(key))
	if err != nil {
		return nil, fmt.Errorf("audit of persona %s: %w", key, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("persona %q: %w", key, ErrNotFound)
	}
	return entries, nil
}

// personaDiff lists the changed fields of a persona (nil before a
// creation, nil after a deletion) as audit changes.
func personaDiff(before, after *Persona) []Change { return diffOf(before, after) }
