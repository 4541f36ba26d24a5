package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/config"
)

func init() { commands = append(commands, newServeCmd) }

func newServeCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP service (embedded SQLite store unless mongodb.uri is set)",
		Long: `Run the journeylab HTTP service.

With no configuration it listens on 127.0.0.1:8080 and keeps its data in
./data/journeylab.db (created if missing). Every setting below can also be
given in journeylab.yaml or as a JOURNEYLAB_* environment variable; flags win.`,
		Example: `  journeylab serve
  journeylab serve --listen 0.0.0.0:8080 --data-dir /var/lib/journeylab
  JOURNEYLAB_DEV_MODE=true journeylab serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(v)
			if err != nil {
				return err
			}
			log := newLogger(cfg)
			ctx, stop := signalContext()
			defer stop()
			a, err := app.New(ctx, cfg, log, nil)
			if err != nil {
				return err
			}
			return a.Listen(ctx)
		},
	}
	config.RegisterFlags(cmd.Flags(), v)
	return cmd
}
