package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/eventnames"
)

func init() { commands = append(commands, newEventsCmd) }

func newEventsCmd(v *viper.Viper) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Inspect the outcome events that arrived",
		Args:  cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data directory of the SQLite store (default from configuration)")
	var limit int
	var asJSON bool
	unknown := &cobra.Command{
		Use:   "unknown",
		Short: "List event names no metric uses (typos, or metrics not defined yet)",
		Long: `List the event names that stored events carried although no metric uses
them, most frequent first, with the closest known name when one is close.
Such events are kept: define a metric on the name, or fix the sender.
A running server writes its counts every second.`,
		Example: `  journeylab events unknown
  journeylab events unknown --limit 10 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > eventnames.MaxNames {
				return fmt.Errorf("--limit must be from 1 to %d", eventnames.MaxNames)
			}
			st, err := openStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			list, err := eventnames.New(st, st, eventnames.Options{}).List(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []eventnames.Seen{}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"unknown_events": list})
			}
			if len(list) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No unknown event names: every event name that arrived is used by a metric.")
				return nil
			}
			t := tablewriter.NewWriter(cmd.OutOrStdout())
			t.Header("Event name", "Events", "First seen", "Last seen", "Did you mean")
			for _, s := range list {
				_ = t.Append(s.Name, fmt.Sprint(s.Count), s.FirstSeen.Format(time.DateTime), s.LastSeen.Format(time.DateTime), s.Suggestion)
			}
			return t.Render()
		},
	}
	unknown.Flags().IntVar(&limit, "limit", 100, "at most this many names")
	unknown.Flags().BoolVar(&asJSON, "json", false, "print JSON, as GET /v1/events/unknown answers")
	cmd.AddCommand(unknown)
	return cmd
}
