package serving

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

// Limits on an assign request. They bound the work and memory one request
// can cost, and what an exposure stores.
const (
	// MaxUnitIDBytes is the longest unit id (the limit on override ids too).
	MaxUnitIDBytes = 200
	// MaxTouchpointBytes is the longest touchpoint key accepted.
	MaxTouchpointBytes = 200
	// MaxAttributes is the most attributes in one request.
	MaxAttributes = 50
	// MaxAttributeNameBytes is the longest attribute name.
	MaxAttributeNameBytes = 100
	// MaxAttributeValueBytes is the longest string attribute value (or
	// array element).
	MaxAttributeValueBytes = 1000
	// MaxAttributeValues is the most elements of an array attribute.
	MaxAttributeValues = 100
)

// Request is a parsed assign request, reusable after Reset. attrs values
// are what encoding/json produces: string, float64, bool, nil or []any of
// those.
type Request struct {
	unit       string
	touchpoint string
	attrs      map[string]any
	// expose is the client's "expose" (exposeDefault when absent or null).
	expose exposeMode
}

// exposeMode says whether an assign call records exposures.
type exposeMode uint8

const (
	// exposeDefault records when the call names a touchpoint: a call
	// without one fetches every running experiment (a single-page app on
	// load) and must not expose the visitor to all of them.
	exposeDefault exposeMode = iota
	exposeYes
	exposeNo
)

// ParseBody parses a POST /v1/assign body into r, which must be new or
// Reset:
//
//	{"unit_id": "u-1", "touchpoint": "checkout", "attributes": {"device": "mobile"}, "expose": false}
//
// Errors are a *jsonbody.Error or an *experiment.ValidationError naming
// the field.
func (r *Request) ParseBody(body []byte) error { return parseBody(body, r) }

// QueryArgs is a request's query string as the HTTP layer holds it
// (*fasthttp.Args satisfies it).
type QueryArgs interface {
	VisitAll(f func(key, value []byte))
}

// ParseQuery parses GET /v1/assign?unit_id=…&touchpoint=…&expose=false&attr.device=mobile
// into r, which must be new or Reset.
func (r *Request) ParseQuery(args QueryArgs) error { return parseQuery(args, r) }

// Unit returns the request's unit id.
func (r *Request) Unit() string { return r.unit }

// Reset empties r for reuse, keeping its storage.
func (r *Request) Reset() { r.reset() }

// records reports whether the request records its exposures.
func (r *Request) records() bool {
	return r.expose == exposeYes || (r.expose == exposeDefault && r.touchpoint != "")
}

// reset empties r for reuse, keeping the attribute map's storage.
func (r *Request) reset() {
	r.unit, r.touchpoint, r.expose = "", "", exposeDefault
	clear(r.attrs)
}

func (r *Request) setAttr(name string, v any) error {
	if r.attrs == nil {
		r.attrs = make(map[string]any, 8)
	}
	if _, dup := r.attrs[name]; dup {
		return &jsonbody.Error{Field: attrField(name, -1), Message: "duplicate attribute"}
	}
	if len(r.attrs) >= MaxAttributes {
		return &experiment.ValidationError{Field: "attributes", Message: fmt.Sprintf("at most %d attributes", MaxAttributes)}
	}
	r.attrs[name] = v
	return nil
}

// validate checks what both request forms share.
func (r *Request) validate() error {
	switch {
	case r.unit == "":
		return &experiment.ValidationError{Field: "unit_id", Message: "required: a non-empty string identifying the visitor"}
	case len(r.unit) > MaxUnitIDBytes:
		return &experiment.ValidationError{Field: "unit_id", Message: fmt.Sprintf("at most %d bytes, got %d", MaxUnitIDBytes, len(r.unit))}
	case len(r.touchpoint) > MaxTouchpointBytes:
		return &experiment.ValidationError{Field: "touchpoint", Message: fmt.Sprintf("at most %d bytes, got %d", MaxTouchpointBytes, len(r.touchpoint))}
	case r.expose == exposeYes && r.touchpoint == "":
		return &experiment.ValidationError{Field: "expose", Message: "recording needs a touchpoint: without one the visitor would be exposed to every running experiment; " +
			"name the touchpoint, or report what was shown with POST /v1/exposures"}
	}
	return nil
}

// parseBody parses a POST /v1/assign body into r (which must be reset):
//
//	{"unit_id": "u-1", "touchpoint": "checkout", "attributes": {"device": "mobile", "visits": 3, "tags": ["a", "b"]}}
//
// It is strict like jsonbody.Decode (unknown or repeated fields, trailing
// data, invalid UTF-8 and wrong types are errors naming the field) but
// decodes only this shape, without reflection. touchpoint and attributes
// may be absent or null.
func parseBody(body []byte, r *Request) error {
	p := parser{b: body}
	p.ws()
	if p.i == len(p.b) {
		return &jsonbody.Error{Message: "request body is empty; expected a JSON object"}
	}
	if err := p.expect('{'); err != nil {
		return err
	}
	var seenUnit, seenTouchpoint, seenAttrs, seenExpose bool
	p.ws()
	if !p.consume('}') {
		for {
			p.ws()
			raw, err := p.strBytes("")
			if err != nil {
				return err
			}
			p.ws()
			if err := p.expect(':'); err != nil {
				return err
			}
			p.ws()
			// A switch on string(raw) does not allocate.
			switch string(raw) {
			case "unit_id":
				if seenUnit {
					return &jsonbody.Error{Field: "unit_id", Message: "duplicate field"}
				}
				seenUnit = true
				if r.unit, err = p.optionalString("unit_id"); err != nil {
					return err
				}
			case "touchpoint":
				if seenTouchpoint {
					return &jsonbody.Error{Field: "touchpoint", Message: "duplicate field"}
				}
				seenTouchpoint = true
				if r.touchpoint, err = p.optionalInterned("touchpoint"); err != nil {
					return err
				}
			case "attributes":
				if seenAttrs {
					return &jsonbody.Error{Field: "attributes", Message: "duplicate field"}
				}
				seenAttrs = true
				if err := p.attributes(r); err != nil {
					return err
				}
			case "expose":
				if seenExpose {
					return &jsonbody.Error{Field: "expose", Message: "duplicate field"}
				}
				seenExpose = true
				if r.expose, err = p.exposeValue(); err != nil {
					return err
				}
			default:
				return &jsonbody.Error{Field: string(raw), Message: "unknown field (want unit_id, touchpoint, attributes, expose)"}
			}
			p.ws()
			if p.consume('}') {
				break
			}
			if err := p.expect(','); err != nil {
				return err
			}
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return &jsonbody.Error{Message: "unexpected data after the JSON value"}
	}
	return r.validate()
}

// parseQuery parses GET /v1/assign?unit_id=…&touchpoint=…&attr.device=mobile
// into r (which must be reset). Attribute values are strings; a repeated
// attr.<name> becomes an array.
func parseQuery(args QueryArgs, r *Request) error {
	var err error
	var seenUnit, seenTouchpoint, seenExpose bool
	args.VisitAll(func(k, v []byte) {
		if err != nil {
			return
		}
		if !utf8.Valid(k) || !utf8.Valid(v) {
			err = &jsonbody.Error{Field: string(k), Message: "invalid UTF-8"}
			return
		}
		switch {
		case string(k) == "unit_id":
			if seenUnit {
				err = &experiment.ValidationError{Field: "unit_id", Message: "given more than once"}
			}
			seenUnit, r.unit = true, string(v)
		case string(k) == "touchpoint":
			if seenTouchpoint {
				err = &experiment.ValidationError{Field: "touchpoint", Message: "given more than once"}
			}
			seenTouchpoint = true
			r.touchpoint, _ = internBytes(v)
		case string(k) == "expose":
			if seenExpose {
				err = &experiment.ValidationError{Field: "expose", Message: "given more than once"}
			}
			seenExpose = true
			switch string(v) {
			case "true":
				r.expose = exposeYes
			case "false":
				r.expose = exposeNo
			default:
				err = &experiment.ValidationError{Field: "expose", Message: "want true or false"}
			}
		case bytes.HasPrefix(k, []byte("attr.")):
			name, _ := internBytes(k[len("attr."):])
			err = r.queryAttr(name, v)
		default:
			err = &experiment.ValidationError{Field: string(k), Message: "unknown query parameter (want unit_id, touchpoint, expose, attr.<name>)"}
		}
	})
	if err != nil {
		return err
	}
	return r.validate()
}

func (r *Request) queryAttr(name string, v []byte) error {
	if err := checkAttrName(name); err != nil {
		return err
	}
	if len(v) > MaxAttributeValueBytes {
		return &experiment.ValidationError{Field: attrField(name, -1), Message: fmt.Sprintf("at most %d bytes", MaxAttributeValueBytes)}
	}
	_, boxed := internBytes(v)
	switch prev := r.attrs[name].(type) {
	case nil:
		return r.setAttr(name, boxed)
	case string:
		r.attrs[name] = []any{prev, boxed}
	case []any:
		if len(prev) >= MaxAttributeValues {
			return &experiment.ValidationError{Field: attrField(name, -1), Message: fmt.Sprintf("at most %d values", MaxAttributeValues)}
		}
		r.attrs[name] = append(prev, boxed)
	}
	return nil
}

func checkAttrName(name string) error {
	if name == "" || len(name) > MaxAttributeNameBytes {
		return &experiment.ValidationError{Field: attrField(name, -1), Message: fmt.Sprintf("attribute names have 1 to %d bytes", MaxAttributeNameBytes)}
	}
	return nil
}

// plainASCII marks the bytes a JSON string may hold as they are and that
// need no UTF-8 check: printable ASCII except '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// parser is a cursor over a JSON document.
type parser struct {
	b []byte
	i int
}

func (p *parser) ws() {
	i := p.i
	for i < len(p.b) && (p.b[i] == ' ' || p.b[i] == '\t' || p.b[i] == '\n' || p.b[i] == '\r') {
		i++
	}
	p.i = i
}

func (p *parser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(c byte) error {
	if p.consume(c) {
		return nil
	}
	return p.syntax(fmt.Sprintf("expected %q", c))
}

func (p *parser) syntax(what string) error {
	if p.i >= len(p.b) {
		return &jsonbody.Error{Message: "malformed JSON: unexpected end of body"}
	}
	return &jsonbody.Error{Message: fmt.Sprintf("malformed JSON at byte %d: %s, found %q", p.i, what, p.b[p.i])}
}

// kind names the JSON type of the next value, for error messages; "" for
// something that is not a value.
func (p *parser) kind() string {
	if p.i >= len(p.b) {
		return ""
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return ""
}

// exposeValue reads the "expose" field: true, false or null (the default).
func (p *parser) exposeValue() (exposeMode, error) {
	switch p.kind() {
	case "boolean":
		if p.b[p.i] == 't' {
			return exposeYes, p.literal("true")
		}
		return exposeNo, p.literal("false")
	case "null":
		return exposeDefault, p.literal("null")
	case "":
		return exposeDefault, p.syntax("expected a value")
	default:
		return exposeDefault, &jsonbody.Error{Field: "expose", Message: "expected true or false, got JSON " + p.kind()}
	}
}

// optionalInterned is optionalString for low-cardinality values.
func (p *parser) optionalInterned(field string) (string, error) {
	if p.kind() != "string" {
		return p.optionalString(field)
	}
	b, err := p.strBytes(field)
	if err != nil {
		return "", err
	}
	s, _ := internBytes(b)
	return s, nil
}

// optionalString reads a string or null (as "") for field.
func (p *parser) optionalString(field string) (string, error) {
	switch p.kind() {
	case "string":
		return p.str(field)
	case "null":
		return "", p.literal("null")
	case "":
		return "", p.syntax("expected a value")
	default:
		return "", &jsonbody.Error{Field: field, Message: "expected a string, got JSON " + p.kind()}
	}
}

func (p *parser) literal(word string) error {
	if !bytes.HasPrefix(p.b[p.i:], []byte(word)) {
		return p.syntax("expected " + word)
	}
	p.i += len(word)
	return nil
}

// str reads a JSON string. field names it in errors about its content.
func (p *parser) str(field string) (string, error) {
	b, err := p.strBytes(field)
	return string(b), err
}

// strBytes reads a JSON string and returns its decoded bytes: a sub-slice
// of the body when it has no escapes, else a new buffer.
func (p *parser) strBytes(field string) ([]byte, error) {
	if err := p.expect('"'); err != nil {
		return nil, err
	}
	start := p.i
	// Fast path: no escapes. Plain ASCII needs one table lookup per byte;
	// anything else is UTF-8-checked once the end is found.
	ascii := true
	b, i := p.b, p.i // locals keep the loop in registers
	for i < len(b) {
		c := b[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c == '"' {
			p.i = i + 1
			raw := b[start:i]
			if !ascii && !utf8.Valid(raw) {
				return nil, &jsonbody.Error{Field: field, Message: "invalid UTF-8 in string"}
			}
			return raw, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		ascii = false
		i++
	}
	p.i = i
	buf := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(buf) {
				return nil, &jsonbody.Error{Field: field, Message: "invalid UTF-8 in string"}
			}
			return buf, nil
		case c < 0x20:
			return nil, p.syntax("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, p.syntax(`invalid \u escape`)
			}
			if utf16.IsSurrogate(r) {
				// A valid pair makes one rune; anything else is U+FFFD,
				// as encoding/json does.
				save := p.i
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					p.i += 2
					if r2, ok := p.hex4(); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							continue
						}
					}
				}
				p.i = save
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			p.i--
			return nil, p.syntax("invalid escape")
		}
	}
	return nil, &jsonbody.Error{Message: "malformed JSON: unexpected end of body"}
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// number reads a JSON number as float64, the value (or element i) of
// attribute name.
func (p *parser) number(name string, i int) (float64, error) {
	start := p.i
	p.consume('-')
	switch {
	case p.consume('0'):
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return 0, p.syntax("invalid number")
	}
	if p.consume('.') {
		if p.digits() == 0 {
			return 0, p.syntax("invalid number")
		}
	}
	if p.consume('e') || p.consume('E') {
		if !p.consume('+') {
			p.consume('-')
		}
		if p.digits() == 0 {
			return 0, p.syntax("invalid number")
		}
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, &jsonbody.Error{Field: attrField(name, i), Message: "number out of range"}
	}
	return f, nil
}

func (p *parser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// withField names field in a jsonbody.Error that names none yet.
func withField(err error, field string) error {
	if je, ok := err.(*jsonbody.Error); ok && je.Field == "" {
		je.Field = field
	}
	return err
}

// attrField names attribute name, or its element i when i >= 0, in
// errors. It is only called for errors, to keep the success path free of
// allocations.
func attrField(name string, i int) string {
	if i < 0 {
		return "attributes." + name
	}
	return "attributes." + name + "[" + strconv.Itoa(i) + "]"
}

// scalar reads a string, number, boolean or null value of attribute name;
// i is its position in an array, or -1.
func (p *parser) scalar(name string, i int) (any, error) {
	switch p.kind() {
	case "string":
		b, err := p.strBytes("")
		if err != nil {
			return nil, withField(err, attrField(name, i))
		}
		if len(b) > MaxAttributeValueBytes {
			return nil, &experiment.ValidationError{Field: attrField(name, i), Message: fmt.Sprintf("at most %d bytes", MaxAttributeValueBytes)}
		}
		_, boxed := internBytes(b)
		return boxed, nil
	case "number":
		return p.number(name, i)
	case "boolean":
		if p.b[p.i] == 't' {
			return true, p.literal("true")
		}
		return false, p.literal("false")
	case "null":
		return nil, p.literal("null")
	case "":
		return nil, p.syntax("expected a value")
	}
	if i >= 0 {
		return nil, &experiment.ValidationError{Field: attrField(name, i), Message: "array elements must be strings, numbers, booleans or null; got " + p.kind()}
	}
	return nil, &experiment.ValidationError{Field: attrField(name, i), Message: "must be a string, number, boolean or null, or an array of those; got " + p.kind()}
}

// attributes reads the attributes object (or null) into r.
func (p *parser) attributes(r *Request) error {
	switch p.kind() {
	case "null":
		return p.literal("null")
	case "object":
	case "":
		return p.syntax("expected a value")
	default:
		return &jsonbody.Error{Field: "attributes", Message: "expected an object, got JSON " + p.kind()}
	}
	p.i++ // '{'
	p.ws()
	if p.consume('}') {
		return nil
	}
	for {
		p.ws()
		raw, err := p.strBytes("attributes")
		if err != nil {
			return err
		}
		name, _ := internBytes(raw)
		p.ws()
		if err := p.expect(':'); err != nil {
			return err
		}
		p.ws()
		if err := p.attribute(r, name); err != nil {
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

// attribute reads the value of attribute name into r.
func (p *parser) attribute(r *Request, name string) error {
	if err := checkAttrName(name); err != nil {
		return err
	}
	var v any
	var err error
	if p.kind() == "array" {
		v, err = p.array(name)
	} else {
		v, err = p.scalar(name, -1)
	}
	if err != nil {
		return err
	}
	return r.setAttr(name, v)
}

// array reads an array of scalars as the value of attribute name.
func (p *parser) array(name string) ([]any, error) {
	p.i++ // '['
	out := []any{}
	p.ws()
	if p.consume(']') {
		return out, nil
	}
	for {
		p.ws()
		if len(out) >= MaxAttributeValues {
			return nil, &experiment.ValidationError{Field: attrField(name, -1), Message: fmt.Sprintf("at most %d values", MaxAttributeValues)}
		}
		v, err := p.scalar(name, len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.ws()
		if p.consume(']') {
			return out, nil
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
	}
}

// interned is one entry of the intern table: a string and the same string
// boxed in an interface, ready for the attribute map.
type interned struct {
	s string
	v any
}

// internSlots is the size of the intern table (a power of two).
const internSlots = 1024

// maxInterned is the longest string worth interning; longer ones are rarely
// repeated.
const maxInterned = 64

// internTable caches the short strings requests repeat — attribute names
// and values such as "device" and "mobile", touchpoints — so that parsing
// them allocates nothing after the first time. It is a lossy, lock-free
// hash table: a colliding string replaces the slot's entry.
var internTable [internSlots]atomic.Pointer[interned]

// internBytes returns b as a string and as a boxed string, reusing an
// earlier allocation for the same bytes when the table has one.
func internBytes(b []byte) (string, any) {
	if len(b) > maxInterned {
		s := string(b)
		return s, s
	}
	slot := &internTable[xxhash.Sum64(b)&(internSlots-1)]
	if e := slot.Load(); e != nil && e.s == string(b) {
		return e.s, e.v
	}
	e := &interned{s: string(b)}
	e.v = e.s
	slot.Store(e)
	return e.s, e.v
}
