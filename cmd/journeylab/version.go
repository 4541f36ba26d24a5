package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func init() { commands = append(commands, newVersionCmd) }

func newVersionCmd(*viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit it was built from and the Go version",
		Example: `  journeylab version
  journeylab --version   # the version alone`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		},
	}
}

// versionLine is "journeylab <version> (commit <rev>[, modified]) <go version>".
// Builds without -ldflags (go install, go run) report the commit Go
// recorded from the checkout instead of "dev" alone.
func versionLine() string {
	rev, modified := "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	line := "journeylab " + version
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		line += " (commit " + rev
		if modified {
			line += ", modified"
		}
		line += ")"
	}
	return line + " " + runtime.Version()
}
