package main

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
)

func init() { commands = append(commands, newRebuildCmd) }

func newRebuildCmd(v *viper.Viper) *cobra.Command {
	var key, dataDir string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "rebuild --experiment KEY",
		Short: "Recompute an experiment's metric rollups from raw events",
		Long: `Recompute every per-unit metric rollup of an experiment, and the totals the
report reads, from the raw events and exposures.

Run it after adding a metric to an experiment that has already collected
data (new metrics only count events from the moment they are added until you
rebuild), or after changing analysis.pre_exposure_days. The result is the
same as if the metric had been there from the start.

The service may keep running: the rebuild works through the units in small
transactions, and events that arrive meanwhile are counted exactly once.

--experiment layer:LAYER rebuilds the holdout baseline of a layer.

A rebuild that could only lose data is refused: of an experiment stopped
longer ago than privacy.event_retention (its units' raw events may be gone),
or whose exposures were deleted under privacy.exposure_retention (see
docs/privacy.md).`,
		Example: `  journeylab rebuild --experiment checkout-button
  journeylab rebuild --experiment checkout-button --data-dir /var/lib/journeylab
  journeylab rebuild --experiment layer:checkout`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openExistingStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			var bar *progressbar.ProgressBar
			progress := func(done, total int64) {
				if quiet {
					return
				}
				if bar == nil {
					bar = progressbar.NewOptions64(total,
						progressbar.OptionSetWriter(cmd.ErrOrStderr()),
						progressbar.OptionSetDescription("rebuilding "+key),
						progressbar.OptionShowCount(),
						progressbar.OptionSetItsString("units"),
						progressbar.OptionShowIts(),
						progressbar.OptionThrottle(100*time.Millisecond),
						progressbar.OptionClearOnFinish())
				}
				if bar.GetMax64() < total {
					bar.ChangeMax64(total)
				}
				_ = bar.Set64(done)
			}
			cfg, err := loadConfig(v)
			if err != nil {
				return err
			}
			if err := app.CheckRebuild(cmd.Context(), cfg, st, key, time.Now()); err != nil {
				return err
			}
			start := time.Now()
			var units int64
			err = st.Rebuild(cmd.Context(), key, func(done, total int64) { units = done; progress(done, total) })
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rebuilt %s: %d units in %s\n", key, units, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "experiment", "", "key of the experiment to rebuild (required)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory (default: the data_dir setting)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	_ = cmd.MarkFlagRequired("experiment")
	return cmd
}
