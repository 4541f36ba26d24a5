package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

func init() { commands = append(commands, newPowerCmd) }

// amount is a float flag that also accepts a percentage ("5%" = 0.05).
type amount struct{ v *float64 }

func (a amount) String() string {
	if a.v == nil {
		return "0"
	}
	return strconv.FormatFloat(*a.v, 'g', -1, 64)
}

func (a amount) Set(s string) error {
	v, err := report.ParseAmount(s)
	if err != nil {
		return err
	}
	*a.v = v
	return nil
}

func (a amount) Type() string { return "number|%" }

func newPowerCmd(*viper.Viper) *cobra.Command {
	var in report.PowerInput
	var scale, contrast, test, method, correction string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "power",
		Short: "Plan an experiment: sample size, power or minimum detectable effect",
		Long: `Plan a test of each treatment against control. What it answers depends on
what you give:

  --mde (or --delta)                  the units per arm that detect it with --power
  --mde and --units-per-arm           the power of that sample for that effect
  --units-per-arm alone               the smallest effect that sample detects

Conversion metrics (binomial): give the control's rate --baseline. Mean
metrics (revenue per visitor, views per visitor): give the per-unit standard
deviation --sigma, and the control's mean as --baseline for a relative
effect (or --delta for an absolute change). --mde is relative by default
(0.1 or 10% = +10 %) or absolute with --mde-scale absolute. Rates, effects,
alpha, power and coverage may be written as percentages (5%).

The plan is for the test the report's verdicts use, the two-sided Welch test
of the difference (--contrast absolute), whatever scale the effect is stated
on; --contrast relative plans for the relative lift's interval instead (its
delta-method variance, as GrowthBook plans; more units for an increase).
--test t uses the exact noncentral t distribution, which matters below a few
hundred units per arm. --method sequential plans for the always-valid
confidence sequence (safe to peek; about 1.9x the units at alpha 5%) and
says which analysis.sequential_tuning to set.

With more than two arms every treatment is compared with control, and
--correction bonferroni (default) tests each at alpha/(arms − 1), which keeps
the plan's power under the report's Holm correction; --correction none
tests each at alpha. The same planner answers GET /v1/power with the flags
as query parameters (units_per_arm, mde_scale, ...).`,
		Example: `  # 5% conversion, detect +10% relative, 20,000 visitors a day
  journeylab power --baseline 5% --mde 10% --daily-units 20000

  # what can 3 arms of 20,000 units each detect?
  journeylab power --baseline 5% --units-per-arm 20000 --arms 3

  # power of 20,000 units per arm for +10%, planned for the sequential method
  journeylab power --baseline 0.05 --mde 0.1 --units-per-arm 20000 --method sequential

  # revenue per visitor: mean 30, sd 40, detect +5%, small-sample exact t
  journeylab power --baseline 30 --sigma 40 --mde 5% --test t --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in.MDEScale, in.Contrast = stats.MDEScale(scale), stats.MDEScale(contrast)
			in.Test, in.Method, in.Correction = stats.PlanTest(test), stats.Method(method), stats.Correction(correction)
			plan, err := report.PlanSampleSize(in)
			if err != nil {
				var ve *experiment.ValidationError
				if errors.As(err, &ve) {
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
	in.Alpha, in.Power, in.Coverage = stats.DefaultAlpha, 0.8, 1
	f := cmd.Flags()
	f.Var(amount{&in.Baseline}, "baseline", "control's conversion rate (0.05 or 5%), or its mean for a mean metric")
	f.Var(amount{&in.MDE}, "mde", "effect to plan for (see --mde-scale): 0.1 or 10% = +10% relative")
	f.StringVar(&scale, "mde-scale", "", "relative (default) or absolute (0.01 = +1 percentage point, or 1.50 of a mean)")
	f.Var(amount{&in.Sigma}, "sigma", "per-unit standard deviation of a mean metric")
	f.Var(amount{&in.Delta}, "delta", "absolute change of a mean to plan for (same as --mde with --mde-scale absolute)")
	f.Int64Var(&in.UnitsPerArm, "units-per-arm", 0, "units in each arm: with --mde the power, without it the MDE")
	f.StringVar(&contrast, "contrast", "", "absolute (default: the difference, as the report's verdicts) or relative (the relative lift)")
	f.StringVar(&test, "test", "", "z (default) or t (exact noncentral t, for small samples)")
	f.StringVar(&method, "method", "", "frequentist (default) or sequential")
	f.Float64Var(&in.SequentialTuning, "sequential-tuning", 0, "N* of the sequential method (default: the plan's units in the two arms compared)")
	f.StringVar(&correction, "correction", "", "bonferroni (default) or none, over the arms − 1 comparisons with control")
	f.Var(amount{&in.Alpha}, "alpha", "family-wise significance level (false-positive rate)")
	f.Var(amount{&in.Power}, "power", "target chance of detecting the effect")
	f.IntVar(&in.Arms, "arms", 2, "variants including control")
	f.Float64Var(&in.DailyUnits, "daily-units", 0, "eligible units per day at the touchpoint (for the duration)")
	f.Var(amount{&in.Coverage}, "coverage", "share of eligible units put in the experiment, in (0, 1]")
	f.BoolVar(&asJSON, "json", false, "print the plan as JSON")
	return cmd
}

func writePlan(w io.Writer, p report.PowerPlan) error {
	in := p.Input
	contrast := "difference"
	if in.Contrast == stats.RelativeMDE {
		contrast = "relative lift"
	}
	test := fmt.Sprintf("a two-sided %s test of the %s", in.Test, contrast)
	if in.Method == stats.Sequential {
		test = "the sequential confidence sequence on the " + contrast
	}
	level := fmt.Sprintf("alpha %g", in.Alpha)
	if p.Comparisons > 1 {
		level = fmt.Sprintf("alpha %g over %d comparisons, %s: %.4g each", in.Alpha, p.Comparisons, in.Correction, p.ComparisonAlpha)
	}
	var lines []string
	switch p.Question {
	case report.QuestionMDE:
		lines = append(lines,
			fmt.Sprintf("With %s units per arm and %s (%s, power %s), the smallest detectable increase is", commas(p.PerArm), test, level, pct(in.Power)),
			"  "+effectText(p))
	case report.QuestionPower:
		lines = append(lines,
			fmt.Sprintf("To detect %s with %s (%s) and %s units per arm:", effectText(p), test, level, commas(p.PerArm)),
			"  power:    "+pct(p.PowerAchieved))
	default:
		lines = append(lines,
			fmt.Sprintf("To detect %s with %s (%s, power %s):", effectText(p), test, level, pct(in.Power)),
			fmt.Sprintf("  per arm:  %s units", commas(p.PerArm)))
	}
	lines = append(lines, fmt.Sprintf("  total:    %s units (%d arms)", commas(p.Total), in.Arms))
	if p.Days > 0 {
		lines = append(lines, fmt.Sprintf("  duration: %d days at %s units/day with %s in the experiment", p.Days, commas(int64(in.DailyUnits)), pct(in.Coverage)))
	} else {
		lines = append(lines, "  duration: give --daily-units to get the number of days")
	}
	if in.Method == stats.Sequential {
		lines = append(lines, fmt.Sprintf("  tuning:   set analysis.sequential_tuning to %g", p.SequentialTuning))
		if p.FixedHorizonPerArm > 0 {
			lines = append(lines, fmt.Sprintf("  (a fixed-horizon test read once would need %s units per arm)", commas(p.FixedHorizonPerArm)))
		}
	}
	_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
	return err
}

// effectText states the plan's effect the way the analyst gave it.
func effectText(p report.PowerPlan) string {
	in := p.Input
	if p.Kind == experiment.KindBinomial {
		return fmt.Sprintf("a conversion rate of %s -> %s (%s)", pct(in.Baseline), pct(p.TreatmentRate), signedPct(*p.Effect.Relative))
	}
	if p.Effect.Relative != nil {
		return fmt.Sprintf("a change of %s (%+.4g) in a mean of %g with standard deviation %g", signedPct(*p.Effect.Relative), p.Effect.Absolute, in.Baseline, in.Sigma)
	}
	return fmt.Sprintf("a change of %.4g in a mean with standard deviation %g", p.Effect.Absolute, in.Sigma)
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'g', 4, 64) + "%" }

func signedPct(v float64) string {
	s := pct(v)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

// commas writes n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
