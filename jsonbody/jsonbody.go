// Package jsonbody decodes request bodies strictly (unknown fields, trailing
// data, type mismatches, repeated names and text that is not UTF-8 are
// errors) and says which field was wrong, so
// the API can answer 400 with that field instead of a generic message.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Error is a body that could not be decoded; Field is the JSON path of the
// offending field where one is known.
type Error struct {
	Field   string
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Decode parses body into v, rejecting unknown fields, anything after the
// first JSON value, a name repeated in any object, invalid UTF-8 and
// unpaired surrogate escapes (see checkText).
func Decode(body []byte, v any) error {
	return decode(body, v, -1)
}

// DecodeTop is Decode for a body whose nested values are decoded later, on
// their own (json.RawMessage fields): only the top-level object's names and
// text are checked here, so that a problem inside one nested value can be
// reported for that value alone when it is decoded with Decode.
func DecodeTop(body []byte, v any) error {
	return decode(body, v, 0)
}

func decode(body []byte, v any, depth int) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &Error{Message: "request body is empty; expected a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describe(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &Error{Message: "unexpected data after the JSON value"}
	}
	return checkText(body, depth)
}

func describe(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &Error{Message: fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax)}
	case errors.As(err, &typ):
		field := typ.Field
		return &Error{Field: field, Message: fmt.Sprintf("expected %s, got JSON %s", typeName(typ.Type.String()), typ.Value)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Message: "malformed JSON: unexpected end of body"}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &Error{Field: name, Message: "unknown field"}
	}
	return &Error{Message: "malformed JSON: " + strings.TrimPrefix(msg, "json: ")}
}

func typeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		if strings.HasSuffix(goType, "Time") {
			return "an RFC 3339 time string"
		}
		return "an object or value of type " + goType
	case strings.HasPrefix(goType, "float"), strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	}
	return goType
}
