package serving

import (
	"errors"
	"fmt"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

// ErrTargetingKeyMissing is returned by ParseContext for a context without
// a targetingKey (or with an empty one): there is no unit to assign.
var ErrTargetingKeyMissing = errors.New("the context has no targetingKey: set it to the visitor's unit id")

// Context is an OpenFeature evaluation context read as an assign request.
type Context struct {
	// Unit is the context's targetingKey.
	Unit string
	// Touchpoint is the context's "touchpoint" entry, if any: it narrows a
	// bulk evaluation to one touchpoint and is not an attribute.
	Touchpoint string
	// Attributes are every other entry, with the types, names and limits
	// of /v1/assign's attributes.
	Attributes map[string]any
}

// maxSkipDepth bounds the nesting of members ParseEvaluationRequest skips.
const maxSkipDepth = 32

// ParseEvaluationRequest parses an OFREP evaluation request body,
// {"context": {...}}, and returns its context as ParseContext does. Other
// members are skipped, so a newer client's additions do not break it. A
// body that is not a JSON object, or is malformed, is a *jsonbody.Error
// naming no field; a missing or null context is an
// *experiment.ValidationError for the field "context".
func ParseEvaluationRequest(body []byte) (Context, error) {
	p := parser{b: body}
	p.ws()
	if p.i == len(p.b) {
		return Context{}, &jsonbody.Error{Message: "request body is empty; expected a JSON object"}
	}
	var ctx []byte
	err := p.members("", func(name []byte) error {
		start := p.i
		if err := p.skip(0); err != nil {
			return err
		}
		if string(name) == "context" {
			if ctx != nil {
				return &jsonbody.Error{Field: "context", Message: "duplicate field"}
			}
			ctx = p.b[start:p.i]
		}
		return nil
	})
	if err != nil {
		return Context{}, err
	}
	p.ws()
	if p.i != len(p.b) {
		return Context{}, &jsonbody.Error{Message: "unexpected data after the JSON value"}
	}
	if len(ctx) == 0 || string(ctx) == "null" {
		return Context{}, &experiment.ValidationError{Field: "context", Message: "required: an object with the targetingKey and the attributes"}
	}
	return ParseContext(ctx)
}

// members reads a JSON object, calling fn with each member's name (its
// decoded bytes, valid until the next read) and the cursor on its value,
// which fn must consume. field names the object in errors about a name.
func (p *parser) members(field string, fn func(name []byte) error) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	p.ws()
	if p.consume('}') {
		return nil
	}
	for {
		p.ws()
		name, err := p.strBytes(field)
		if err != nil {
			return err
		}
		p.ws()
		if err := p.expect(':'); err != nil {
			return err
		}
		p.ws()
		if err := fn(name); err != nil {
			return err
		}
		p.ws()
		if p.consume('}') {
			return nil
		}
		if err := p.expect(','); err != nil {
			return err
		}
	}
}

// skip moves past one JSON value, checking its syntax.
func (p *parser) skip(depth int) error {
	if depth > maxSkipDepth {
		return &jsonbody.Error{Message: fmt.Sprintf("malformed JSON: nested deeper than %d levels", maxSkipDepth)}
	}
	switch p.kind() {
	case "string":
		_, err := p.strBytes("")
		return err
	case "number":
		_, err := p.number("", -1)
		return err
	case "boolean":
		if p.b[p.i] == 't' {
			return p.literal("true")
		}
		return p.literal("false")
	case "null":
		return p.literal("null")
	case "object":
		return p.members("", func([]byte) error { return p.skip(depth + 1) })
	case "array":
		p.i++ // '['
		p.ws()
		if p.consume(']') {
			return nil
		}
		for {
			p.ws()
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.consume(']') {
				return nil
			}
			if err := p.expect(','); err != nil {
				return err
			}
		}
	}
	return p.syntax("expected a value")
}

// ParseContext parses the JSON object of an OpenFeature evaluation context,
//
//	{"targetingKey": "u-1", "touchpoint": "checkout", "device": "mobile", "visits": 3, "tags": ["a", "b"]}
//
// with the parser and the limits of POST /v1/assign, so a visitor gets the
// same variant through either door. Values must be strings, numbers,
// booleans, null or arrays of those (nested objects are refused); a
// missing or empty targetingKey is ErrTargetingKeyMissing. Syntax errors
// are *jsonbody.Error; everything else is an *experiment.ValidationError.
func ParseContext(b []byte) (Context, error) {
	var r Request
	p := parser{b: b}
	p.ws()
	switch p.kind() {
	case "object":
	case "":
		return Context{}, p.syntax("expected the context object")
	default:
		return Context{}, &experiment.ValidationError{Field: "context", Message: "must be an object, got JSON " + p.kind()}
	}
	var seenUnit, seenTouchpoint bool
	err := p.members("context", func(raw []byte) error {
		var err error
		switch string(raw) {
		case "targetingKey":
			if seenUnit {
				return &jsonbody.Error{Field: "context.targetingKey", Message: "duplicate field"}
			}
			seenUnit = true
			r.unit, err = p.optionalString("context.targetingKey")
			return err
		case "touchpoint":
			if seenTouchpoint {
				return &jsonbody.Error{Field: "context.touchpoint", Message: "duplicate field"}
			}
			seenTouchpoint = true
			r.touchpoint, err = p.optionalInterned("context.touchpoint")
			return err
		}
		name, _ := internBytes(raw)
		return p.attribute(&r, name)
	})
	if err != nil {
		return Context{}, err
	}
	p.ws()
	if p.i != len(p.b) {
		return Context{}, &jsonbody.Error{Message: "unexpected data after the context object"}
	}
	switch {
	case r.unit == "":
		return Context{}, ErrTargetingKeyMissing
	case len(r.unit) > MaxUnitIDBytes:
		return Context{}, &experiment.ValidationError{Field: "context.targetingKey", Message: fmt.Sprintf("at most %d bytes, got %d", MaxUnitIDBytes, len(r.unit))}
	case len(r.touchpoint) > MaxTouchpointBytes:
		return Context{}, &experiment.ValidationError{Field: "context.touchpoint", Message: fmt.Sprintf("at most %d bytes, got %d", MaxTouchpointBytes, len(r.touchpoint))}
	}
	return Context{Unit: r.unit, Touchpoint: r.touchpoint, Attributes: r.attrs}, nil
}
