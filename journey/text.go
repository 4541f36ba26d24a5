package journey

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/journeylab/journeylab/experiment"
)

// FormatValue writes a KPI value as people read it: rates and NPS as
// percentages or points, means and ratios as numbers; "-" for none.
func FormatValue(kind experiment.MetricKind, v *float64) string {
	if v == nil {
		return "-"
	}
	switch kind {
	case experiment.KindBinomial:
		return fmt.Sprintf("%.1f%%", 100**v)
	case experiment.KindNPS:
		return fmt.Sprintf("%+.0f", 100**v)
	}
	return fmt.Sprintf("%.2f", *v)
}

// WriteText writes the map for a terminal: the KPIs of every stage with
// the last day against its expected band, the funnel with its pain point,
// and the experiments per stage with the shipped winners' lift.
func WriteText(w io.Writer, m *Map) error {
	if _, err := fmt.Fprintf(w, "Journey map %s to %s: %d visitor-days\n\n", m.From, m.To, m.Visitors); err != nil {
		return err
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("STAGE", "KPI", "OVER THE RANGE", "LAST DAY", "EXPECTED", "DAYS OUTSIDE BAND")
	for _, sv := range m.Stages {
		for _, k := range sv.KPIs {
			last, expected := "-", "-"
			if n := len(k.Series); n > 0 {
				p := k.Series[n-1]
				last = FormatValue(k.Kind, p.Value)
				if p.Low != nil && p.High != nil {
					expected = FormatValue(k.Kind, p.Low) + " .. " + FormatValue(k.Kind, p.High)
				}
				if p.Outside != "" {
					last += " (" + p.Outside + ")"
				}
			}
			if err := t.Append(string(sv.Stage), k.Name, FormatValue(k.Kind, k.Value), last, expected, fmt.Sprint(k.Anomalies)); err != nil {
				return fmt.Errorf("render KPIs: %w", err)
			}
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render KPIs: %w", err)
	}
	if err := writeFunnel(w, m.Funnel); err != nil {
		return err
	}
	return writeExperiments(w, m)
}

func writeFunnel(w io.Writer, f Funnel) error {
	if _, err := fmt.Fprintf(w, "\nFUNNEL of the %d units first seen in the range\n", f.Cohort); err != nil {
		return err
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("STAGE", "REACHED", "SHARE", "LOST FROM PREVIOUS", "")
	for _, s := range f.Steps {
		mark := ""
		if p := f.PainPoint; p != nil && p.To == s.Stage {
			mark = "<- pain point"
		}
		lost := "-"
		if s.Lost > 0 {
			lost = fmt.Sprintf("%d (%.1f%%)", s.Lost, 100*s.LostShare)
		}
		if err := t.Append(string(s.Stage), fmt.Sprint(s.Units), fmt.Sprintf("%.1f%%", 100*s.Share), lost, mark); err != nil {
			return fmt.Errorf("render funnel: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render funnel: %w", err)
	}
	if len(f.Segments) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "\nPAIN POINT by %s\n", f.Dimension); err != nil {
		return err
	}
	t = tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(strings.ToUpper(f.Dimension), "COHORT", "PAIN POINT", "LOST")
	for _, sg := range f.Segments {
		pain, lost := "-", "-"
		if p := sg.PainPoint; p != nil {
			pain, lost = fmt.Sprintf("%s -> %s", p.From, p.To), fmt.Sprintf("%d (%.1f%%)", p.Lost, 100*p.LostShare)
		}
		if err := t.Append(sg.Value, fmt.Sprint(sg.Cohort), pain, lost); err != nil {
			return fmt.Errorf("render funnel segments: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render funnel segments: %w", err)
	}
	return nil
}

func writeExperiments(w io.Writer, m *Map) error {
	if _, err := fmt.Fprintln(w, "\nEXPERIMENTS per stage"); err != nil {
		return err
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("STAGE", "EXPERIMENT", "STATUS", "VERDICTS", "SHIPPED")
	for _, sv := range m.Stages {
		for _, e := range sv.Experiments {
			var vs []string
			for _, v := range e.Verdicts {
				vs = append(vs, v.Metric+": "+string(v.Verdict))
			}
			if e.Error != "" {
				vs = append(vs, "error: "+e.Error)
			}
			shipped := "-"
			if s := e.Shipped; s != nil {
				shipped = fmt.Sprintf("%s (%s %+.1f%%)", s.Variant, s.Metric, 100*s.Lift)
			}
			if err := t.Append(string(sv.Stage), e.Key, string(e.Status), strings.Join(vs, ", "), shipped); err != nil {
				return fmt.Errorf("render experiments: %w", err)
			}
		}
		for _, l := range sv.Shipped {
			if err := t.Append(string(sv.Stage), fmt.Sprintf("shipped winners (%d)", len(l.Experiments)), "", "", fmt.Sprintf("%s %+.1f%%", l.Metric, 100*l.Lift)); err != nil {
				return fmt.Errorf("render experiments: %w", err)
			}
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render experiments: %w", err)
	}
	return nil
}
