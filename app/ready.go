package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/journeylab/journeylab/experiment"
)

// readyChecks are the /readyz checks: the store can write, and so can the
// data directory, where the exposure and event journals live (a request is
// acknowledged once journaled there).
func readyChecks(st Backend, dataDir string) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"store":   storeCheck(st),
		"journal": dirCheck(filepath.Join(dataDir, "journal")),
	}
}

// storeCheck is the store's check: a real write when the store can prove
// one (SQLite, MongoDB), else its ping.
func storeCheck(st Backend) func(context.Context) error {
	if w, ok := st.(interface{ CheckWrite(context.Context) error }); ok {
		return w.CheckWrite
	}
	return st.Ping
}

// dirCheck proves that dir takes a write: it writes, syncs and removes a
// small file, so a full disk, a read-only file system or an I/O error turns
// readiness red.
func dirCheck(dir string) func(context.Context) error {
	return func(context.Context) error {
		f, err := os.CreateTemp(dir, ".readyz-*")
		if err != nil {
			return fmt.Errorf("%w: %s is not writable: %w", experiment.ErrUnavailable, dir, err)
		}
		defer os.Remove(f.Name())
		_, err = f.Write([]byte("readyz\n"))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%w: %s is not writable: %w", experiment.ErrUnavailable, dir, err)
		}
		return nil
	}
}
