package health_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/anomaly"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/store/sqlite"
)

// fakeJourney serves stage KPI series; each series is a function of the
// day, so a later clock sees more days.
type fakeJourney struct {
	mu    sync.Mutex
	kpis  []journeyKPI
	calls [][2]time.Time
	err   error
}

type journeyKPI struct {
	stage, kpi, name string
	lowerIsBetter    bool
	rate             bool
	// value and n give a day's KPI; ok=false: no data that day.
	day func(d time.Time) (value, n float64, ok bool)
}

func (f *fakeJourney) StageKPISeries(_ context.Context, from, to time.Time) ([]anomaly.Series, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, [2]time.Time{from, to})
	if f.err != nil {
		return nil, f.err
	}
	var out []anomaly.Series
	for _, k := range f.kpis {
		s := anomaly.Series{Stage: k.stage, KPI: k.kpi, Name: k.name, LowerIsBetter: k.lowerIsBetter, Rate: k.rate}
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			v, n, ok := k.day(d)
			if !ok {
				v, n = math.NaN(), 0
			}
			s.Points = append(s.Points, anomaly.Point{Day: d, Value: v, N: n})
		}
		out = append(out, s)
	}
	return out, nil
}

func (f *fakeJourney) set(fn func(f *fakeJourney)) { f.mu.Lock(); defer f.mu.Unlock(); fn(f) }

// weekly is a shop-like KPI: a weekday pattern with a deterministic
// wobble of a few percent, at n units a day.
func weekly(base, n float64) func(time.Time) (float64, float64, bool) {
	pattern := [7]float64{1.25, 0.95, 0.92, 0.93, 0.95, 1.0, 1.2} // Sunday first
	return func(d time.Time) (float64, float64, bool) {
		k := float64(d.Unix() / 86400)
		return base * pattern[d.Weekday()] * (1 + 0.03*math.Sin(1.7*k)), n * pattern[d.Weekday()], true
	}
}

// planted replaces the value of one day.
func planted(f func(time.Time) (float64, float64, bool), day time.Time, v float64) func(time.Time) (float64, float64, bool) {
	return func(d time.Time) (float64, float64, bool) {
		x, n, ok := f(d)
		if d.Equal(day) {
			x = v
		}
		return x, n, ok
	}
}

// today is t0's day (a Monday); yesterday is the latest complete day.
var (
	today     = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	yesterday = today.AddDate(0, 0, -1)
)

type journeyEnv struct {
	st    *sqlite.Store
	src   *fakeJourney
	clock *clock
	mon   *health.Monitor
	notes *recorder
}

func newJourneyEnv(t *testing.T, src *fakeJourney, notifier health.Notifier) *journeyEnv {
	t.Helper()
	st, svc, c := newStore(t)
	notes := &recorder{}
	if notifier == nil {
		notifier = notes
	}
	data := &fakeData{}
	opts := health.Options{Now: c.Now, Notifier: notifier, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if src != nil {
		opts.Journey = src
	}
	mon, err := health.NewMonitor(svc, st, data, data, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &journeyEnv{st: st, src: src, clock: c, mon: mon, notes: notes}
}

func (v *journeyEnv) open(t *testing.T) []health.Alert {
	t.Helper()
	return pass(t, v.mon, v.st, "")
}

func TestJourneyAnomalyOpensAnAlertAndResolvesWhenBackInBand(t *testing.T) {
	ctx := context.Background()
	conv := weekly(0.031, 20000)
	src := &fakeJourney{kpis: []journeyKPI{
		{stage: "checkout", kpi: "conversion", name: "Checkout conversion", rate: true, day: planted(conv, yesterday, 0.012)},
		{stage: "returns", kpi: "return_rate", name: "Return rate", rate: true, lowerIsBetter: true, day: weekly(0.08, 3000)},
	}}
	v := newJourneyEnv(t, src, nil)

	var id string
	t.Run("a drop on the latest complete day opens one critical journey alert", func(t *testing.T) {
		open := v.open(t)
		if len(open) != 1 {
			t.Fatalf("open alerts %+v, want one", open)
		}
		a := open[0]
		id = a.ID
		if a.Experiment != "" || a.Check != health.CheckKPIAnomaly || a.Subject != "checkout/conversion" || a.Severity != health.Critical || a.Status != health.Open {
			t.Fatalf("alert %+v", a)
		}
		// The expectation is Sunday's weekday factor times the level.
		want := "Checkout conversion on Sun 1 Nov was 1.2%, expected 3."
		if !strings.HasPrefix(a.Summary, want) || !strings.Contains(a.Summary, "standard deviations below the expectation, on 25000 visitors.") {
			t.Fatalf("summary %q, want it to start with %q", a.Summary, want)
		}
		var d health.AnomalyDetail
		if err := json.Unmarshal(a.Detail, &d); err != nil {
			t.Fatal(err)
		}
		// The detail is the anomaly package's band for that day, from the
		// same series.
		series, _ := src.StageKPISeries(ctx, today.AddDate(0, 0, -health.JourneyHistoryDays), today)
		pts := series[0].Points
		b := anomaly.Bands(pts, anomaly.Options{Rate: true})[len(pts)-1]
		if d.Day != "2026-11-01" || d.Value != 0.012 || d.N != 25000 || d.Expected != b.Expected || d.Low != b.Low || d.High != b.High ||
			d.Direction != anomaly.Below || d.Stage != "checkout" || d.KPI != "conversion" || d.Sigmas == nil || *d.Sigmas > -8 {
			t.Fatalf("detail %+v, band %+v", d, b)
		}
		if b.Expected < 0.036 || b.Expected > 0.04 {
			t.Fatalf("Sunday's expectation %g, want about 1.25 x 3.1%%", b.Expected)
		}
		if got := health.Summarise(open); len(got) != 0 {
			t.Fatalf("the experiments' overview lists journey alerts: %+v", got)
		}
	})
	t.Run("checking again the same day updates it, opening nothing and notifying nothing", func(t *testing.T) {
		v.clock.add(time.Hour)
		if open := v.open(t); len(open) != 1 || open[0].ID != id || !open[0].LastSeenAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("open %+v", open)
		}
		if got := strings.Join(v.notes.actions(), ","); got != "opened:kpi_anomaly" {
			t.Fatalf("notifications %s", got)
		}
		list, err := v.st.ListAlerts(ctx, health.Filter{Check: health.CheckKPIAnomaly})
		if err != nil || len(list) != 1 {
			t.Fatalf("list by check: %+v, %v", list, err)
		}
	})
	t.Run("the next day back in band resolves it, saying so", func(t *testing.T) {
		v.clock.add(24 * time.Hour)
		if open := v.open(t); len(open) != 0 {
			t.Fatalf("open %+v", open)
		}
		a, evs, err := v.st.GetAlert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != health.Resolved || len(evs) != 2 || evs[0].Action != health.ActionOpened || evs[1].Action != health.ActionResolved ||
			evs[1].Message != "back in band: Checkout conversion on Mon 2 Nov was 2.9%, expected 3.0% (2.5–3.5%)." {
			t.Fatalf("alert %+v, events %+v", a, evs)
		}
		if got := strings.Join(v.notes.actions(), ","); got != "opened:kpi_anomaly,resolved:kpi_anomaly" {
			t.Fatalf("notifications %s", got)
		}
	})
	t.Run("the source is asked for whole past days only", func(t *testing.T) {
		src.mu.Lock()
		last := src.calls[len(src.calls)-1]
		src.mu.Unlock()
		wantTo := today.AddDate(0, 0, 1)
		if !last[1].Equal(wantTo) || !last[0].Equal(wantTo.AddDate(0, 0, -health.JourneyHistoryDays)) {
			t.Fatalf("asked for [%v, %v), want the %d days before %v", last[0], last[1], health.JourneyHistoryDays, wantTo)
		}
	})
}

func TestJourneyAnomalySeverityFollowsTheKPIsDirection(t *testing.T) {
	cases := []struct {
		name          string
		lowerIsBetter bool
		value         float64
		want          health.Severity
	}{
		{"a conversion far above its band is good news", false, 0.07, health.Info},
		{"a return rate far above its band is critical", true, 0.07, health.Critical},
		{"a return rate a little above its band is a warning", true, 0.046, health.Warning},
		{"a return rate below its band is good news", true, 0.01, health.Info},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := &fakeJourney{kpis: []journeyKPI{{stage: "returns", kpi: "k", name: "KPI", rate: true, lowerIsBetter: c.lowerIsBetter,
				day: planted(weekly(0.031, 20000), yesterday, c.value)}}}
			v := newJourneyEnv(t, src, nil)
			open := v.open(t)
			if len(open) != 1 || open[0].Severity != c.want {
				t.Fatalf("open %+v, want one %s alert", open, c.want)
			}
		})
	}
}

func TestJourneyAlertsWithoutDataOrWithoutASource(t *testing.T) {
	ctx := context.Background()
	conv := weekly(0.031, 20000)
	src := &fakeJourney{kpis: []journeyKPI{{stage: "checkout", kpi: "conversion", rate: true, day: planted(conv, yesterday, 0.012)}}}
	v := newJourneyEnv(t, src, nil)
	if open := v.open(t); len(open) != 1 || !strings.HasPrefix(open[0].Summary, "checkout/conversion on Sun 1 Nov was 1.2%") {
		t.Fatalf("open %+v", open)
	}
	t.Run("a KPI without data for the last days keeps its alert", func(t *testing.T) {
		src.set(func(f *fakeJourney) {
			f.kpis[0].day = func(d time.Time) (float64, float64, bool) {
				if !d.Before(yesterday) {
					return 0, 0, false
				}
				return conv(d)
			}
		})
		v.clock.add(3 * 24 * time.Hour)
		if open := v.open(t); len(open) != 1 {
			t.Fatalf("open %+v", open)
		}
	})
	t.Run("a failing source is an error of the pass and changes nothing", func(t *testing.T) {
		src.set(func(f *fakeJourney) { f.err = errors.New("disk on fire") })
		if _, err := v.mon.RunOnce(ctx); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("err = %v", err)
		}
		if open, _ := v.st.OpenAlerts(ctx, ""); len(open) != 1 {
			t.Fatalf("open %+v", open)
		}
	})
	t.Run("without a source the check is off and its alerts resolve", func(t *testing.T) {
		data := &fakeData{}
		off, err := health.NewMonitor(experiment.NewService(v.st, v.clock.Now), v.st, data, data, v.st,
			health.Options{Now: v.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := off.CheckJourney(ctx); !errors.Is(err, health.ErrJourneyOff) {
			t.Fatalf("CheckJourney without a source: %v", err)
		}
		if _, err := off.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := v.st.ListAlerts(ctx, health.Filter{})
		if len(list) != 1 || list[0].Status != health.Resolved {
			t.Fatalf("alerts %+v", list)
		}
		_, evs, _ := v.st.GetAlert(ctx, list[0].ID)
		if evs[len(evs)-1].Message != "journey KPI checks are off" {
			t.Fatalf("events %+v", evs)
		}
	})
}

func TestJourneyAlertsGoThroughTheWebhooks(t *testing.T) {
	signed, slack := newReceiver(t, 200), newReceiver(t, 200)
	var logs bytes.Buffer
	dlog := &memLog{}
	d := dispatch(t, []health.Webhook{{URL: signed.srv.URL + "/hook", Format: health.FormatJSON}, {URL: slack.srv.URL + "/services/T0/B0/x", Format: health.FormatSlack}}, &logs, dlog)
	src := &fakeJourney{kpis: []journeyKPI{{stage: "checkout", kpi: "conversion", name: "Checkout conversion", rate: true,
		day: planted(weekly(0.031, 20000), yesterday, 0.012)}}}
	v := newJourneyEnv(t, src, d)
	open := v.open(t)
	if len(open) != 1 {
		t.Fatalf("open %+v", open)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got := signed.got()
	if len(got) != 1 {
		t.Fatalf("%d signed deliveries", len(got))
	}
	if err := health.VerifySignature([]byte(secret), got[0].header.Get(health.SignatureHeader), got[0].body, time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	var p health.Payload
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "alert.opened" || p.Alert.ID != open[0].ID || p.Alert.Check != health.CheckKPIAnomaly || p.Alert.Experiment != "" ||
		p.Alert.Subject != "checkout/conversion" || p.Alert.Summary != open[0].Summary {
		t.Fatalf("payload %+v", p)
	}
	var msg struct{ Text string }
	if s := slack.got(); len(s) != 1 || json.Unmarshal(s[0].body, &msg) != nil ||
		!strings.HasPrefix(msg.Text, ":red_circle: *critical* kpi_anomaly alert opened on journey KPI `checkout/conversion`\nCheckout conversion on Sun 1 Nov was 1.2%") {
		t.Fatalf("slack message %q", msg.Text)
	}
	if ds := dlog.all(); len(ds) != 2 || !ds[0].OK || !ds[1].OK || ds[0].AlertID != open[0].ID {
		t.Fatalf("delivery log %+v", ds)
	}
}

func TestEvaluateJourneyFormatsValuesToTheBandsPrecision(t *testing.T) {
	// A noise-free KPI: its band is binomial noise only, ±4σ.
	pts := func(v func(time.Time) float64, n float64) []anomaly.Point {
		var out []anomaly.Point
		for d := today.AddDate(0, 0, -63); d.Before(today); d = d.AddDate(0, 0, 1) {
			out = append(out, anomaly.Point{Day: d, Value: v(d), N: n})
		}
		return out
	}
	flat := func(x float64) func(time.Time) float64 { return func(time.Time) float64 { return x } }
	cases := []struct {
		name   string
		series anomaly.Series
		want   string
	}{
		{"a rate reads in percent, with the decimals that tell its band's ends apart", anomaly.Series{Stage: "checkout", KPI: "conversion", Name: "Checkout conversion", Rate: true, Points: pts(flat(0.031), 100000)},
			"Checkout conversion on Sun 1 Nov was 1.0%, expected 3.1% (2.9–3.3%). That is 38.3 standard deviations below the expectation, on 100000 visitors."},
		{"a mean reads in its own unit", anomaly.Series{Stage: "checkout", KPI: "aov", Name: "Average order value", Points: pts(flat(60), 500)},
			"Average order value on Sun 1 Nov was 1, expected 60 (59–61). That is 196.7 standard deviations below the expectation, on 500 units."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.series.Points[len(c.series.Points)-1].Value = 0.01
			if !c.series.Rate {
				c.series.Points[len(c.series.Points)-1].Value = 1
			}
			res := health.EvaluateJourney([]anomaly.Series{c.series}, today, anomaly.Options{})
			if len(res.Findings) != 1 || res.Findings[0].Summary != c.want {
				t.Fatalf("findings %+v\nwant %q", res.Findings, c.want)
			}
		})
	}
}

func TestEvaluateJourneyTakesAnUnknownDenominator(t *testing.T) {
	var pts []anomaly.Point
	for d := today.AddDate(0, 0, -63); d.Before(today); d = d.AddDate(0, 0, 1) {
		pts = append(pts, anomaly.Point{Day: d, Value: 60, N: 500})
	}
	pts[len(pts)-1] = anomaly.Point{Day: yesterday, Value: 1, N: math.NaN()}
	res := health.EvaluateJourney([]anomaly.Series{{Stage: "checkout", KPI: "aov", Points: pts}}, today, anomaly.Options{})
	if len(res.Findings) != 1 {
		t.Fatalf("findings %+v", res.Findings)
	}
	if d := res.Findings[0].Detail.(health.AnomalyDetail); d.N != 0 || strings.Contains(res.Findings[0].Summary, "NaN") {
		t.Fatalf("finding %+v", res.Findings[0])
	}
	if _, err := json.Marshal(res.Findings[0].Detail); err != nil {
		t.Fatal(err)
	}
}
