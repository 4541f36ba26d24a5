package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/store/sqlite"
)

// openExistingStore opens the store like openStore, but refuses to create an
// embedded store that is not there: commands that only read (report, keys
// list) would otherwise leave an empty database behind a mistyped --data-dir
// and answer "not found" about it.
func openExistingStore(cmd *cobra.Command, v *viper.Viper, dataDir string) (app.Backend, error) {
	cfg, err := loadConfig(v)
	if err != nil {
		return nil, err
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if cfg.MongoURI == "" {
		path := filepath.Join(cfg.DataDir, sqlite.FileName)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no journeylab store at %s: pass the --data-dir that journeylab serve uses (its data_dir setting)", path)
		}
	}
	st, _, err := app.OpenStore(cmd.Context(), cfg)
	return st, err
}
