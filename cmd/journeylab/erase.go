package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/privacy"
)

func init() { commands = append(commands, newEraseCmd) }

func newEraseCmd(v *viper.Viper) *cobra.Command {
	var dataDir, fromFile string
	cmd := &cobra.Command{
		Use:   "erase UNIT_ID...",
		Short: "Erase everything stored about units (visitors or customers)",
		Long: `Erase every event, exposure and per-unit metric rollup of the named units,
and subtract their contribution from every total the reports read, so that
reports afterwards are what they would be had the units never been seen.

The erasure audit keeps a keyed hash of each id (see privacy.hash_secret),
never the id. With privacy.pseudonymise_units on, name the raw ids: they are
hashed with privacy.pseudonym_key as the service does. Exposures and events of the units still in the service's
journals, or sent later, are dropped when the journals are merged. Erasing a
unit twice is harmless.

The command opens the store directly, like rebuild. With the service running,
prefer DELETE /v1/units/{unit_id} (or POST /v1/units/erase for many ids): it
merges the journals before erasing, and its merges know of the erasure at
once (a running service notices an erasure made by this command within ten
seconds).`,
		Example: `  journeylab erase customer-4711
  journeylab erase customer-4711 customer-4712 --data-dir /var/lib/journeylab
  journeylab erase --from-file ids.txt        # one id per line; - reads stdin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := append([]string(nil), args...)
			if fromFile != "" {
				more, err := readIDs(cmd, fromFile)
				if err != nil {
					return err
				}
				ids = append(ids, more...)
			}
			if len(ids) == 0 {
				return fmt.Errorf("name at least one unit id, or --from-file")
			}
			cfg, err := loadConfig(v)
			if err != nil {
				return err
			}
			if dataDir != "" {
				cfg.DataDir = dataDir
			}
			secret, err := privacy.LoadSecret(cfg.PrivacyHashSecret, cfg.DataDir)
			if err != nil {
				return err
			}
			st, _, err := app.OpenStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			units, err := app.OpenPseudonyms(cmd.Context(), cfg, st)
			if err != nil {
				return err
			}
			// No journals here: the service owns them. What they still hold
			// for these units is dropped when they are merged.
			eraser := privacy.NewEraser(st, nil, secret, nil).WithPseudonyms(units)
			var total privacy.Erased
			for start := 0; start < len(ids); start += privacy.MaxBatch {
				got, err := eraser.Erase(cmd.Context(), ids[start:min(start+privacy.MaxBatch, len(ids))])
				total = total.Add(got)
				if err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "erased %d units: %d events, %d exposures, %d rollups removed\n", total.Units, total.Events, total.Exposures, total.Rollups)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data directory (default: the data_dir setting)")
	cmd.Flags().StringVar(&fromFile, "from-file", "", "read more unit ids from this file, one per line (- = standard input)")
	return cmd
}

// readIDs reads one unit id per line, skipping blank lines.
func readIDs(cmd *cobra.Command, path string) ([]string, error) {
	var r io.Reader = cmd.InOrStdin()
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read unit ids: %w", err)
		}
		defer f.Close()
		r = f
	}
	var ids []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read unit ids from %s: %w", path, err)
	}
	return ids, nil
}
