//go:build mattn

package sqlitedrivers

import _ "github.com/mattn/go-sqlite3"

func current(p string) driver {
	return driver{"mattn-cgo", "sqlite3", "file:" + p + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000"}
}
