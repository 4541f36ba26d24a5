package serving

import (
	"unicode/utf8"

	"github.com/journeylab/journeylab/assign"
)

// AppendResponse appends the assign response body to b:
//
//	{"unit_id":"u-1","assignments":[{"experiment":"e","variant":"v","payload":{…},"stage":"checkout","touchpoint":"checkout-cta"}],"holdouts":["layer"]}
//
// by hand, because it is the hottest serialisation in the service and its
// shape is fixed. payload is null when the variant has none; "forced":true
// marks a QA override.
func AppendResponse(b []byte, unit string, as []assign.Assignment) []byte {
	b = append(b, `{"unit_id":`...)
	b = appendJSONString(b, unit)
	b = append(b, `,"assignments":[`...)
	n := 0
	for i := range as {
		a := &as[i]
		if a.Holdout || a.Baseline {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"experiment":`...)
		b = appendJSONString(b, a.Experiment)
		b = append(b, `,"variant":`...)
		b = appendJSONString(b, a.Variant)
		b = append(b, `,"payload":`...)
		if len(a.Payload) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, a.Payload...)
		}
		b = append(b, `,"stage":`...)
		b = appendJSONString(b, a.Stage)
		b = append(b, `,"touchpoint":`...)
		b = appendJSONString(b, a.Touchpoint)
		if a.Forced {
			b = append(b, `,"forced":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, `],"holdouts":[`...)
	n = 0
	for i := range as {
		if !as[i].Holdout {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, as[i].Layer)
	}
	return append(b, "]}"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD; U+2028 and U+2029 are escaped so the output is also valid
// JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
