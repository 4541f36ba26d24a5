package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

func init() { commands = append(commands, newExperimentCmd) }

func newExperimentCmd(v *viper.Viper) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "experiment",
		Short: "Create experiments from JSON files",
		Long: `Create experiments in the configured store from the same JSON that
POST /v1/experiments takes. Every problem of the file is reported at once,
each with the field it concerns.`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data directory of the SQLite store (default from configuration)")

	var file string
	create := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a draft experiment from a JSON file (- for standard input)",
		Example: `  journeylab experiment create -f one-page-checkout.json
  cat one-page-checkout.json | journeylab experiment create -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readInput(cmd, file)
			if err != nil {
				return err
			}
			var e experiment.Experiment
			if err := jsonbody.Decode(body, &e); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			st, err := openStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			svc := experiment.NewService(st, time.Now)
			if err := svc.SeedBuiltinMetrics(cmd.Context()); err != nil {
				return err
			}
			out, err := svc.Create(cmd.Context(), "cli", &e)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "the experiment as JSON, or - for standard input (required)")
	_ = create.MarkFlagRequired("file")
	cmd.AddCommand(create)
	return cmd
}

// readInput reads the file a command was given, "-" meaning its standard input.
func readInput(cmd *cobra.Command, file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read experiment: %w", err)
	}
	return b, nil
}
