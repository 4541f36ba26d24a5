package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/journeylab/journeylab/anomaly"
)

// JourneySource gives the stage KPIs over all traffic (not only the units
// in experiments): one Series per stage KPI, one Point per day in
// [from, to) at UTC midnights, with N=0 and a NaN Value on days without a
// denominator.
type JourneySource interface {
	StageKPISeries(ctx context.Context, from, to time.Time) ([]anomaly.Series, error)
}

// CheckKPIAnomaly: a journey stage KPI, over all traffic, left its
// expected band on its latest complete day. Its alerts belong to no
// experiment (Experiment is "") and their Subject is "stage/kpi".
const CheckKPIAnomaly Check = "kpi_anomaly"

// ErrJourneyOff is returned by CheckJourney when the Monitor has no
// JourneySource.
var ErrJourneyOff = errors.New("journey KPI checks are off: no stage KPI source is configured")

// Journey check windows.
const (
	// JourneyHistoryDays is how many complete days before today the check
	// reads: the weeks a band learns from plus the days of its level.
	JourneyHistoryDays = 7*(anomaly.DefaultWeeks+1) + anomaly.DefaultLevelDays
	// JourneyStaleDays is how old the newest day with data of a KPI may
	// be for the check to judge it; a KPI without data for longer keeps
	// its alert as it is (no data is no evidence either way).
	JourneyStaleDays = 7
)

// AnomalyDetail is the detail of a KPI anomaly alert.
type AnomalyDetail struct {
	Stage string `json:"stage"`
	KPI   string `json:"kpi"`
	Name  string `json:"name,omitempty"`
	// Day is the day the value belongs to (YYYY-MM-DD, UTC).
	Day   string  `json:"day"`
	Value float64 `json:"value"`
	// N is the day's denominator (visitors, orders); 0 when unknown.
	N        float64 `json:"n"`
	Expected float64 `json:"expected"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Sigma    float64 `json:"sigma"`
	// Sigmas is how far Value is from Expected in Sigmas (absent when the
	// band has no width).
	Sigmas        *float64          `json:"sigmas,omitempty"`
	Direction     anomaly.Direction `json:"direction"`
	LowerIsBetter bool              `json:"lower_is_better"`
	Rate          bool              `json:"rate,omitempty"`
}

// JourneyResult is what EvaluateJourney found.
type JourneyResult struct {
	// Findings are the KPIs whose latest judged day is outside its band.
	Findings []Finding
	// Cleared maps the subject of each KPI whose latest judged day is in
	// its band to that day and a sentence saying so (it resolves an open
	// alert about an earlier day).
	Cleared map[string]Cleared
	// Unjudged lists the subjects of the KPIs with no recent day to judge
	// (no data for JourneyStaleDays, or too short a history): their open
	// alerts stay as they are.
	Unjudged map[string]bool
}

// Cleared is a KPI's latest judged day, in its band.
type Cleared struct {
	Day     time.Time
	Message string
}

// EvaluateJourney judges the newest day with data of each series, among
// the JourneyStaleDays complete days before today, against its band. It is
// pure.
func EvaluateJourney(series []anomaly.Series, today time.Time, opts anomaly.Options) JourneyResult {
	res := JourneyResult{Cleared: map[string]Cleared{}, Unjudged: map[string]bool{}}
	oldest := today.AddDate(0, 0, -JourneyStaleDays)
	for _, s := range series {
		subject := s.Stage + "/" + s.KPI
		o := opts
		o.Rate = s.Rate
		bands := anomaly.Bands(s.Points, o)
		latest := -1
		for i, p := range s.Points {
			if p.Day.Before(oldest) || !p.Day.Before(today) || !bands[i].Ready || math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
				continue
			}
			if latest < 0 || p.Day.After(s.Points[latest].Day) {
				latest = i
			}
		}
		if latest < 0 {
			res.Unjudged[subject] = true
			continue
		}
		p, b := s.Points[latest], bands[latest]
		f, out := anomaly.Check(p, b)
		if !out {
			res.Cleared[subject] = Cleared{Day: utcDay(p.Day), Message: fmt.Sprintf("back in band: %s on %s was %s, expected %s (%s).",
				kpiName(s), p.Day.UTC().Format("Mon 2 Jan"), kpiValue(s, p.Value, b), kpiValue(s, b.Expected, b), kpiRange(s, b))}
			continue
		}
		res.Findings = append(res.Findings, anomalyFinding(s, subject, p, f, o))
	}
	return res
}

func anomalyFinding(s anomaly.Series, subject string, p anomaly.Point, f anomaly.Finding, o anomaly.Options) Finding {
	b := f.Band
	if !(p.N > 0) || math.IsInf(p.N, 0) {
		p.N = 0 // unknown; JSON has no NaN
	}
	width := o.Width
	if !(width > 0) {
		width = anomaly.DefaultWidth
	}
	// Bad news is a move against the KPI's direction; far beyond the band
	// (twice its half-width) it is critical.
	bad := (f.Direction == anomaly.Below) != s.LowerIsBetter
	sev := Info
	if bad {
		sev = Warning
		if math.Abs(f.Sigmas) >= 2*width {
			sev = Critical
		}
	}
	d := AnomalyDetail{Stage: s.Stage, KPI: s.KPI, Name: s.Name, Day: p.Day.UTC().Format(time.DateOnly), Value: p.Value, N: p.N,
		Expected: b.Expected, Low: b.Low, High: b.High, Sigma: b.Sigma, Direction: f.Direction, LowerIsBetter: s.LowerIsBetter, Rate: s.Rate}
	if !math.IsInf(f.Sigmas, 0) {
		x := round2(f.Sigmas)
		d.Sigmas = &x
	}
	summary := fmt.Sprintf("%s on %s was %s, expected %s (%s).", kpiName(s), p.Day.UTC().Format("Mon 2 Jan"),
		kpiValue(s, p.Value, b), kpiValue(s, b.Expected, b), kpiRange(s, b))
	if d.Sigmas != nil {
		summary += fmt.Sprintf(" That is %.1f standard deviations %s the expectation", math.Abs(f.Sigmas), f.Direction)
		if p.N > 0 {
			summary += fmt.Sprintf(", on %.0f %s", p.N, unitWord(s))
		}
		summary += "."
	}
	return Finding{Check: CheckKPIAnomaly, Subject: subject, Severity: sev, Summary: summary, Detail: d}
}

func kpiName(s anomaly.Series) string {
	if s.Name != "" {
		return s.Name
	}
	return s.Stage + "/" + s.KPI
}

func unitWord(s anomaly.Series) string {
	if s.Rate {
		return "visitors"
	}
	return "units"
}

// decimals is how many decimals tell a band's values apart: one more than
// the order of magnitude of its half-width (in display units), so a band
// of 2.6–3.6% reads with one.
func decimals(s anomaly.Series, b anomaly.Band) int {
	hw := (b.High - b.Low) / 2
	if s.Rate {
		hw *= 100
	}
	if !(hw > 0) || math.IsInf(hw, 0) {
		return 2
	}
	return min(max(int(-math.Floor(math.Log10(hw))), 0), 6)
}

func kpiValue(s anomaly.Series, v float64, b anomaly.Band) string {
	if s.Rate {
		return fmt.Sprintf("%.*f%%", decimals(s, b), 100*v)
	}
	return fmt.Sprintf("%.*f", decimals(s, b), v)
}

func kpiRange(s anomaly.Series, b anomaly.Band) string {
	lo, hi := kpiValue(s, b.Low, b), kpiValue(s, b.High, b)
	if s.Rate {
		lo = lo[:len(lo)-1]
	}
	return lo + "–" + hi
}

// alertDay is the day a KPI anomaly alert is about (zero when unknown).
func alertDay(a Alert) time.Time {
	var d AnomalyDetail
	if json.Unmarshal(a.Detail, &d) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, d.Day)
	if err != nil {
		return time.Time{}
	}
	return t
}

func isFinding(fs []Finding, subject string) bool {
	for _, f := range fs {
		if f.Subject == subject {
			return true
		}
	}
	return false
}

// utcDay is the UTC midnight of t.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CheckJourney judges every stage KPI's latest complete day now, as the
// scheduler does on each pass, and returns the open journey alerts. A KPI
// outside its band opens (or updates) its alert; back in band, the alert
// resolves; a KPI without recent data keeps its alert as it is, and the
// alert of a KPI the source no longer reports resolves.
func (m *Monitor) CheckJourney(ctx context.Context) ([]Alert, error) {
	if m.opts.Journey == nil {
		return nil, ErrJourneyOff
	}
	now := m.opts.Now().UTC()
	today := utcDay(now)
	series, err := m.opts.Journey.StageKPISeries(ctx, today.AddDate(0, 0, -JourneyHistoryDays), today)
	if err != nil {
		return nil, fmt.Errorf("health journey: stage KPI series: %w", err)
	}
	res := EvaluateJourney(series, today, m.opts.Anomaly)
	m.passMu.Lock()
	defer m.passMu.Unlock()
	all, err := m.store.OpenAlerts(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("health journey: open alerts: %w", err)
	}
	var open, kept []Alert
	cleared := map[string]string{}
	for _, a := range all {
		if a.Experiment != "" || a.Check != CheckKPIAnomaly {
			continue
		}
		c, inBand := res.Cleared[a.Subject]
		// Only a later day in band clears an alert: an older one (the
		// alert's day has no data any more) says nothing new.
		if res.Unjudged[a.Subject] || (inBand && !c.Day.After(alertDay(a))) {
			kept = append(kept, a)
			continue
		}
		open = append(open, a)
		why := c.Message
		if !inBand && !isFinding(res.Findings, a.Subject) {
			why = "the KPI is no longer reported"
		}
		cleared[a.DedupeKey()] = why
	}
	out, err := m.reconcile(ctx, "", nil, Settings{}, open, res.Findings, now, cleared)
	out = append(out, kept...)
	slices.SortFunc(out, func(a, b Alert) int { return a.OpenedAt.Compare(b.OpenedAt) })
	return out, err
}
