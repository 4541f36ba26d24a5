package app

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/privacy"
)

func TestExposureRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	a := retentionApp(t, "privacy.exposure_retention", "720h", &now)
	if _, err := a.Store.InsertExposures(ctx, []experiment.Exposure{
		{Experiment: "old-test", Unit: "u-1", Variant: "control", At: now, Attributes: map[string]string{"device": "mobile"}},
		{Experiment: "old-test", Unit: "u-2", Variant: "green", At: now},
		{Experiment: "live-test", Unit: "u-1", Variant: "control", At: now},
	}); err != nil {
		t.Fatal(err)
	}
	one, ts := 1.0, now.Add(time.Hour)
	if _, err := a.Store.AppendEvents(ctx, now, []events.Event{{EventID: "e1", UnitID: "u-1", Event: "order_completed", Value: &one, TS: &ts}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Experiment.Transition(ctx, "test", "old-test", experiment.ActionStop); err != nil {
		t.Fatal(err)
	}
	status := func(path string) int {
		resp, err := a.Server.App().Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	t.Run("the scheduled job says when it runs next", func(t *testing.T) {
		jobCtx, stop := context.WithCancel(ctx)
		done := a.runRetention(jobCtx)
		for a.retention.get().IsZero() {
			time.Sleep(time.Millisecond)
		}
		stop()
		<-done
		o, err := a.PrivacyOverview(ctx)
		if err != nil || o.NextRetentionRun == nil || !o.NextRetentionRun.Equal(now.Add(time.Hour)) {
			t.Errorf("next run %v, %v; want %v", o.NextRetentionRun, err, now.Add(time.Hour))
		}
	})
	t.Run("nothing expires within the retention, and the overview says when it will", func(t *testing.T) {
		now = now.Add(29 * 24 * time.Hour)
		if xs, err := a.ExpireExposures(ctx); err != nil || len(xs) != 0 {
			t.Errorf("expired %+v, %v; want nothing", xs, err)
		}
		o, err := a.PrivacyOverview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Scheduled) != 1 || o.Scheduled[0].Experiment != "old-test" || o.Scheduled[0].ExposuresExpireAt == nil ||
			!o.Scheduled[0].ExposuresExpireAt.Equal(o.Scheduled[0].StoppedAt.Add(720*time.Hour)) || o.Scheduled[0].EventsExpireAt != nil {
			t.Errorf("scheduled %+v", o.Scheduled)
		}
		if o.ExposureRetentionDays != 30 || o.EventRetentionDays != 0 {
			t.Errorf("retention days %v and %v, want 30 and 0", o.ExposureRetentionDays, o.EventRetentionDays)
		}
	})
	t.Run("past it the stopped experiment's exposures and rollups go, with counts recorded", func(t *testing.T) {
		now = now.Add(2 * 24 * time.Hour)
		xs, err := a.ExpireExposures(ctx)
		if err != nil || len(xs) != 1 || xs[0].Experiment != "old-test" || xs[0].Exposures != 2 || xs[0].Rollups == 0 || !xs[0].At.Equal(now) {
			t.Fatalf("expired %+v, %v; want old-test's 2 exposures and its rollups", xs, err)
		}
		if xs, err := a.ExpireExposures(ctx); err != nil || len(xs) != 0 {
			t.Errorf("a second run expired %+v, %v; want nothing", xs, err)
		}
		o, err := a.PrivacyOverview(ctx)
		if err != nil || len(o.Expired) != 1 || o.Expired[0] != xs[0] || len(o.Scheduled) != 0 {
			t.Errorf("overview expired %+v, scheduled %+v, %v", o.Expired, o.Scheduled, err)
		}
	})
	t.Run("its report is gone (410), the live experiment's is kept", func(t *testing.T) {
		if got := status("/v1/experiments/old-test/report"); got != 410 {
			t.Errorf("report of the expired experiment: %d, want 410", got)
		}
		if got := status("/v1/experiments/live-test/report"); got != 200 {
			t.Errorf("report of the live experiment: %d, want 200", got)
		}
	})
	t.Run("rebuilding the expired experiment is refused; the raw events stay for the live one", func(t *testing.T) {
		if err := a.rebuild(ctx, "old-test", nil); !errors.Is(err, privacy.ErrExposuresExpired) {
			t.Errorf("rebuild: %v, want ErrExposuresExpired", err)
		}
		if err := a.rebuild(ctx, "live-test", nil); err != nil {
			t.Errorf("rebuild of the live experiment: %v", err)
		}
		got, err := a.Store.StoredEvents(ctx, []events.Key{{Unit: "u-1", ID: "e1"}})
		if err != nil || !got[0] {
			t.Errorf("u-1's event stored = %v, %v; want kept", got, err)
		}
	})
}
