package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/privacy"
)

func TestEventRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	a := retentionApp(t, "privacy.event_retention", "720h", &now)
	if _, err := a.Store.InsertExposures(ctx, []experiment.Exposure{
		{Experiment: "old-test", Unit: "u-old", Variant: "control", At: now},
		{Experiment: "live-test", Unit: "u-live", Variant: "control", At: now},
	}); err != nil {
		t.Fatal(err)
	}
	one, ts := 1.0, now.Add(time.Hour)
	var evs []events.Event
	for _, u := range []string{"u-old", "u-live"} {
		evs = append(evs, events.Event{EventID: "e1", UnitID: u, Event: "order_completed", Value: &one, TS: &ts})
	}
	if _, err := a.Store.AppendEvents(ctx, now, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Experiment.Transition(ctx, "test", "old-test", experiment.ActionStop); err != nil {
		t.Fatal(err)
	}
	t.Run("nothing expires within the retention", func(t *testing.T) {
		now = now.Add(29 * 24 * time.Hour)
		if n, err := a.ExpireEvents(ctx); err != nil || n != 0 {
			t.Errorf("expired %d, %v; want nothing", n, err)
		}
		if err := a.rebuild(ctx, "old-test", nil); err != nil {
			t.Errorf("rebuild within the retention: %v", err)
		}
	})
	t.Run("past it only the stopped experiment's units lose their raw events", func(t *testing.T) {
		now = now.Add(2 * 24 * time.Hour)
		if n, err := a.ExpireEvents(ctx); err != nil || n != 1 {
			t.Errorf("expired %d, %v; want u-old's event", n, err)
		}
		got, err := a.Store.StoredEvents(ctx, []events.Key{{Unit: "u-old", ID: "e1"}, {Unit: "u-live", ID: "e1"}})
		if err != nil || got[0] || !got[1] {
			t.Errorf("stored %v, %v; want only u-live's", got, err)
		}
	})
	t.Run("rebuilding the expired experiment is refused; the live one rebuilds", func(t *testing.T) {
		if err := a.rebuild(ctx, "old-test", nil); !errors.Is(err, privacy.ErrExpired) {
			t.Errorf("rebuild: %v, want ErrExpired", err)
		}
		if err := a.rebuild(ctx, "live-test", nil); err != nil {
			t.Errorf("rebuild of the running experiment: %v", err)
		}
	})
}

// retentionApp starts an app with retention setting key at value, on the
// clock *now, running the experiments old-test and live-test.
func retentionApp(t *testing.T, key, value string, now *time.Time) *App {
	t.Helper()
	ctx := context.Background()
	v := config.New("")
	v.Set("data_dir", t.TempDir())
	v.Set("dev_mode", true)
	v.Set(key, value)
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(ctx) })
	for _, key := range []string{"old-test", "live-test"} {
		e := &experiment.Experiment{Key: key, Name: key, Stage: experiment.StageCheckout, Touchpoint: "checkout",
			Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "green", Weight: 1}}, GoalMetrics: []string{"conversion"}}
		if _, err := a.Experiment.Create(ctx, "test", e); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Experiment.Transition(ctx, "test", key, experiment.ActionLaunch); err != nil {
			t.Fatal(err)
		}
	}
	return a
}
