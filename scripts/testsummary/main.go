// Command testsummary reads `go test -json` on standard input, prints what
// plain `go test` would (one line per package, the output of failed tests),
// and ends with the tests that were skipped and why, grouped by reason, so a
// green run cannot hide a suite that did not run. It exits 1 when a test or
// a build failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

// skipGroup is the skipped tests of one package that gave one reason.
type skipGroup struct {
	pkg, reason string
	tests       []string
}

// summary accumulates a run.
type summary struct {
	out    io.Writer
	output map[string][]string // package + "\x00" + test -> its output lines
	skips  map[string]*skipGroup
	order  []string
	failed bool
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, output: map[string][]string{}, skips: map[string]*skipGroup{}}
}

// add handles one event.
func (s *summary) add(e event) {
	key := e.Package + "\x00" + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.out, e.Output)
	case e.Action == "build-fail":
		s.failed = true
	case e.Action == "output" && e.Test == "":
		// Package-level lines: "ok", "FAIL", "?", panics outside a test.
		if o := e.Output; o != "PASS\n" && o != "FAIL\n" && !strings.HasPrefix(o, "=== ") && o != "testing: warning: no tests to run\n" {
			fmt.Fprint(s.out, o)
		}
	case e.Action == "output":
		s.output[key] = append(s.output[key], e.Output)
	case e.Action == "fail":
		s.failed = true
		if e.Test != "" {
			for _, line := range s.output[key] {
				fmt.Fprint(s.out, line)
			}
		}
		delete(s.output, key)
	case e.Action == "skip" && e.Test != "":
		s.skip(e.Package, e.Test, reason(s.output[key]))
		delete(s.output, key)
	case e.Action == "pass":
		delete(s.output, key)
	}
}

// reason is what the test logged before it skipped (t.Skip's message).
func reason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		// Drop the "file_test.go:12: " prefix t.Log adds.
		if i := strings.Index(t, ".go:"); i >= 0 {
			if j := strings.Index(t[i+4:], ": "); j >= 0 {
				t = t[i+4+j+2:]
			}
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "no reason given"
	}
	return strings.Join(msg, " ")
}

func (s *summary) skip(pkg, test, why string) {
	k := pkg + "\x00" + why
	g, ok := s.skips[k]
	if !ok {
		g = &skipGroup{pkg: pkg, reason: why}
		s.skips[k] = g
		s.order = append(s.order, k)
	}
	g.tests = append(g.tests, test)
}

// report prints the skipped tests and the verdict.
func (s *summary) report() {
	if len(s.order) == 0 {
		fmt.Fprintln(s.out, "\nNo test was skipped.")
	} else {
		n := 0
		for _, k := range s.order {
			n += len(s.skips[k].tests)
		}
		fmt.Fprintf(s.out, "\nSkipped %d tests (they did not run):\n", n)
		for _, k := range s.order {
			g := s.skips[k]
			sort.Strings(g.tests)
			names := g.tests
			more := ""
			if len(names) > 3 {
				more = fmt.Sprintf(" and %d more", len(names)-3)
				names = names[:3]
			}
			fmt.Fprintf(s.out, "  %s: %s%s\n      why: %s\n", g.pkg, strings.Join(names, ", "), more, g.reason)
		}
	}
	if s.failed {
		fmt.Fprintln(s.out, "FAIL: some tests failed (their output is above).")
	}
}

func main() {
	s := newSummary(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			// Not test2json output (go itself complaining): pass it through.
			fmt.Println(sc.Text())
			continue
		}
		s.add(e)
	}
	s.report()
	if s.failed {
		os.Exit(1)
	}
}
