package jsonbody

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// checkText refuses what encoding/json accepts silently: a member name given
// twice in one object (json keeps the last, so a client's two values become
// one without a word), invalid UTF-8 and unpaired UTF-16 surrogate escapes
// (json replaces both with U+FFFD, so distinct ids become one). b must be
// valid JSON (json.Decoder has accepted it). Values deeper than maxDepth
// (the top-level value is depth 0) are skipped; maxDepth < 0 checks all.
func checkText(b []byte, maxDepth int) error {
	c := checker{b: b, maxDepth: maxDepth}
	c.ws()
	return c.value("", 0)
}

type checker struct {
	b        []byte
	i        int
	maxDepth int
}

func (c *checker) ws() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\r', '\n':
			c.i++
		default:
			return
		}
	}
}

// value checks the value at c.i, whose JSON path is path.
func (c *checker) value(path string, depth int) error {
	if c.i >= len(c.b) {
		return nil
	}
	switch c.b[c.i] {
	case '{':
		return c.object(path, depth)
	case '[':
		return c.array(path, depth)
	case '"':
		_, err := c.str(path)
		return err
	}
	c.skipScalar()
	return nil
}

func (c *checker) object(path string, depth int) error {
	c.i++ // {
	var names []string
	for {
		c.ws()
		if c.b[c.i] == '}' {
			c.i++
			return nil
		}
		raw, err := c.str(path)
		if err != nil {
			return err
		}
		name := unescape(raw)
		for _, seen := range names {
			if seen == name {
				return &Error{Field: join(path, name), Message: "duplicate field: each name may appear once in an object"}
			}
		}
		names = append(names, name)
		c.ws()
		c.i++ // :
		c.ws()
		if err := c.child(join(path, name), depth+1); err != nil {
			return err
		}
		c.ws()
		if c.b[c.i] == ',' {
			c.i++
		}
	}
}

func (c *checker) array(path string, depth int) error {
	c.i++ // [
	for n := 0; ; n++ {
		c.ws()
		if c.b[c.i] == ']' {
			c.i++
			return nil
		}
		if err := c.child(path+"["+strconv.Itoa(n)+"]", depth+1); err != nil {
			return err
		}
		c.ws()
		if c.b[c.i] == ',' {
			c.i++
		}
	}
}

// child checks a member or element, or skips it when it is too deep.
func (c *checker) child(path string, depth int) error {
	if c.maxDepth >= 0 && depth > c.maxDepth {
		c.skip()
		return nil
	}
	return c.value(path, depth)
}

// skip moves past the value at c.i without checking it.
func (c *checker) skip() {
	switch c.b[c.i] {
	case '"':
		c.skipString()
	case '{', '[':
		nest := 0
		for c.i < len(c.b) {
			switch c.b[c.i] {
			case '"':
				c.skipString()
				continue
			case '{', '[':
				nest++
			case '}', ']':
				nest--
				if nest == 0 {
					c.i++
					return
				}
			}
			c.i++
		}
	default:
		c.skipScalar()
	}
}

func (c *checker) skipString() {
	c.i++
	for c.i < len(c.b) && c.b[c.i] != '"' {
		if c.b[c.i] == '\\' {
			c.i++
		}
		c.i++
	}
	c.i++
}

// skipScalar moves past a number, true, false or null.
func (c *checker) skipScalar() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return
		}
		c.i++
	}
}

// str checks the string at c.i and returns its raw content (escapes kept).
func (c *checker) str(path string) (string, error) {
	c.i++ // opening quote
	start := c.i
	for c.i < len(c.b) {
		ch := c.b[c.i]
		switch {
		case ch == '"':
			raw := string(c.b[start:c.i])
			c.i++
			return raw, nil
		case ch == '\\':
			if c.b[c.i+1] == 'u' {
				if err := c.surrogate(path); err != nil {
					return "", err
				}
				continue
			}
			c.i += 2
		case ch < utf8.RuneSelf:
			c.i++
		default:
			r, size := utf8.DecodeRune(c.b[c.i:])
			if r == utf8.RuneError && size == 1 {
				return "", &Error{Field: path, Message: "invalid UTF-8: JSON text must be UTF-8"}
			}
			c.i += size
		}
	}
	return "", nil
}

// surrogate checks the \uXXXX escape at c.i (and its pair) and moves past it.
func (c *checker) surrogate(path string) error {
	r := hex4(c.b[c.i+2 : c.i+6])
	c.i += 6
	switch {
	case r >= 0xDC00 && r <= 0xDFFF:
		return &Error{Field: path, Message: "invalid string: an unpaired UTF-16 surrogate escape"}
	case r >= 0xD800 && r <= 0xDBFF:
		if c.i+6 > len(c.b) || c.b[c.i] != '\\' || c.b[c.i+1] != 'u' {
			return &Error{Field: path, Message: "invalid string: an unpaired UTF-16 surrogate escape"}
		}
		if lo := hex4(c.b[c.i+2 : c.i+6]); lo < 0xDC00 || lo > 0xDFFF {
			return &Error{Field: path, Message: "invalid string: an unpaired UTF-16 surrogate escape"}
		}
		c.i += 6
	}
	return nil
}

func hex4(b []byte) rune {
	var r rune
	for _, ch := range b {
		r <<= 4
		switch {
		case ch >= '0' && ch <= '9':
			r |= rune(ch - '0')
		case ch >= 'a' && ch <= 'f':
			r |= rune(ch - 'a' + 10)
		case ch >= 'A' && ch <= 'F':
			r |= rune(ch - 'A' + 10)
		}
	}
	return r
}

// unescape returns a member name as JSON means it ("\u0061" is "a").
func unescape(raw string) string {
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' {
			var s string
			if json.Unmarshal([]byte(`"`+raw+`"`), &s) == nil {
				return s
			}
			return raw
		}
	}
	return raw
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
