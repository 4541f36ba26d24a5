package api

import (
	"strings"
	"testing"
)

func FuzzETagMatches(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc"`, `"x", "abc"`, `*`, ``, `,,, ,`, `W/`, `"abc`} {
		f.Add(s)
	}
	const etag = `"abc"`
	f.Fuzz(func(t *testing.T, header string) {
		got := etagMatches(header, etag)
		// Any list that names the tag exactly as an element matches.
		for _, part := range strings.Split(header, ",") {
			p := strings.TrimPrefix(strings.TrimSpace(part), "W/")
			if (p == etag || p == "*") && !got {
				t.Fatalf("%q names %s but does not match", header, etag)
			}
		}
		if got && !strings.Contains(header, etag) && !strings.Contains(header, "*") {
			t.Fatalf("%q matches %s without naming it", header, etag)
		}
	})
}
