package main

import (
	"fmt"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"journeylab/auth"
)

func init() { commands = append(commands, newKeysCmd) }

func newKeysCmd(v *viper.Viper) *cobra.Command {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Create and list API keys (scopes: sdk, admin, read)",
		Args:  cobra.NoArgs,
	}
	var scope, name, dataDir string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key and print it once",
		Long: `Create an API key. The key is printed once and only its hash is stored.

Scopes: sdk (front-ends: /v1/assign, /v1/events), read (reports),
admin (manage experiments; also read).`,
		Example: "  journeylab keys create --scope admin --name alice\n  journeylab keys create --scope sdk --name web-shop",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := auth.ParseScope(scope)
			if err != nil {
				return fmt.Errorf("--scope: %w", err)
			}
			st, err := openStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			k, token, err := auth.Generate(name, s, time.Now())
			if err != nil {
				return err
			}
			if err := st.CreateKey(cmd.Context(), k); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "created %s key %s (%s); store it now, it is not shown again:\n", s, k.ID, name)
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	create.Flags().StringVar(&scope, "scope", "", "sdk, admin or read (required)")
	create.Flags().StringVar(&name, "name", "", "who or what the key is for")
	_ = create.MarkFlagRequired("scope")
	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			ks, err := st.ListKeys(cmd.Context())
			if err != nil {
				return err
			}
			t := tablewriter.NewWriter(cmd.OutOrStdout())
			t.Header("ID", "Scope", "Name", "Created", "Revoked")
			for _, k := range ks {
				rev := ""
				if k.RevokedAt != nil {
					rev = k.RevokedAt.Format(time.RFC3339)
				}
				_ = t.Append(k.ID, string(k.Scope), k.Name, k.CreatedAt.Format(time.RFC3339), rev)
			}
			return t.Render()
		},
	}
	for _, c := range []*cobra.Command{create, list} {
		c.Flags().StringVar(&dataDir, "data-dir", "", "data directory (default: the data_dir setting)")
	}
	keys.AddCommand(create, list)
	return keys
}
