package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

func init() { commands = append(commands, newPersonaCmd) }

// personaActor is who CLI changes are audited as.
const personaActor = "cli"

func newPersonaCmd(v *viper.Viper) *cobra.Command {
	var dataDir string
	persona := &cobra.Command{
		Use:   "persona",
		Short: "Manage personas: named, reusable targeting conditions",
		Long: `Personas are named audiences ("Sarah: worried about quality, sizes and
returns") defined by a condition in MongoDB query syntax. Experiments use
them in their targeting with {"$persona": "<key>"}; reports can break
results down by persona. Changes are audited and reach running
experiments within the refresh interval.`,
		Args: cobra.NoArgs,
	}
	persona.PersistentFlags().StringVar(&dataDir, "data-dir", "", "data directory of the SQLite store (default from configuration)")
	// withService runs fn with a service over the configured store.
	withService := func(fn func(cmd *cobra.Command, svc *experiment.Service, args []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd, v, dataDir)
			if err != nil {
				return err
			}
			defer st.Close()
			return fn(cmd, experiment.NewService(st, time.Now), args)
		}
	}
	printJSON := func(cmd *cobra.Command, x any) error {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}

	list := &cobra.Command{
		Use:     "list",
		Short:   "List personas",
		Example: "  journeylab persona list",
		Args:    cobra.NoArgs,
		RunE: withService(func(cmd *cobra.Command, svc *experiment.Service, args []string) error {
			ps, err := svc.ListPersonas(cmd.Context())
			if err != nil {
				return err
			}
			t := tablewriter.NewWriter(cmd.OutOrStdout())
			t.Header("Key", "Name", "Version", "Condition")
			for _, p := range ps {
				_ = t.Append(p.Key, p.Name, fmt.Sprint(p.Version), string(p.Condition))
			}
			return t.Render()
		}),
	}

	get := &cobra.Command{
		Use:     "get KEY",
		Short:   "Print a persona as JSON, with the experiments that use it",
		Example: "  journeylab persona get sarah",
		Args:    cobra.ExactArgs(1),
		RunE: withService(func(cmd *cobra.Command, svc *experiment.Service, args []string) error {
			p, err := svc.GetPersona(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			users, err := svc.PersonaUsers(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if users == nil {
				users = []string{}
			}
			return printJSON(cmd, struct {
				*experiment.Persona
				UsedBy []string `json:"used_by"`
			}{p, users})
		}),
	}

	var name, description, condition string
	readCondition := func() (assign.Condition, error) {
		c := condition
		if path, ok := strings.CutPrefix(c, "@"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("--condition: %w", err)
			}
			c = string(b)
		}
		var out assign.Condition
		if err := json.Unmarshal([]byte(c), &out); err != nil {
			return nil, fmt.Errorf("--condition: not JSON: %w", err)
		}
		return out, nil
	}
	create := &cobra.Command{
		Use:   "create KEY --condition JSON",
		Short: "Create a persona",
		Example: `  journeylab persona create sarah --name Sarah \
    --description "Worried about quality, sizes and returns" \
    --condition '{"returns_last_year": {"$gte": 2}, "segment": {"$in": ["quality-seeker", "size-unsure"]}}'
  journeylab persona create app-fans --condition @app-fans.json`,
		Args: cobra.ExactArgs(1),
		RunE: withService(func(cmd *cobra.Command, svc *experiment.Service, args []string) error {
			c, err := readCondition()
			if err != nil {
				return err
			}
			p, err := svc.CreatePersona(cmd.Context(), personaActor, experiment.Persona{Key: args[0], Name: name, Description: description, Condition: c})
			if err != nil {
				return err
			}
			return printJSON(cmd, p)
		}),
	}
	create.Flags().StringVar(&name, "name", "", "display name (default: the key)")
	create.Flags().StringVar(&description, "description", "", "who the persona is")
	create.Flags().StringVar(&condition, "condition", "", "condition in MongoDB query syntax, or @file (required)")
	_ = create.MarkFlagRequired("condition")

	update := &cobra.Command{
		Use:   "update KEY [--name N] [--description D] [--condition JSON]",
		Short: "Change a persona's name, description or condition",
		Example: `  journeylab persona update sarah --condition '{"returns_last_year": {"$gte": 3}}'
  journeylab persona update sarah --description "Returns often; unsure about sizes"`,
		Args: cobra.ExactArgs(1),
		RunE: withService(func(cmd *cobra.Command, svc *experiment.Service, args []string) error {
			p, err := svc.GetPersona(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("name") {
				p.Name = name
			}
			if cmd.Flags().Changed("description") {
				p.Description = description
			}
			if cmd.Flags().Changed("condition") {
				if p.Condition, err = readCondition(); err != nil {
					return err
				}
			}
			out, err := svc.UpdatePersona(cmd.Context(), personaActor, args[0], *p)
			if err != nil {
				return err
			}
			return printJSON(cmd, out)
		}),
	}
	update.Flags().StringVar(&name, "name", "", "new display name")
	update.Flags().StringVar(&description, "description", "", "new description")
	update.Flags().StringVar(&condition, "condition", "", "new condition in MongoDB query syntax, or @file")

	del := &cobra.Command{
		Use:     "delete KEY",
		Short:   "Delete a persona no experiment uses (its audit trail is kept)",
		Example: "  journeylab persona delete bargain-hunter",
		Args:    cobra.ExactArgs(1),
		RunE: withService(func(cmd *cobra.Command, svc *experiment.Service, args []string) error {
			if err := svc.DeletePersona(cmd.Context(), personaActor, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "deleted persona %s\n", args[0])
			return nil
		}),
	}

	audit := &cobra.Command{
		Use:     "audit KEY",
		Short:   "Print a persona's audit trail as JSON, oldest first",
		Example: "  journeylab persona audit sarah",
		Args:    cobra.ExactArgs(1),
		RunE: withService(func(cmd *cobra.Command, svc *experiment.Service, args []string) error {
			entries, err := svc.PersonaAudit(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd, entries)
		}),
	}

	var attrs string
	test := &cobra.Command{
		Use:   "test KEY --attributes JSON",
		Short: "Tell whether attributes match a persona",
		Example: `  journeylab persona test sarah --attributes '{"returns_last_year": 3, "segment": "size-unsure"}'
  # prints "match" or "no match"`,
		Args: cobra.ExactArgs(1),
		RunE: withService(func(cmd *cobra.Command, svc *experiment.Service, args []string) error {
			var a map[string]any
			if err := json.Unmarshal([]byte(attrs), &a); err != nil {
				return fmt.Errorf("--attributes: not a JSON object: %w", err)
			}
			p, err := svc.GetPersona(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			m, err := assign.CompilePersona(p.Condition, assign.Env{})
			if err != nil {
				return err
			}
			if m.Match(a) {
				fmt.Fprintln(cmd.OutOrStdout(), "match")
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "no match")
			}
			return nil
		}),
	}
	test.Flags().StringVar(&attrs, "attributes", "{}", "attributes as a JSON object, as sent to /v1/assign")

	persona.AddCommand(list, get, create, update, del, audit, test)
	return persona
}
