package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/store/sqlite"
)

func TestErasePseudonymisedUnits(t *testing.T) {
	t.Setenv("JOURNEYLAB_PRIVACY_PSEUDONYMISE_UNITS", "true")
	t.Setenv("JOURNEYLAB_PRIVACY_PSEUDONYM_KEY", "a-pseudonym-key-16")
	t.Run("the raw id erases its pseudonym's records", func(t *testing.T) {
		ctx := context.Background()
		dir := t.TempDir()
		st, err := sqlite.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		p := privacy.NewPseudonymiser([]byte("a-pseudonym-key-16"))
		if err := st.SetUnitIDMode(ctx, p.Mode()); err != nil {
			t.Fatal(err)
		}
		if _, err := st.InsertExposures(ctx, []experiment.Exposure{{Experiment: "checkout-button", Unit: p.Unit("customer-4711"), Variant: "control", At: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		st.Close()
		out, _, err := run(t, "erase", "customer-4711", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "erased 1 units: 0 events, 1 exposures") {
			t.Errorf("output %q, %v", out, err)
		}
	})
	t.Run("a store holding raw ids is refused", func(t *testing.T) {
		dir, st, svc, at := seededStore(t)
		checkoutButton(t, st, svc, at, "u3")
		st.Close()
		if _, _, err := run(t, "erase", "u2", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "raw unit ids") {
			t.Errorf("err %v, want the unit-id mode refused", err)
		}
	})
}

func TestReportAndRebuildOfAnExperimentPastTheExposureRetention(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	checkoutButton(t, st, svc, at)
	if _, err := st.ExpireExposures(context.Background(), "checkout-button", at.Add(200*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, args := range [][]string{{"report", "checkout-button"}, {"rebuild", "--experiment", "checkout-button", "--quiet"}} {
		if _, _, err := run(t, append(args, "--data-dir", dir)...); !errors.Is(err, privacy.ErrExposuresExpired) {
			t.Errorf("%s: err %v, want ErrExposuresExpired", args[0], err)
		}
	}
}
