package experiment

import (
	"errors"
	"fmt"
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
