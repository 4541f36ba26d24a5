package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
)

func init() { commands = append(commands, newAlertsCmd) }

func newAlertsCmd(v *viper.Viper) *cobra.Command {
	var dataDir, status, exp, check string
	var limit int
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List experiment and journey KPI health alerts; check, show or resolve them",
		Long: `List the health alerts of experiments: sample-ratio mismatch, no exposures or
events for too long, a harmed guardrail, a goal metric that reached a decision,
an underpowered test, units seen in more than one variant; and of the journey's
stage KPIs over all traffic: a KPI outside its expected band (kpi_anomaly; these
belong to no experiment, their subject is stage/kpi). Open alerts are listed by
default, newest first.

Like "report", it reads the store the configuration names (data_dir or
mongodb.uri), so it works while the service runs. See docs/health.md.`,
		Example: `  journeylab alerts
  journeylab alerts --all --experiment one-page-checkout
  journeylab alerts --check guardrail --json
  journeylab alerts --check kpi_anomaly --all
  journeylab alerts check one-page-checkout
  journeylab alerts show 3f9c2a1b7d4e5f60
  journeylab alerts resolve 3f9c2a1b7d4e5f60 --note "bot traffic filtered"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && status != "" {
				return errors.New("--all and --status exclude each other")
			}
			if !all && status == "" {
				status = string(health.Open)
			}
			f, err := health.ParseFilter(func(k string) string {
				return map[string]string{"status": status, "experiment": exp, "check": check, "limit": fmt.Sprint(limit)}[k]
			})
			if err != nil {
				return flagError(err)
			}
			st, err := openStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			list, err := st.ListAlerts(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"alerts": nonNil(list)})
			}
			if len(list) == 0 {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "No %salerts.\n", map[bool]string{true: "", false: status + " "}[all])
				return err
			}
			return alertTable(cmd.OutOrStdout(), list)
		},
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data directory (default: the data_dir setting)")
	cmd.Flags().StringVar(&status, "status", "", "open (default) or resolved")
	cmd.Flags().BoolVar(&all, "all", false, "list open and resolved alerts")
	cmd.Flags().StringVar(&exp, "experiment", "", "only alerts of this experiment")
	cmd.Flags().StringVar(&check, "check", "", "only alerts of this check (srm, no_exposures, no_events, guardrail, decision, underpowered, multiple_variants, kpi_anomaly)")
	cmd.Flags().IntVar(&limit, "limit", health.DefaultLimit, fmt.Sprintf("at most this many alerts (1 to %d)", health.MaxLimit))
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (as GET /v1/alerts does)")
	cmd.AddCommand(newAlertsCheckCmd(v, &dataDir), newAlertsShowCmd(v, &dataDir), newAlertsResolveCmd(v, &dataDir))
	return cmd
}

// flagError renames a validation error's field to its flag.
func flagError(err error) error {
	var ve *experiment.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("--%s: %s", ve.Field, ve.Message)
	}
	return err
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func alertTable(w io.Writer, list []health.Alert) error {
	t := tablewriter.NewWriter(w)
	t.Header("ID", "Opened (UTC)", "Experiment", "Check", "Subject", "Severity", "Status", "Summary")
	for _, a := range list {
		summary := a.Summary
		if a.Safeguard != "" {
			summary += " [safeguard " + a.Safeguard + "]"
		}
		if err := t.Append(a.ID, a.OpenedAt.UTC().Format("2006-01-02 15:04"), scope(a), string(a.Check), a.Subject,
			string(a.Severity), string(a.Status), summary); err != nil {
			return err
		}
	}
	return t.Render()
}

// scope names what an alert is about: its experiment, or "(journey)" for
// a journey KPI alert.
func scope(a health.Alert) string {
	if a.Experiment == "" {
		return "(journey)"
	}
	return a.Experiment
}

// monitor builds the health monitor of the configured store; alerts it
// opens go to the configured webhooks, drained by the returned close.
func monitor(cmd *cobra.Command, v *viper.Viper, dataDir string) (*health.Monitor, func(), error) {
	cfg, err := loadConfig(v)
	if err != nil {
		return nil, nil, err
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	st, _, err := app.OpenStore(cmd.Context(), cfg)
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mon, closeHooks, err := app.NewHealthMonitor(cfg, st, experiment.NewService(st, time.Now), log, time.Now, nil)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return mon, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := closeHooks(ctx); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", err)
		}
		st.Close()
	}, nil
}

func newAlertsCheckCmd(v *viper.Viper, dataDir *string) *cobra.Command {
	var asJSON, journey bool
	cmd := &cobra.Command{
		Use:   "check KEY | --journey",
		Short: "Run the health checks of a running experiment, or of the journey's KPIs, now and print the open alerts",
		Long: `Run every health check of experiment KEY now, as the scheduler does every
health.interval: alerts open, update or resolve, safeguards act, and changes are
delivered to the configured webhooks (the command waits for the deliveries).
An experiment that is not running is not checked; its open alerts are printed.

With --journey, judge every journey stage KPI's latest complete day against
its expected band instead (the kpi_anomaly check); this needs a store that
keeps the stage KPIs over all traffic.`,
		Example: "  journeylab alerts check one-page-checkout\n  journeylab alerts check one-page-checkout --json\n  journeylab alerts check --journey",
		Args: func(cmd *cobra.Command, args []string) error {
			if journey && len(args) > 0 {
				return errors.New("give an experiment KEY or --journey, not both")
			}
			if !journey && len(args) != 1 {
				return errors.New("give the KEY of the experiment to check, or --journey")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			mon, done, err := monitor(cmd, v, *dataDir)
			if err != nil {
				return err
			}
			defer done()
			what := "journey KPIs"
			var open []health.Alert
			if journey {
				open, err = mon.CheckJourney(cmd.Context())
			} else {
				what = args[0]
				open, err = mon.CheckExperiment(cmd.Context(), args[0])
			}
			if errors.Is(err, experiment.ErrNotFound) {
				return fmt.Errorf("no experiment %q in this store (check --data-dir or mongodb.uri)", args[0])
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"alerts": nonNil(open)})
			}
			if len(open) == 0 {
				_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s: healthy, no open alert.\n", what)
				return err
			}
			return alertTable(cmd.OutOrStdout(), open)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&journey, "journey", false, "check the journey's stage KPIs over all traffic instead of an experiment")
	return cmd
}

func newAlertsShowCmd(v *viper.Viper, dataDir *string) *cobra.Command {
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Print one alert with its details and audit trail as JSON",
		Example: "  journeylab alerts show 3f9c2a1b7d4e5f60",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd, v, *dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			a, events, err := st.GetAlert(cmd.Context(), args[0])
			if errors.Is(err, experiment.ErrNotFound) {
				return fmt.Errorf("no alert %q (list them with: journeylab alerts --all)", args[0])
			}
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"alert": a, "events": nonNil(events)})
		},
	}
}

func newAlertsResolveCmd(v *viper.Viper, dataDir *string) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "resolve ID",
		Short: "Resolve an open alert by hand (recorded with the actor \"cli\")",
		Long: `Resolve an open alert by hand, for a condition that is understood (known bot
traffic, a planned outage). If the condition still holds, the next check opens a
new alert.`,
		Example: `  journeylab alerts resolve 3f9c2a1b7d4e5f60 --note "bot traffic filtered"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(note) > 1000 {
				return errors.New("--note: at most 1000 characters")
			}
			mon, done, err := monitor(cmd, v, *dataDir)
			if err != nil {
				return err
			}
			defer done()
			a, err := mon.Resolve(cmd.Context(), args[0], "cli", note)
			if errors.Is(err, experiment.ErrNotFound) {
				return fmt.Errorf("no alert %q (list them with: journeylab alerts)", args[0])
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "resolved %s alert %s of %s\n", a.Check, a.ID, scope(a))
			return err
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why it is resolved (kept in the alert's trail)")
	return cmd
}
