package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"journeylab/experiment"
	"journeylab/report"
	"journeylab/stats"
)

func init() { commands = append(commands, newPowerCmd) }

func newPowerCmd(*viper.Viper) *cobra.Command {
	var in report.PowerInput
	var scale string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "power",
		Short: "Sample-size calculator: units and days an experiment needs",
		Long: `Compute how many units each variant needs so that a two-sided test at level
--alpha detects a given effect with probability --power, and how many days
that takes at your traffic.

Conversion metrics (binomial): give the control's rate --baseline and the
smallest change worth detecting --mde, relative by default (0.1 = +10 %) or
absolute with --mde-scale absolute (0.005 = half a percentage point).

Mean metrics (revenue per visitor, views per visitor): give the per-unit
standard deviation --sigma and the smallest absolute change of the mean
--delta.

With more than two arms each treatment is compared with control; the report
adjusts goal-metric p-values for that (Holm by default), so consider a
smaller --alpha. The same calculator answers GET /v1/power with the flags as
query parameters (daily_units, mde_scale).`,
		Example: `  # 5% conversion, detect +10% relative, 20,000 visitors a day
  journeylab power --baseline 0.05 --mde 0.1 --daily-units 20000

  # detect +0.5 percentage points, three arms, half the traffic in the test
  journeylab power --baseline 0.05 --mde 0.005 --mde-scale absolute --arms 3 --daily-units 20000 --coverage 0.5

  # revenue per visitor: sd 40, detect a change of 1.50
  journeylab power --sigma 40 --delta 1.5 --alpha 0.01 --power 0.9 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in.MDEScale = stats.MDEScale(scale)
			plan, err := report.PlanSampleSize(in)
			if err != nil {
				if ve, ok := err.(*experiment.ValidationError); ok {
					return fmt.Errorf("--%s: %s", strings.ReplaceAll(ve.Field, "_", "-"), ve.Message)
				}
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(plan)
			}
			return writePlan(cmd.OutOrStdout(), plan)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&in.Baseline, "baseline", 0, "control's conversion rate, in (0, 1), e.g. 0.05")
	f.Float64Var(&in.MDE, "mde", 0, "smallest change of the rate worth detecting (see --mde-scale)")
	f.StringVar(&scale, "mde-scale", "", "relative (default: 0.1 = +10%) or absolute (0.01 = +1 percentage point)")
	f.Float64Var(&in.Sigma, "sigma", 0, "per-unit standard deviation of a mean metric")
	f.Float64Var(&in.Delta, "delta", 0, "smallest absolute change of the mean worth detecting")
	f.Float64Var(&in.Alpha, "alpha", stats.DefaultAlpha, "significance level (false-positive rate)")
	f.Float64Var(&in.Power, "power", 0.8, "chance of detecting an effect of the MDE")
	f.IntVar(&in.Arms, "arms", 2, "variants including control")
	f.Float64Var(&in.DailyUnits, "daily-units", 0, "eligible units per day at the touchpoint (for the duration)")
	f.Float64Var(&in.Coverage, "coverage", 1, "share of eligible units put in the experiment, in (0, 1]")
	f.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	return cmd
}

func writePlan(w io.Writer, p report.PowerPlan) error {
	in := p.Input
	var what string
	if p.Kind == experiment.KindBinomial {
		what = fmt.Sprintf("a conversion rate of %s -> %s", pct(in.Baseline), pct(p.TreatmentRate))
	} else {
		what = fmt.Sprintf("a change of %g in a mean with standard deviation %g", in.Delta, in.Sigma)
	}
	lines := []string{
		fmt.Sprintf("To detect %s (two-sided, alpha %g, power %s):", what, in.Alpha, pct(in.Power)),
		fmt.Sprintf("  per arm:  %s units", commas(p.PerArm)),
		fmt.Sprintf("  total:    %s units (%d arms)", commas(p.Total), in.Arms),
	}
	if p.Days > 0 {
		lines = append(lines, fmt.Sprintf("  duration: %d days at %s units/day with %s in the experiment", p.Days, commas(int64(in.DailyUnits)), pct(in.Coverage)))
	} else {
		lines = append(lines, "  duration: give --daily-units to get the number of days")
	}
	_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
	return err
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'g', 4, 64) + "%" }

// commas writes n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
