package main

import (
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	cases := []struct {
		name   string
		events []event
		want   []string
		failed bool
	}{
		{
			name: "skipped tests are listed with their reason, grouped per package and reason",
			events: []event{
				{Action: "output", Package: "p/e2e", Test: "TestDash", Output: "=== RUN   TestDash\n"},
				{Action: "output", Package: "p/e2e", Test: "TestDash", Output: "    e2e_test.go:102: browser tests skipped: Chromium not found\n"},
				{Action: "output", Package: "p/e2e", Test: "TestDash", Output: "--- SKIP: TestDash (0.00s)\n"},
				{Action: "skip", Package: "p/e2e", Test: "TestDash"},
				{Action: "output", Package: "p/e2e", Test: "TestSDK", Output: "    e2e_test.go:102: browser tests skipped: Chromium not found\n"},
				{Action: "skip", Package: "p/e2e", Test: "TestSDK"},
				{Action: "output", Package: "p/e2e", Output: "PASS\n"},
				{Action: "output", Package: "p/e2e", Output: "ok  \tp/e2e\t0.19s\n"},
				{Action: "pass", Package: "p/e2e"},
			},
			want: []string{
				"ok  \tp/e2e\t0.19s\n",
				"Skipped 2 tests (they did not run):\n",
				"  p/e2e: TestDash, TestSDK\n      why: browser tests skipped: Chromium not found\n",
			},
		},
		{
			name: "a failed test's output is printed and the run fails",
			events: []event{
				{Action: "output", Package: "p/stats", Test: "TestX", Output: "    x_test.go:9: got 1, want 2\n"},
				{Action: "fail", Package: "p/stats", Test: "TestX"},
				{Action: "output", Package: "p/stats", Test: "TestY", Output: "    y_test.go:9: quiet\n"},
				{Action: "pass", Package: "p/stats", Test: "TestY"},
				{Action: "output", Package: "p/stats", Output: "FAIL\tp/stats\t0.01s\n"},
				{Action: "fail", Package: "p/stats"},
			},
			want:   []string{"x_test.go:9: got 1, want 2", "FAIL\tp/stats", "No test was skipped.", "FAIL: some tests failed"},
			failed: true,
		},
		{
			name: "a build failure is shown and fails the run",
			events: []event{
				{Action: "build-output", ImportPath: "p/api", Output: "api/x.go:3:1: syntax error\n"},
				{Action: "build-fail", ImportPath: "p/api"},
			},
			want:   []string{"api/x.go:3:1: syntax error"},
			failed: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			s := newSummary(&out)
			for _, e := range c.events {
				s.add(e)
			}
			s.report()
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "quiet") {
				t.Errorf("a passing test's output was printed:\n%s", out.String())
			}
			if s.failed != c.failed {
				t.Errorf("failed = %v, want %v", s.failed, c.failed)
			}
		})
	}
}
