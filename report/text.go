package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// TextOptions tune WriteText.
type TextOptions struct {
	// Colour marks verdicts, guardrail breaches and an SRM mismatch with ANSI
	// colours; set it only when writing to a terminal.
	Colour bool
}

const (
	ansiGreen = "\x1b[32m"
	ansiRed   = "\x1b[1;31m"
	ansiReset = "\x1b[0m"
)

func (o TextOptions) paint(colour, s string) string {
	if !o.Colour {
		return s
	}
	return colour + s + ansiReset
}

func (o TextOptions) verdict(v Verdict) string {
	switch v {
	case Improves:
		return o.paint(ansiGreen, string(v))
	case Harms:
		return o.paint(ansiRed, string(v))
	}
	return string(v)
}

// WriteText writes the report for a terminal: the header with the SRM check
// and guardrail breaches, then one table per journey stage, then one table
// per segment of the breakdown.
func WriteText(w io.Writer, r *Report, o TextOptions) error {
	p := &printer{w: w}
	p.printf("Experiment %s: %s\n", r.Experiment, r.Name)
	p.printf("  %s / %s, %s; %s\n", r.Stage, r.Touchpoint, r.Status, describeAnalysis(r.Analysis))
	var units []string
	for _, v := range r.Variants {
		role := ""
		if v.Control && !strings.EqualFold(v.Key, "control") {
			role = " (control)"
		}
		units = append(units, fmt.Sprintf("%s %s%s", v.Key, thousands(v.Units), role))
	}
	p.printf("  units: %s\n", strings.Join(units, " · "))
	p.srm("  ", r.SRM, o)
	p.breaches("  ", r.GuardrailBreaches, o)
	if r.Optimise != nil {
		p.printf("  %s\n", r.Optimise.Note)
	}
	if p.err != nil {
		return p.err
	}
	for _, st := range r.Stages {
		p.printf("\n%s\n", strings.ToUpper(string(st.Stage)))
		if p.err != nil {
			return p.err
		}
		if err := kpiTable(w, r, st.KPIs, false, o); err != nil {
			return err
		}
	}
	if r.Dimension != "" {
		p.printf("\nBREAKDOWN BY %s", r.Dimension)
		if r.SegmentsOmitted > 0 {
			p.printf(" (%d smallest segments omitted)", r.SegmentsOmitted)
		}
		p.printf("\n")
	}
	for _, s := range r.Segments {
		var u []string
		for _, a := range s.Units {
			u = append(u, a.Variant+" "+thousands(a.Units))
		}
		p.printf("\n%s = %s (units: %s)\n", r.Dimension, s.Value, strings.Join(u, " · "))
		p.srm("  ", s.SRM, o)
		p.breaches("  ", s.GuardrailBreaches, o)
		if p.err != nil {
			return p.err
		}
		var kpis []KPI
		for _, st := range s.Stages {
			kpis = append(kpis, st.KPIs...)
		}
		if err := kpiTable(w, r, kpis, true, o); err != nil {
			return err
		}
	}
	return p.err
}

// printer remembers the first write error so the layout code stays readable.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) srm(indent string, s SRM, o TextOptions) {
	switch s.Status {
	case SRMOK:
		p.printf("%sSRM: ok (p %s)\n", indent, pEquals(s.PValue))
	case SRMMismatch:
		p.printf("%s%s\n", indent, o.paint(ansiRed, "SRM: MISMATCH (p "+pEquals(s.PValue)+")"))
		p.printf("%s%s\n", indent, s.Warning)
	default:
		p.printf("%sSRM: %s (%s)\n", indent, inWords(string(s.Status)), s.Reason)
	}
}

func (p *printer) breaches(indent string, bs []Breach, o TextOptions) {
	for _, b := range bs {
		detail := ""
		if b.Lift != nil {
			detail = " " + relative(b.Lift)
		}
		if b.PValue != nil {
			detail += ", p " + pEquals(*b.PValue)
		}
		if b.ChanceToWin != nil {
			detail += ", P(better) = " + percent(*b.ChanceToWin, 1)
		}
		p.printf("%s%s %s harmed by %s:%s\n", indent, o.paint(ansiRed, "GUARDRAIL BREACHED:"), b.Name, b.Variant, detail)
	}
	if len(bs) == 0 {
		p.printf("%sguardrails: no breach\n", indent)
	}
}

func describeAnalysis(a experiment.Analysis) string {
	s := fmt.Sprintf("%s, alpha %g", a.Method, a.Alpha)
	if a.Method != "bayesian" {
		s += ", correction " + a.Correction
	}
	if a.CUPED {
		s += ", CUPED on"
	} else {
		s += ", CUPED off"
	}
	return s
}

// kpiTable renders KPIs, one row per KPI × treatment.
func kpiTable(w io.Writer, r *Report, kpis []KPI, withStage bool, o TextOptions) error {
	ci := " [" + ciLabel(r.Analysis.Alpha) + "]"
	header := []any{"KPI", "VARIANT", "CONTROL (N)", "VARIANT (N)", "ABS. LIFT" + ci, "REL. LIFT" + ci}
	if r.Analysis.Method == "bayesian" {
		header = append(header, "P(BETTER) / RISK")
	} else {
		header = append(header, "P (ADJUSTED)")
	}
	header = append(header, "VERDICT")
	if withStage {
		header = append([]any{"STAGE"}, header...)
	}
	t := newTable(w)
	t.Header(header...)
	for _, k := range kpis {
		ctl := armOf(k.Arms, r.Control)
		name := k.Name + " · " + string(k.Role)
		if k.Guardrail && k.Role != RoleGuardrail {
			name += ", guardrail"
		}
		for _, c := range k.Comparisons {
			arm := armOf(k.Arms, c.Variant)
			row := []any{name, c.Variant, value(k.Kind, ctl) + " (" + thousands(ctl.Units) + ")",
				value(k.Kind, arm) + " (" + thousands(arm.Units) + ")"}
			if c.Status != stats.StatusOK {
				row = append(row, "", inWords(string(c.Status))+": "+c.Reason, "")
			} else {
				row = append(row, absoluteCI(k.Kind, c.Absolute), relative(c.Relative), evidence(c))
			}
			v := o.verdict(c.Verdict)
			if c.GuardrailBreach {
				v += " " + o.paint(ansiRed, "GUARDRAIL")
			}
			row = append(row, v)
			if withStage {
				row = append([]any{string(k.Stage)}, row...)
			}
			if err := t.Append(row...); err != nil {
				return fmt.Errorf("render table: %w", err)
			}
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	return nil
}

// newTable is a table whose headers are printed as written (the default
// reformatting splits "REL. LIFT [95% CI]" into words).
func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
}

func ciLabel(alpha float64) string {
	return strconv.FormatFloat(100*(1-alpha), 'g', 4, 64) + "% CI"
}

func evidence(c Comparison) string {
	switch {
	case c.ChanceToWin != nil:
		s := percent(*c.ChanceToWin, 1)
		if c.Risk != nil {
			s += " / " + percent(c.Risk.Variant, 2)
		}
		return s
	case c.PValue == nil:
		return ""
	case c.AdjustedPValue != nil:
		return pValue(*c.PValue) + " (" + pValue(*c.AdjustedPValue) + ")"
	}
	return pValue(*c.PValue)
}

// inWords spells a status code for people: "not_enough_data" reads "not
// enough data". JSON and CSV keep the codes.
func inWords(status string) string {
	return strings.ReplaceAll(status, "_", " ")
}

// value formats an arm's value for its metric kind.
func value(kind experiment.MetricKind, a Arm) string {
	if a.Status != stats.StatusOK {
		return "n/a"
	}
	switch kind {
	case experiment.KindBinomial:
		return percent(a.Value, 2)
	case experiment.KindNPS:
		return strconv.FormatFloat(100*a.Value, 'f', 1, 64)
	}
	return plain(a.Value)
}

// absoluteCI formats an absolute lift and its interval in the metric's
// unit, with one precision for the three numbers.
func absoluteCI(kind experiment.MetricKind, i *Interval) string {
	f := func(d float64) string { return signed(d, digits(math.Max(math.Abs(i.Low), math.Abs(i.High)))) }
	switch kind {
	case experiment.KindBinomial:
		f = func(d float64) string { return signed(100*d, 2) + " pp" }
	case experiment.KindNPS:
		f = func(d float64) string { return signed(100*d, 1) + " pts" }
	}
	return f(i.Estimate) + " [" + f(i.Low) + ", " + f(i.High) + "]"
}

func relative(i *Interval) string {
	if i == nil {
		return "undefined (control is 0)"
	}
	return fmt.Sprintf("%s%% [%s%%, %s%%]", signed(100*i.Estimate, 1), signed(100*i.Low, 1), signed(100*i.High, 1))
}

func percent(v float64, digits int) string {
	return strconv.FormatFloat(100*v, 'f', digits, 64) + "%"
}

func signed(v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

// plain formats a mean or ratio with a precision that suits its size.
func plain(v float64) string {
	return strconv.FormatFloat(v, 'f', digits(math.Abs(v)), 64)
}

// digits is how many decimals show a number of magnitude a sensibly.
func digits(a float64) int {
	switch {
	case a >= 100:
		return 1
	case a >= 1:
		return 2
	}
	return 4
}

// pEquals is "= 0.0123" or "< 0.0001".
func pEquals(p float64) string {
	if p < 0.0001 {
		return "< 0.0001"
	}
	return "= " + pValue(p)
}

func pValue(p float64) string {
	if p < 0.0001 {
		return "<0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

// thousands writes n with thousands separators (1,234,567).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// WriteFunnelText writes the funnel as one table: a row per step × variant,
// with the step conversion's lift against control on the treatment rows.
func WriteFunnelText(w io.Writer, f *Funnel, o TextOptions) error {
	evidenceHeader := "P"
	if f.Analysis.Method == "bayesian" {
		evidenceHeader = "P(BETTER) / RISK"
	}
	t := newTable(w)
	t.Header("STEP", "VARIANT", "ENTERED", "REACHED", "STEP CONVERSION", "OF EXPOSED", "CONVERSION LIFT ["+ciLabel(f.Analysis.Alpha)+"]", evidenceHeader, "VERDICT")
	for _, s := range f.Steps {
		for _, a := range s.Arms {
			row := []any{s.Name, a.Variant, thousands(a.Entered), thousands(a.Reached), percent(a.Conversion, 2), percent(a.ReachRate, 2)}
			c, ok := comparisonOf(s.Comparisons, a.Variant)
			switch {
			case !ok:
				row = append(row, "(control)", "", "")
			case c.Status != stats.StatusOK:
				row = append(row, inWords(string(c.Status))+": "+c.Reason, "", o.verdict(c.Verdict))
			default:
				row = append(row, relative(c.Relative), evidence(c), o.verdict(c.Verdict))
			}
			if err := t.Append(row...); err != nil {
				return fmt.Errorf("render funnel: %w", err)
			}
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render funnel: %w", err)
	}
	return nil
}

func comparisonOf(cs []Comparison, variant string) (Comparison, bool) {
	for _, c := range cs {
		if c.Variant == variant {
			return c, true
		}
	}
	return Comparison{}, false
}
