package experiment_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/store/sqlite"
)

func TestScheduledStartAndStop(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenFile(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	svc := experiment.NewService(st, func() time.Time { return t0 })
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	at := func(h int) *time.Time { x := t0.Add(time.Duration(h) * time.Hour); return &x }
	mk := func(key string, start, stop *time.Time) {
		e := &experiment.Experiment{Key: key, Name: key, Stage: experiment.StageCheckout, Touchpoint: "checkout",
			Variants:    []experiment.Variant{{Key: "a", Weight: 1}, {Key: "b", Weight: 1}},
			GoalMetrics: []string{"conversion"}, StartAt: start, StopAt: stop}
		if _, err := svc.Create(ctx, "pm", e); err != nil {
			t.Fatal(err)
		}
	}
	mk("starts-at-10", at(1), at(5))
	mk("unscheduled", nil, nil)
	mk("starts-later", at(20), nil)

	steps := []struct {
		name   string
		hour   int
		status map[string]experiment.Status
	}{
		{"nothing happens before the start time", 0, map[string]experiment.Status{"starts-at-10": "draft", "unscheduled": "draft", "starts-later": "draft"}},
		{"a draft launches once its start time has come", 1, map[string]experiment.Status{"starts-at-10": "running", "starts-later": "draft"}},
		{"a running experiment stops at its stop time", 5, map[string]experiment.Status{"starts-at-10": "stopped", "unscheduled": "draft"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if _, err := svc.ApplySchedule(ctx, t0.Add(time.Duration(s.hour)*time.Hour)); err != nil {
				t.Fatal(err)
			}
			for key, want := range s.status {
				e, err := svc.Get(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if e.Status != want {
					t.Errorf("%s is %s, want %s", key, e.Status, want)
				}
			}
		})
	}
	audit, _ := svc.Audit(ctx, "starts-at-10")
	if len(audit) != 3 || audit[1].Actor != experiment.ScheduleActor || audit[1].Action != "launch" || audit[2].Action != "stop" {
		t.Fatalf("audit %+v", audit)
	}
}

func TestServiceRefusesWhatJSONCannotCarryInsteadOfPanicking(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.OpenFile(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := experiment.NewService(st, time.Now)
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		mut  func(e *experiment.Experiment)
	}{
		{"a NaN weight", func(e *experiment.Experiment) { e.Variants[0].Weight = math.NaN() }},
		{"an infinite coverage", func(e *experiment.Experiment) { e.Coverage = math.Inf(1) }},
		{"a payload that is not JSON", func(e *experiment.Experiment) { e.Variants[1].Payload = []byte("{oops") }},
	}
	for _, tc := range bad {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			e := &experiment.Experiment{Key: "x", Name: "x", Stage: experiment.StageCheckout, Touchpoint: "checkout",
				Variants:    []experiment.Variant{{Key: "a", Weight: 1}, {Key: "b", Weight: 1}},
				GoalMetrics: []string{"conversion"}}
			tc.mut(e)
			if _, err := svc.Create(ctx, "go-caller", e); !errors.Is(err, experiment.ErrInvalid) {
				t.Fatalf("Create: err = %v, want ErrInvalid", err)
			}
		})
	}
}
