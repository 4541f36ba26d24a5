package main

import (
	"errors"
	"fmt"
	"os/user"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/auth"
)

func init() { commands = append(commands, newKeysCmd) }

func newKeysCmd(v *viper.Viper) *cobra.Command {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and revoke API keys (scopes: sdk, admin, read)",
		Long: `Create, list and revoke the API keys the HTTP API and the dashboard accept.
They live in the store (the data_dir setting, or mongodb.uri), so run these
commands with the same settings as journeylab serve; they work while it runs.`,
		Example: `  journeylab keys create --scope admin --name alice
  journeylab keys create --scope sdk --name web-shop --data-dir /var/lib/journeylab
  journeylab keys list
  journeylab keys revoke 3f9a0c1b2d4e`,
		Args: cobra.NoArgs,
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
		Use:     "list",
		Short:   "List API keys (never their secrets)",
		Example: "  journeylab keys list\n  journeylab keys list --data-dir /var/lib/journeylab",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openExistingStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			ks, err := st.ListKeys(cmd.Context())
			if err != nil {
				return err
			}
			t := tablewriter.NewWriter(cmd.OutOrStdout())
			t.Header("ID", "Scope", "Name", "Created", "Revoked", "Revoked by")
			for _, k := range ks {
				rev := ""
				if k.RevokedAt != nil {
					rev = k.RevokedAt.Format(time.RFC3339)
				}
				_ = t.Append(k.ID, string(k.Scope), k.Name, k.CreatedAt.Format(time.RFC3339), rev, k.RevokedBy)
			}
			return t.Render()
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API key; it stops working within auth.cache_ttl on every instance",
		Long: `Revoke an API key by its id (the ID column of keys list; the 12 hex digits
after "jl_" in the token). The store records when and by whom (the operating
system user, as "cli:<user>"). Running servers refuse the key once their
cached verification expires: within auth.cache_ttl (default 30s). Revoking
through the API (POST /v1/keys/ID/revoke) also stops the key at once on the
instance that answers. Revoking a revoked key changes nothing.`,
		Example: "  journeylab keys list\n  journeylab keys revoke 3f9a0c1b2d4e",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openExistingStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			k, err := st.RevokeKey(cmd.Context(), args[0], time.Now(), cliActor())
			if errors.Is(err, auth.ErrUnknownKey) {
				return fmt.Errorf("no API key with id %q (see journeylab keys list)", args[0])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s key %s (%s) at %s by %s\n", k.Scope, k.ID, k.Name, k.RevokedAt.Format(time.RFC3339), k.RevokedBy)
			return nil
		},
	}
	for _, c := range []*cobra.Command{create, list, revoke} {
		c.Flags().StringVar(&dataDir, "data-dir", "", "data directory (default: the data_dir setting)")
	}
	keys.AddCommand(create, list, revoke)
	return keys
}

// cliActor names who revokes from the command line, for the audit.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
