//go:build modernc

package sqlitedrivers

import _ "modernc.org/sqlite"

func current(p string) driver {
	return driver{"modernc", "sqlite", "file:" + p + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)"}
}
