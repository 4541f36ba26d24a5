package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

// Error is an error with an explicit HTTP status and machine-readable code,
// for handlers whose failure is not one of the domain sentinels.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	// RetryAfter, in seconds, is sent as Retry-After when positive.
	RetryAfter int
	// Problems lists every invalid field of a 400, the first one being
	// Field and Message; empty means that one only.
	Problems []Problem
}

// Problem is one invalid field of a request.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Errors lists every invalid field of a 400 (one entry when one field
	// is wrong); field and message above repeat the first.
	Errors []Problem `json:"errors,omitempty"`
}

// classify maps an error to its HTTP status, code and field.
func classify(err error) *Error {
	var se *Error
	var ve *experiment.ValidationError
	var je *jsonbody.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &je):
		return &Error{Status: fiber.StatusBadRequest, Code: "invalid_json", Message: je.Message, Field: je.Field}
	case errors.As(err, &ve):
		return invalidError(experiment.Problems(err))
	case errors.Is(err, experiment.ErrInvalid):
		return &Error{Status: fiber.StatusBadRequest, Code: "invalid", Message: err.Error()}
	case errors.Is(err, experiment.ErrNotFound):
		return &Error{Status: fiber.StatusNotFound, Code: "not_found", Message: err.Error()}
	case errors.Is(err, experiment.ErrAlreadyExists):
		return &Error{Status: fiber.StatusConflict, Code: "already_exists", Message: err.Error()}
	case errors.Is(err, experiment.ErrVersionConflict):
		return &Error{Status: fiber.StatusConflict, Code: "version_conflict", Message: err.Error()}
	case errors.Is(err, experiment.ErrIllegalTransition):
		return &Error{Status: fiber.StatusConflict, Code: "illegal_transition", Message: err.Error()}
	case errors.Is(err, experiment.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), diskFault(err):
		return &Error{Status: fiber.StatusServiceUnavailable, Code: "unavailable", Message: "the store is unavailable; retry shortly", RetryAfter: 2}
	case errors.As(err, &fe):
		code := map[int]string{404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 400: "bad_request"}[fe.Code]
		if code == "" {
			code = "http_error"
		}
		return &Error{Status: fe.Code, Code: code, Message: fe.Message}
	}
	return &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error; see the server log for the request id"}
}

// invalidError is the 400 for validation problems (at least one): field
// and message of the first, which also says how many more there are, and
// the list of all.
func invalidError(list []*experiment.ValidationError) *Error {
	e := &Error{Status: fiber.StatusBadRequest, Code: "invalid", Message: list[0].Message, Field: list[0].Field,
		Problems: make([]Problem, len(list))}
	for i, v := range list {
		e.Problems[i] = Problem{Field: v.Field, Message: v.Message}
	}
	if n := len(list) - 1; n == 1 {
		e.Message += " (and 1 more problem, see errors)"
	} else if n > 1 {
		e.Message += fmt.Sprintf(" (and %d more problems, see errors)", n)
	}
	return e
}

// problems is the errors list of e: its Problems, or for a 400 naming one
// field that field.
func (e *Error) problems() []Problem {
	if len(e.Problems) > 0 {
		return e.Problems
	}
	if e.Status == fiber.StatusBadRequest && e.Field != "" {
		return []Problem{{Field: e.Field, Message: e.Message}}
	}
	return nil
}

// diskFault reports whether err is the file system refusing a write for a
// reason that passes with time or an operator's hand (a full disk or quota,
// a read-only file system, an I/O error), from whatever file the request
// wrote (the store, a journal): the client should retry, not give up.
func diskFault(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EIO)
}

// handleError writes every error as {"error":{"code","message","field"}}.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	e := classify(err)
	if errors.Is(err, experiment.ErrUnavailable) || diskFault(err) {
		s.lastWriteFault.Store(time.Now().UnixNano())
	}
	if e.Status >= 500 {
		s.log.Error("request failed", slog.String("path", c.Path()), slog.Any("error", err),
			slog.Any("request_id", c.Locals(requestid.ConfigDefault.ContextKey)))
	}
	if e.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
	}
	rid, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	return c.Status(e.Status).JSON(errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, RequestID: rid, Errors: e.problems()}})
}
