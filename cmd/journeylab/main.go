// Command journeylab runs the journeylab experimentation service and its
// tools. Run `journeylab --help` for the sub-commands.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// commands lists the constructors of every sub-command; each lives in its own file.
var commands []func(*viper.Viper) *cobra.Command

func newRoot() *cobra.Command {
	v := config.New("")
	var cfgFile string
	root := &cobra.Command{
		Use:   "journeylab",
		Short: "A/B experiments and optimisation across the customer journey",
		Long: `journeylab assigns visitors to experiment variants, records what they do and
reports, per journey stage, which variant improves each KPI.

Settings come from journeylab.yaml < JOURNEYLAB_* environment variables < flags.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			if cfgFile != "" {
				v.SetConfigFile(cfgFile)
			}
		},
	}
	root.PersistentFlags().StringVar(&cfgFile, "config", "", "config file (default ./journeylab.yaml if present)")
	cobra.AddTemplateFunc("plainBools", plainBools)
	root.SetUsageTemplate(strings.ReplaceAll(root.UsageTemplate(), ".FlagUsages | trimTrailingWhitespaces", ".FlagUsages | plainBools | trimTrailingWhitespaces"))
	for _, mk := range commands {
		root.AddCommand(mk(v))
	}
	return root
}

// plainBools drops the "[=true|false]" pflag appends to every boolean flag in
// help output ("--json" reads as a switch; "--json=false" still works),
// padding with spaces so the descriptions stay aligned.
func plainBools(usages string) string {
	const noise = "[=true|false]"
	return strings.ReplaceAll(usages, noise, strings.Repeat(" ", len(noise)))
}

// loadConfig reads and validates the configuration, binding cmd's flags.
func loadConfig(v *viper.Viper) (config.Config, error) {
	cfg, err := config.Load(v)
	if err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

// newLogger builds the slog logger the config asks for.
func newLogger(cfg config.Config) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
