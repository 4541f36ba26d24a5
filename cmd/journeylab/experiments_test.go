package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExperimentCreate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, body string
		want       string // the output's start, or the whole error
		fails      bool
	}{
		{"a valid file creates a draft", `{"key":"one-page-checkout","name":"One-page checkout","stage":"checkout",
		  "touchpoint":"checkout","variants":[{"key":"control","weight":1},{"key":"one-page","weight":1}],"goal_metrics":["conversion"]}`,
			"{\n  \"key\": \"one-page-checkout\"", false},
		{"a file with three mistakes lists all of them", `{"key":"gallery","name":"Gallery","stage":"consideration",
		  "touchpoint":"product-page","variants":[{"key":"control","weight":1},{"key":"grid","weight":-1}],
		  "coverage":2,"goal_metrics":["add_to_krat"]}`,
			"bad.json: 3 problems:\n  variants[1].weight: must be a non-negative number\n  coverage: must be in (0, 1]\n  goal_metrics[0]: unknown metric \"add_to_krat\"", true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := write([]string{"good.json", "bad.json"}[i], tc.body)
			t.Chdir(dir)
			out, _, err := run(t, "experiment", "create", "-f", filepath.Base(file), "--data-dir", dir)
			if tc.fails {
				if err == nil || err.Error() != tc.want {
					t.Fatalf("err = %v, want\n%s", err, tc.want)
				}
				return
			}
			if err != nil || !strings.HasPrefix(out, tc.want) || !strings.Contains(out, `"status": "draft"`) {
				t.Fatalf("err %v, output:\n%s", err, out)
			}
		})
	}
}
