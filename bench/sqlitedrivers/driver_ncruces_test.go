//go:build ncruces

package sqlitedrivers

import _ "github.com/ncruces/go-sqlite3/driver"

func current(p string) driver {
	return driver{"ncruces", "sqlite3", "file:" + p + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)"}
}
