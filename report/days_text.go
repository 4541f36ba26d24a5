package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/journeylab/journeylab/stats"
)

// WriteExposureDaysText writes the days-since-exposure view for a terminal:
// the caveat, then per metric one table with a row per day × treatment.
func WriteExposureDaysText(w io.Writer, d *ExposureDays, o TextOptions) error {
	p := &printer{w: w}
	what := "events of day k only"
	if d.View == "cumulative" {
		what = "events of days 0 to k"
	}
	p.printf("Experiment %s: lift by days since exposure (%s; %s)\n", d.Experiment, what, describeAnalysis(d.Analysis))
	p.printf("  Day k = the 24 hours from k·24h after each unit's first exposure; a unit counts once its day k has ended.\n")
	for _, n := range d.Notes {
		p.printf("  %s\n", n)
	}
	ci := " [" + ciLabel(d.Analysis.Alpha) + "]"
	evidenceHeader := "P"
	if d.Analysis.Method == "bayesian" {
		evidenceHeader = "P(BETTER) / RISK"
	}
	for _, m := range d.Metrics {
		p.printf("\n%s: %s\n", m.Metric, m.Name)
		if p.err != nil {
			return p.err
		}
		if len(m.Days) == 0 {
			p.printf("  no unit has completed its first day since exposure yet\n")
			continue
		}
		t := newTable(w)
		t.Header("DAY", "VARIANT", "CONTROL (N)", "VARIANT (N)", "ABS. LIFT"+ci, "REL. LIFT"+ci, evidenceHeader, "VERDICT")
		for _, day := range m.Days {
			ctl := dayArmOf(day.Arms, d.Control)
			for _, c := range day.Comparisons {
				arm := dayArmOf(day.Arms, c.Variant)
				row := []any{strconv.Itoa(day.Day), c.Variant, value(m.Kind, ctl.Arm) + " (" + thousands(ctl.Units) + ")",
					value(m.Kind, arm.Arm) + " (" + thousands(arm.Units) + ")"}
				if c.Status != stats.StatusOK {
					row = append(row, "", inWords(string(c.Status))+": "+c.Reason, "")
				} else {
					row = append(row, absoluteCI(m.Kind, c.Absolute), relative(c.Relative), evidence(c))
				}
				row = append(row, o.verdict(c.Verdict))
				if err := t.Append(row...); err != nil {
					return fmt.Errorf("render days since exposure: %w", err)
				}
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("render days since exposure: %w", err)
		}
	}
	return p.err
}

func dayArmOf(arms []DayArm, variant string) DayArm {
	for _, a := range arms {
		if a.Variant == variant {
			return a
		}
	}
	return DayArm{Arm: Arm{Variant: variant, Status: stats.StatusNotEnoughData}}
}
