package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/journey"
)

func init() { commands = append(commands, newJourneyCmd) }

func newJourneyCmd(v *viper.Viper) *cobra.Command {
	var dataDir, from, to, dimension string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "journey",
		Short: "Print the journey map: every stage's KPIs for all traffic, the funnel and its pain point",
		Long: `Print the journey map of the local store for a range of days (UTC): every
catalogue KPI over all visitors with its last day against the expected band
(the same weekday of earlier weeks) and the number of days outside it; the
funnel of the units first seen in the range across the stages, with the step
that loses most of them marked as the pain point (split by a unit attribute
with --dimension); and per stage the experiments that ran there with their
verdicts and the cumulative lift of shipped winners.

It reads the store directly (the data_dir setting, as "serve" uses), so it
works while the service runs. --json prints exactly what GET /v1/journey
returns. Definitions: docs/journey.md.`,
		Example: `  journeylab journey
  journeylab journey --from 2026-03-01 --to 2026-03-28
  journeylab journey --dimension jl:persona
  journeylab journey --json | jq '.funnel.pain_point'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			get := map[string]string{"from": from, "to": to, "dimension": dimension}
			q, err := journey.ParseQuery(func(k string) string { return get[k] }, time.Now())
			if err != nil {
				return fmt.Errorf("--%w", err)
			}
			st, err := openExistingStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			m, err := journey.NewService(st, st, st, time.Now).Build(cmd.Context(), q)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), m)
			}
			return journey.WriteText(cmd.OutOrStdout(), m)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory (default: the data_dir setting)")
	cmd.Flags().StringVar(&from, "from", "", "first day shown, YYYY-MM-DD (default: 27 days before --to)")
	cmd.Flags().StringVar(&to, "to", "", "last day shown, YYYY-MM-DD (default: today, UTC)")
	cmd.Flags().StringVar(&dimension, "dimension", "", "split the funnel by this unit attribute (device, jl:persona, ...)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the map as JSON (as the HTTP API does)")
	return cmd
}
