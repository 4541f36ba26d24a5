package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

func init() { commands = append(commands, newReportCmd) }

func newReportCmd(v *viper.Viper) *cobra.Command {
	var dataDir, dimension, funnel string
	var asJSON, asCSV, noColour bool
	var byDay byDayFlags
	cmd := &cobra.Command{
		Use:   "report KEY",
		Short: "Print an experiment's journey-stage report (table, JSON or CSV)",
		Long: `Print the report of experiment KEY from the local store: the sample-ratio
check, guardrail breaches, then every KPI grouped by journey stage with each
variant's lift against control, its interval, p-value (or chance to win) and
verdict, followed by the funnel across the experiment's conversion steps.

It reads the embedded store directly (the data_dir setting, as "serve" uses),
so it works while the service runs. --json and --csv print exactly what
GET /v1/experiments/KEY/report returns. Verdicts are coloured when stdout is a
terminal (set NO_COLOR or --no-color to turn that off).

KEY may also be layer:LAYER, the holdout baseline of a layer with a
holdout_share and metrics: its holdout against the rest of the layer (the
same as GET /v1/layers/LAYER/report).

--by-day prints instead each KPI's lift by days since every unit's first
exposure (day 0 = its first 24 hours), counting a unit for day k once that
day has ended: a lift that fades is a novelty effect, one that grows a
learning effect. --view cumulative counts days 0 to k; --json prints what
GET /v1/experiments/KEY/report/days returns.

See docs/report.md for how to read every column.`,
		Example: `  journeylab report pdp-photo-gallery
  journeylab report one-page-checkout --dimension device
  journeylab report one-page-checkout --funnel add_to_cart_rate,conversion
  journeylab report returns-form --csv > returns-form.csv
  journeylab report returns-form --json | jq '.stages[].kpis[] | {metric, verdict}'
  journeylab report layer:checkout
  journeylab report pdp-photo-gallery --by-day --metric conversion --days 14
  journeylab report pdp-photo-gallery --by-day --view cumulative --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asCSV {
				return errors.New("--json and --csv exclude each other")
			}
			if err := byDay.check(cmd, dimension, funnel, asCSV); err != nil {
				return err
			}
			dim, err := report.ParseDimension(dimension)
			if err != nil {
				return fmt.Errorf("--dimension: %w", err)
			}
			st, err := openExistingStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			e, metrics, err := report.Load(cmd.Context(), st, args[0])
			if layer, ok := experiment.HoldoutLayer(args[0]); ok && errors.Is(err, experiment.ErrNotFound) {
				return fmt.Errorf("no holdout baseline of layer %q in this store: the layer needs a holdout_share and metrics (check --data-dir or mongodb.uri)", layer)
			}
			if errors.Is(err, experiment.ErrNotFound) {
				return fmt.Errorf("no experiment %q in this store (check --data-dir or mongodb.uri)", args[0])
			}
			if err != nil {
				return err
			}
			if err := app.CheckExposuresKept(cmd.Context(), st, e.Key); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			colour := !noColour && os.Getenv("NO_COLOR") == "" && isTerminal(out)
			if byDay.on {
				return byDay.print(cmd, out, st, e, metrics, asJSON, colour)
			}
			steps, err := report.ParseFunnel(funnel, e, metrics)
			if err != nil {
				return fmt.Errorf("--funnel: %w", err)
			}
			_, err = printReport(cmd, out, st, e, metrics, reportView{dimension: dim, steps: steps, json: asJSON, csv: asCSV, colour: colour})
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory (default: the data_dir setting)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (as the HTTP API does)")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print the report as CSV, one row per KPI and variant")
	cmd.Flags().StringVar(&dimension, "dimension", "", "also break every KPI down by this unit attribute (device, channel, ...)")
	cmd.Flags().StringVar(&funnel, "funnel", "", "comma-separated binomial metrics for the funnel (default: the experiment's own)")
	cmd.Flags().BoolVar(&noColour, "no-color", false, "never colour the output")
	byDay.register(cmd)
	return cmd
}

// reportView says what printReport writes.
type reportView struct {
	dimension string
	steps     []experiment.Metric
	json, csv bool
	colour    bool
}

// printReport builds, writes and returns one experiment's report; the demo
// uses it too.
func printReport(cmd *cobra.Command, w io.Writer, src report.Source, e *experiment.Experiment, metrics map[string]experiment.Metric, view reportView) (*report.Report, error) {
	r, err := report.Build(cmd.Context(), src, e, metrics, report.Options{Dimension: view.dimension})
	if err != nil {
		return nil, err
	}
	// On standard error, so JSON and CSV output stay machine-readable.
	for _, wn := range r.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s; %s\n", wn.Message, wn.Hint)
	}
	switch {
	case view.json:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return r, enc.Encode(r)
	case view.csv:
		return r, report.WriteCSV(w, r)
	}
	opts := report.TextOptions{Colour: view.colour}
	if err := report.WriteText(w, r, opts); err != nil {
		return nil, err
	}
	// A one-step funnel would repeat that KPI's row.
	if len(view.steps) < 2 {
		return r, nil
	}
	f, err := report.BuildFunnel(cmd.Context(), src, e, view.steps, r.GeneratedAt)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintln(w, "\nFUNNEL"); err != nil {
		return nil, err
	}
	return r, report.WriteFunnelText(w, f, opts)
}

// openStore opens the store the configuration names — MongoDB when
// mongodb.uri is set, else the embedded store of data_dir (or dataDir) — so
// every command works on the same data as serve.
func openStore(cmd *cobra.Command, v *viper.Viper, dataDir string) (app.Backend, error) {
	cfg, err := loadConfig(v)
	if err != nil {
		return nil, err
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	st, _, err := app.OpenStore(cmd.Context(), cfg)
	return st, err
}

// isTerminal reports whether w is a terminal (colour is only for humans).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
