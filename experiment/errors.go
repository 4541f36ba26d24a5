package experiment

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors that the HTTP layer maps to status codes. Wrap them with %w
// and context; callers test with errors.Is.
var (
	// ErrNotFound means the named experiment, metric, layer or key does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a create collided with an existing key (409).
	ErrAlreadyExists = errors.New("already exists")
	// ErrVersionConflict means an update carried a stale version (409).
	ErrVersionConflict = errors.New("version conflict")
	// ErrIllegalTransition means a lifecycle change is not allowed from the current status (409).
	ErrIllegalTransition = errors.New("illegal status transition")
	// ErrInvalid means the input failed validation (400); see ValidationError.
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable means the store cannot be reached right now (503).
	ErrUnavailable = errors.New("store unavailable")
)

// ValidationError names the offending field so clients can point at it.
type ValidationError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Unwrap lets errors.Is(err, ErrInvalid) succeed for every validation error.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// invalid builds a ValidationError for field with a formatted message.
func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ValidationErrors is every problem validation found in one input, in the
// order of its fields. It unwraps to each *ValidationError, so
// errors.Is(err, ErrInvalid) holds and errors.As finds the first problem.
type ValidationErrors []*ValidationError

// Error implements error: one problem per line.
func (es ValidationErrors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(es))
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns each problem, for errors.Is and errors.As.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Problems returns every validation problem err carries, in order: the
// list of a ValidationErrors, or the one *ValidationError it wraps; nil for
// other errors.
func Problems(err error) []*ValidationError {
	var es ValidationErrors
	if errors.As(err, &es) {
		return es
	}
	var e *ValidationError
	if errors.As(err, &e) {
		return []*ValidationError{e}
	}
	return nil
}

// maxProblems bounds the problems one input reports; past it the last
// entry says how many more there were.
const maxProblems = 50

// problems collects validation problems so that a client learns about all
// of them from one answer.
type problems struct {
	list  ValidationErrors
	extra int
}

// add records a problem of field.
func (p *problems) add(field, format string, args ...any) {
	p.addError(invalid(field, format, args...))
}

// addError records err: its validation problems one by one, or the error
// itself (e.g. a store failure) as the reason to stop, which is returned.
func (p *problems) addError(err error) error {
	if err == nil {
		return nil
	}
	found := Problems(err)
	if found == nil {
		return err
	}
	for _, e := range found {
		if len(p.list) < maxProblems {
			p.list = append(p.list, e)
		} else {
			p.extra++
		}
	}
	return nil
}

// err returns nil, the single problem, or every problem.
func (p *problems) err() error {
	switch {
	case len(p.list) == 0:
		return nil
	case len(p.list) == 1 && p.extra == 0:
		return p.list[0]
	}
	out := p.list
	if p.extra > 0 {
		out = append(out[:len(out):len(out)], invalid("", "and %d more problems", p.extra))
	}
	return out
}
