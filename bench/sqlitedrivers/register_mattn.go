package sqlitedrivers

import (
	"database/sql"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// mattn registers itself as "sqlite3", the name ncruces also takes; register
// it again under its own name so both can be measured in one run.
func init() { sql.Register("sqlite3-mattn", &sqlite3.SQLiteDriver{}) }
