package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

// byDayFlags are the report command's days-since-exposure options.
type byDayFlags struct {
	on      bool
	view    string
	days    int
	metrics string
}

func (f *byDayFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.on, "by-day", false, "print the lift by days since each unit's first exposure instead (novelty and learning effects)")
	cmd.Flags().StringVar(&f.view, "view", "daily", "with --by-day: daily (events of day k only) or cumulative (days 0 to k)")
	cmd.Flags().IntVar(&f.days, "days", report.DefaultExposureDays, "with --by-day: how many days since exposure to show (1 to 90)")
	cmd.Flags().StringVar(&f.metrics, "metric", "", "with --by-day: comma-separated metric keys (default: the goal metrics)")
}

// check rejects by-day options without --by-day and flags that do not
// apply to it, before any store is opened.
func (f *byDayFlags) check(cmd *cobra.Command, dimension, funnel string, asCSV bool) error {
	if !f.on {
		for _, name := range []string{"view", "days", "metric"} {
			if cmd.Flags().Changed(name) {
				return fmt.Errorf("--%s only applies with --by-day", name)
			}
		}
		return nil
	}
	switch {
	case asCSV:
		return errors.New("--csv does not apply to --by-day (use --json)")
	case dimension != "" || funnel != "":
		return errors.New("--dimension and --funnel do not apply to --by-day")
	}
	if _, err := report.ParseExposureDaysOptions(f.view, strconv.Itoa(f.days)); err != nil {
		var ve *experiment.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("--%s: %s", ve.Field, ve.Message)
		}
		return err
	}
	return nil
}

// print writes the days-since-exposure view of e as a table or JSON (what
// GET /v1/experiments/KEY/report/days returns).
func (f *byDayFlags) print(cmd *cobra.Command, w io.Writer, st app.Backend, e *experiment.Experiment, metrics map[string]experiment.Metric, asJSON, colour bool) error {
	opts, err := report.ParseExposureDaysOptions(f.view, strconv.Itoa(f.days))
	if err != nil {
		return err
	}
	list, err := report.ParseSeriesMetrics(f.metrics, e, metrics)
	if err != nil {
		return fmt.Errorf("--metric: %w", err)
	}
	d, err := report.BuildExposureDays(cmd.Context(), st, e, list, opts)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	return report.WriteExposureDaysText(w, d, report.TextOptions{Colour: colour})
}
