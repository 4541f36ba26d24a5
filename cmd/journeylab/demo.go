package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/demo"
	"github.com/journeylab/journeylab/journey"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/sqlite"
)

func init() { commands = append(commands, newDemoCmd) }

func newDemoCmd(*viper.Viper) *cobra.Command {
	var cfg demo.Config
	var dataDir string
	var quiet, noColour bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Simulate three retail experiments with known effects and print their reports",
		Long: `Create three realistic experiments on the embedded store and simulate visitors
flowing through the customer journey, then print each experiment's report.

  pdp-photo-gallery  (consideration) a full-width photo gallery on product pages
  one-page-checkout  (checkout)      the checkout collapsed into one page
  returns-form       (returns)       a one-click refund form in the returns portal

The simulation plants known true effects: add-to-cart rate up 15% (gallery),
exchange rate down 40% (refund form), no change in conversion (one-page
checkout), and the average order value guardrail down 15% (one-page
checkout: no upsell step). Apart from the orders that follow the gallery's
extra add-to-carts, nothing else has a true effect. Visitors are
assigned exactly as /v1/assign would, exposures are written with the store's
exposure path and outcomes through the events ingestor, so the reports are
computed the way they are in production. The findings table checks the
reports against the planted truth.

Background visitors, who see no experiment, arrive from 8 weeks before the
experiments until the end (more of them once the experiments stop
enrolling, so traffic stays level): that history gives the journey map
(printed last) its expected bands, and holds a planted payment outage on which
checkout conversion collapses. Most visitors leave between consideration
and decision: the map's pain point.

The data goes to a new temporary directory unless --data-dir is given (it
must not hold the demo experiments already); afterwards you can explore it:
journeylab serve --data-dir DIR --dev-mode.`,
		Example: `  journeylab demo
  journeylab demo --visitors 100000 --seed 7
  journeylab demo --data-dir ./demo-data && journeylab serve --data-dir ./demo-data --dev-mode`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Visitors < 1 || cfg.Visitors > 10_000_000 {
				return fmt.Errorf("--visitors must be between 1 and 10000000, got %d", cfg.Visitors)
			}
			if cfg.Days < 1 || cfg.Days > 365 {
				return fmt.Errorf("--days must be between 1 and 365, got %d", cfg.Days)
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if dataDir == "" {
				dir, err := os.MkdirTemp("", "journeylab-demo-")
				if err != nil {
					return fmt.Errorf("create a temporary data directory: %w", err)
				}
				dataDir = dir
			}
			st, err := sqlite.Open(cmd.Context(), dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(errOut, "simulating %d visitors over %d days (+%d days for returns, after %d days of history) into %s\n", cfg.Visitors, cfg.Days, demo.ReturnDays, demo.HistoryDays, st.Path())

			var bar *progressbar.ProgressBar
			if !quiet {
				bar = progressbar.NewOptions(cfg.Visitors,
					progressbar.OptionSetWriter(errOut),
					progressbar.OptionSetDescription("visitors"),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("visitors"),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			began := time.Now()
			sum, err := demo.Run(cmd.Context(), st, cfg, func(done, total int) {
				if bar != nil {
					if bar.GetMax() != total {
						bar.ChangeMax(total)
					}
					_ = bar.Set(done)
				}
			})
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(errOut, "wrote %d exposures and %d events in %s\n", sum.Exposures, sum.Events, time.Since(began).Round(time.Millisecond))

			colour := !noColour && os.Getenv("NO_COLOR") == "" && isTerminal(out)
			reports := map[string]*report.Report{}
			for _, e := range sum.Experiments {
				e, metrics, err := report.Load(cmd.Context(), st, e.Key)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "\n%s\n", rule)
				view := reportView{steps: report.DefaultFunnelSteps(e, metrics), colour: colour}
				r, err := printReport(cmd, out, st, e, metrics, view)
				if err != nil {
					return err
				}
				reports[e.Key] = r
			}
			fmt.Fprintf(out, "\n%s\nPLANTED EFFECTS vs WHAT THE REPORT FOUND\n", rule)
			if err := writeFindings(out, demo.Check(reports)); err != nil {
				return err
			}
			fmt.Fprintf(out, "\n%s\nJOURNEY MAP (all visitors, the %d days before today)\n", rule, journey.DefaultDays)
			// The map ends with the last whole day.
			q, err := journey.ParseQuery(func(string) string { return "" }, sum.End.AddDate(0, 0, -1))
			if err != nil {
				return err
			}
			m, err := journey.NewService(st, st, st, time.Now).Build(cmd.Context(), q)
			if err != nil {
				return err
			}
			if err := journey.WriteText(out, m); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nPlanted: most visitors leave between %s and %s; a payment outage on %s.\n",
				demo.PainPoint[0], demo.PainPoint[1], demo.OutageDay(sum.Start).Format(time.DateOnly))
			fmt.Fprintf(out, "\nExplore it: journeylab serve --data-dir %s --dev-mode\n", dataDir)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Visitors, "visitors", 20000, "visitors to simulate")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed (same seed, same visitors)")
	f.IntVar(&cfg.Days, "days", 14, "days over which visitors arrive")
	f.StringVar(&dataDir, "data-dir", "", "data directory to write to (default: a new temporary directory)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	f.BoolVar(&noColour, "no-color", false, "never colour the output")
	return cmd
}

const rule = "================================================================================"

func writeFindings(w io.Writer, fs []demo.Finding) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("EXPERIMENT", "KPI", "VARIANT", "TRUE EFFECT", "ESTIMATED LIFT [95% CI]", "VERDICT", "EXPECTED", "MATCH")
	for _, f := range fs {
		est, verdict := "missing", ""
		if f.Found != nil {
			verdict = string(f.Found.Verdict)
			if f.Found.GuardrailBreach {
				verdict += " (guardrail breach)"
			}
			if f.Found.Relative != nil {
				est = fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%]", 100*f.Found.Relative.Estimate, 100*f.Found.Relative.Low, 100*f.Found.Relative.High)
			} else {
				est = string(f.Found.Status)
			}
		}
		want := string(f.Want)
		if f.Guardrail {
			want += " (guardrail breach)"
		}
		match := "yes"
		if !f.OK() {
			match = "NO"
		}
		if err := t.Append(f.Experiment, f.Metric, f.Variant, fmt.Sprintf("%+.0f%%", 100*f.Relative), est, verdict, want, match); err != nil {
			return fmt.Errorf("render findings: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("render findings: %w", err)
	}
	return nil
}
