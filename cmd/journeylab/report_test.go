package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/experiment"
)

func TestReportAndRebuildTakeALayersHoldoutBaseline(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	ctx := context.Background()
	if _, err := svc.PutLayer(ctx, experiment.Layer{Key: "checkout", HoldoutShare: 0.1, Metrics: []string{"conversion"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutLayer(ctx, experiment.Layer{Key: "plain", HoldoutShare: 0.1}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertExposures(ctx, []experiment.Exposure{
		{Experiment: "layer:checkout", Unit: "u1", Variant: experiment.HoldoutArm, At: at},
		{Experiment: "layer:checkout", Unit: "u2", Variant: experiment.LayerArm, At: at},
		{Experiment: "layer:checkout", Unit: "u3", Variant: experiment.LayerArm, At: at},
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, _, err := run(t, "report", "layer:checkout", "--json", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Experiment string
		Variants   []struct {
			Key   string
			Units int64
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Experiment != "layer:checkout" || len(rep.Variants) != 2 || rep.Variants[0].Units != 1 || rep.Variants[1].Units != 2 {
		t.Fatalf("baseline report = %+v, want holdout 1 unit and layer 2", rep)
	}
	if out, _, err := run(t, "rebuild", "--experiment", "layer:checkout", "--data-dir", dir, "--quiet"); err != nil || !strings.Contains(out, "rebuilt layer:checkout: 3 units") {
		t.Errorf("rebuild of the baseline: %v, %q", err, out)
	}
	if _, _, err := run(t, "rebuild", "--experiment", "layer:plain", "--data-dir", dir, "--quiet"); !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("rebuild of a layer without a baseline: err = %v, want ErrNotFound", err)
	}
	_, _, err = run(t, "report", "layer:plain", "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "holdout baseline") || !strings.Contains(err.Error(), "metrics") {
		t.Fatalf("a layer without metrics: err = %v, want it to say what is missing", err)
	}
}

func TestReportWarnsOfADimensionNoUnitHas(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	checkoutButton(t, st, svc, at)
	st.Close()
	for _, format := range [][]string{nil, {"--json"}, {"--csv"}} {
		t.Run(strings.Join(append([]string{"report"}, format...), " ")+" prints the warning on standard error", func(t *testing.T) {
			out, errOut, err := run(t, append([]string{"report", "checkout-button", "--dimension", "devise", "--data-dir", dir}, format...)...)
			want := `warning: no exposed unit has the attribute "devise", so every unit is under "(none)"; attributes are recorded`
			if err != nil || !strings.HasPrefix(errOut, want) {
				t.Fatalf("err %v, stderr %q; want it to start with %q", err, errOut, want)
			}
			if strings.Contains(out, "warning:") {
				t.Fatalf("the warning went to standard output:\n%s", out)
			}
		})
	}
}
