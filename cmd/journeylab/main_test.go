package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// run executes the CLI in-process with args and returns stdout, stderr and the error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range newRoot().Commands() {
		if c.Short == "" {
			t.Errorf("command %q has no short help", c.Name())
		}
	}
	out, _, err := run(t, "serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, setting := range []string{"--listen", "--data-dir", "--mongodb-uri", "--dev-mode", "JOURNEYLAB_EVENTS_MAX_BATCH"} {
		if !strings.Contains(out, setting) {
			t.Errorf("serve --help does not mention %s", setting)
		}
	}
}

func TestServeRefusesAnInvalidSettingByName(t *testing.T) {
	t.Setenv("JOURNEYLAB_HTTP_BODY_LIMIT", "2MB")
	_, _, err := run(t, "serve", "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "http.body_limit") {
		t.Fatalf("err = %v, want it to name http.body_limit", err)
	}
}

func TestKeysCreateListAndRevoke(t *testing.T) {
	dir := t.TempDir()
	out, _, err := run(t, "keys", "create", "--scope", "read", "--name", "analysts", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)
	if !regexp.MustCompile(`^jl_[0-9a-f]{12}_[0-9a-f]{64}$`).MatchString(token) {
		t.Fatalf("token %q has the wrong shape", token)
	}
	if _, _, err := run(t, "keys", "create", "--scope", "root", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "--scope") {
		t.Fatalf("unknown scope: err = %v", err)
	}
	out, _, err = run(t, "keys", "list", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, token[3:15]) || !strings.Contains(out, "analysts") || strings.Contains(out, token[16:]) {
		t.Fatalf("list must show id and name but never the secret:\n%s", out)
	}
	out, _, err = run(t, "keys", "revoke", token[3:15], "--data-dir", dir)
	if err != nil || !strings.Contains(out, "revoked read key "+token[3:15]) || !strings.Contains(out, " by cli") {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	out, _, err = run(t, "keys", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "cli") {
		t.Fatalf("list after revoke must show who revoked: %v\n%s", err, out)
	}
	if _, _, err := run(t, "keys", "revoke", "000000000000", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Fatalf("unknown id: err = %v", err)
	}
}

func TestPowerPrintsTheReferenceSampleSize(t *testing.T) {
	// stats-vectors.md: 0.10 -> 0.11 at power 0.8 needs 14748.05 (14749) per arm, unpooled.
	out, _, err := run(t, "power", "--baseline", "0.1", "--mde", "0.01", "--mde-scale", "absolute", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var plan struct {
		PerArm int64 `json:"per_arm"`
		Total  int64 `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if plan.PerArm != 14749 || plan.Total != 29498 {
		t.Fatalf("plan %+v, want 14749 per arm, 29498 total", plan)
	}
	if _, _, err := run(t, "power", "--baseline", "1.5", "--mde", "0.1"); err == nil || !strings.Contains(err.Error(), "baseline") {
		t.Fatalf("a baseline above 1 must be refused by name: %v", err)
	}
}

func TestPowerAcceptsPercentagesAndAnswersEveryQuestion(t *testing.T) {
	// Values from stats/testdata/plan_golden.json (SciPy).
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"an MDE written as 5% plans a sample size", []string{"--baseline", "5%", "--mde", "10%"},
			[]string{"5% -> 5.5% (+10%)", "per arm:  31,231 units", "total:    62,462 units (2 arms)"}},
		{"units per arm with an effect give the power", []string{"--baseline", "5%", "--mde", "10%", "--units-per-arm", "20000"},
			[]string{"and 20,000 units per arm", "power:    61.1%"}},
		{"units per arm alone give the MDE", []string{"--baseline", "0.05", "--units-per-arm", "31231"},
			[]string{"smallest detectable increase", "5% -> 5.5% (+10%)"}},
		{"a k-arm plan states its correction", []string{"--sigma", "1", "--delta", "0.1", "--arms", "4"},
			[]string{"alpha 0.05 over 3 comparisons, bonferroni: 0.01667 each", "per arm:  2,094 units"}},
		{"a sequential plan states its tuning and the fixed-horizon size", []string{"--sigma", "1", "--delta", "0.1", "--method", "sequential"},
			[]string{"per arm:  3,006 units", "set analysis.sequential_tuning to 6012", "would need 1,570 units per arm"}},
		{"an exact t plan for a small sample", []string{"--sigma", "1", "--delta", "1", "--test", "t"},
			[]string{"a two-sided t test", "per arm:  17 units"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := run(t, append([]string{"power"}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	for _, c := range []struct {
		name, flag string
		args       []string
	}{
		{"a word for an MDE", "--mde", []string{"--baseline", "5%", "--mde", "ten"}},
		{"a relative MDE of a mean without baseline", "--baseline", []string{"--sigma", "1", "--mde", "5%"}},
		{"an unknown test", "--test", []string{"--sigma", "1", "--delta", "1", "--test", "f"}},
	} {
		t.Run(c.name+" is refused naming "+c.flag, func(t *testing.T) {
			if _, _, err := run(t, append([]string{"power"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.flag) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestDemoFindsThePlantedEffects(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo simulation takes a few seconds")
	}
	out, _, err := run(t, "demo", "--visitors", "10000", "--seed", "1", "--data-dir", t.TempDir(), "-q", "--no-color")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "PLANTED EFFECTS vs WHAT THE REPORT FOUND") {
		t.Fatalf("no findings table:\n%s", out)
	}
	for _, stage := range []string{"CONSIDERATION", "CHECKOUT", "RETURNS"} {
		if !strings.Contains(strings.ToUpper(out), stage) {
			t.Errorf("demo output lacks stage %s", stage)
		}
	}
}
