// Package sqlitedrivers measures the SQLite drivers journeylab could embed,
// on the store's two hot shapes: a transaction inserting a batch of 500
// events with a unique id (ingestion) and a point read by primary key
// (experiment and key look-ups). It is its own module so that the drivers
// not chosen never enter journeylab's dependency graph.
//
// Two drivers register the name "sqlite3", so each is built alone with a tag:
//
//	cd bench/sqlitedrivers && ./run.sh
package sqlitedrivers

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

type driver struct{ name, sqlName, dsn string }

// drivers returns the driver built in by the tag; its file sets current.
func drivers(dir string) []driver {
	return []driver{current(filepath.Join(dir, "bench.db"))}
}

func open(b *testing.B, d driver) *sql.DB {
	db, err := sql.Open(d.sqlName, d.dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, unit_id TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, ts INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return db
}

func BenchmarkInsertBatch500(b *testing.B) {
	for _, d := range drivers(b.TempDir()) {
		b.Run(d.name, func(b *testing.B) {
			db := open(b, d)
			defer db.Close()
			n := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				st, err := tx.Prepare(`INSERT INTO events (event_id, unit_id, name, value, ts) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
				if err != nil {
					b.Fatal(err)
				}
				for j := 0; j < 500; j++ {
					n++
					if _, err := st.Exec(fmt.Sprintf("%s-%d", d.name, n), fmt.Sprintf("u%d", n%100000), "order_completed", 42.5, n); err != nil {
						b.Fatal(err)
					}
				}
				st.Close()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkPointRead(b *testing.B) {
	for _, d := range drivers(b.TempDir()) {
		b.Run(d.name, func(b *testing.B) {
			db := open(b, d)
			defer db.Close()
			for j := 0; j < 1000; j++ {
				if _, err := db.Exec(`INSERT OR IGNORE INTO events VALUES (?, 'u', 'x', 1, 1)`, fmt.Sprintf("id-%d", j)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var v float64
				if err := db.QueryRow(`SELECT value FROM events WHERE event_id = ?`, fmt.Sprintf("id-%d", i%1000)).Scan(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
