package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/journeylab/journeylab/stats"
)

// CSVHeader lists the columns of WriteCSV, one row per KPI × treatment.
var CSVHeader = []string{
	"segment", "stage", "metric", "metric_name", "role", "guardrail", "kind", "direction",
	"variant", "control", "control_units", "control_value", "variant_units", "variant_value",
	"abs_lift", "abs_ci_low", "abs_ci_high", "rel_lift", "rel_ci_low", "rel_ci_high",
	"p_value", "adjusted_p_value", "chance_to_win", "risk_control", "risk_variant",
	"cuped_applied", "status", "reason", "verdict", "guardrail_breach",
	"control_variance", "variant_variance", "cuped_theta", "sequential_tuning", "relative_reason",
}

// WriteCSV writes the report as CSV: one row per KPI × treatment in stage
// order, first for all units (empty segment), then for each segment of the
// breakdown. Numbers keep full precision; cells that do not apply are empty.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	write := func(segment string, stages []StageReport) error {
		for _, st := range stages {
			for _, k := range st.KPIs {
				ctl := armOf(k.Arms, r.Control)
				for _, c := range k.Comparisons {
					if err := cw.Write(csvRow(r, segment, k, ctl, armOf(k.Arms, c.Variant), c)); err != nil {
						return fmt.Errorf("write csv: %w", err)
					}
				}
			}
		}
		return nil
	}
	if err := write("", r.Stages); err != nil {
		return err
	}
	for _, s := range r.Segments {
		if err := write(s.Value, s.Stages); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func csvRow(r *Report, segment string, k KPI, ctl, arm Arm, c Comparison) []string {
	row := []string{
		cellText(segment), string(k.Stage), k.Metric, cellText(k.Name), string(k.Role), strconv.FormatBool(k.Guardrail),
		string(k.Kind), string(k.Direction), c.Variant, r.Control,
		strconv.FormatInt(ctl.Units, 10), armValue(ctl), strconv.FormatInt(arm.Units, 10), armValue(arm),
	}
	row = append(row, interval(c.Absolute)...)
	row = append(row, interval(c.Relative)...)
	row = append(row, optional(c.PValue), optional(c.AdjustedPValue), optional(c.ChanceToWin))
	if c.Risk != nil {
		row = append(row, num(c.Risk.Control), num(c.Risk.Variant))
	} else {
		row = append(row, "", "")
	}
	row = append(row, strconv.FormatBool(c.CUPEDApplied), string(c.Status), cellText(c.Reason),
		string(c.Verdict), strconv.FormatBool(c.GuardrailBreach))
	if c.Variance != nil {
		row = append(row, num(c.Variance.Control), num(c.Variance.Variant))
	} else {
		row = append(row, "", "")
	}
	return append(row, optionalNonZero(c.CUPEDTheta), optionalNonZero(c.SequentialTuning), cellText(c.RelativeReason))
}

// optionalNonZero is v, or an empty cell for 0 (not applicable).
func optionalNonZero(v float64) string {
	if v == 0 {
		return ""
	}
	return num(v)
}

func armOf(arms []Arm, variant string) Arm {
	for _, a := range arms {
		if a.Variant == variant {
			return a
		}
	}
	return Arm{Variant: variant}
}

func armValue(a Arm) string {
	if a.Status != stats.StatusOK {
		return ""
	}
	return num(a.Value)
}

func interval(i *Interval) []string {
	if i == nil {
		return []string{"", "", ""}
	}
	return []string{num(i.Estimate), num(i.Low), num(i.High)}
}

func optional(p *float64) string {
	if p == nil {
		return ""
	}
	return num(*p)
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// cellText defuses spreadsheet formulas: segment values come from visitors'
// request attributes and metric names from users, and a cell starting with
// = + - @ would run as a formula when the CSV is opened in a spreadsheet.
func cellText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
