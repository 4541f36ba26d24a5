package sqlitedrivers

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The ingestion ceiling of the embedded store: how fast SQLite alone can
// durably store events with an idempotency key that is random (a client
// UUID), once the store already holds many events. Nothing of journeylab
// runs here: no HTTP, no JSON, no attribution, no rollups. Every commit is
// synchronous=FULL and holds commitRows events, as journeylab's group commit
// of 8 concurrent batches of 500 does.
//
//	cd bench/sqlitedrivers && STORED=1000000 go test -tags modernc -run '^$' -bench IdempotentAppend -benchtime 50x
const commitRows = 4000

// rowsPerStatement is the multi-row INSERT size journeylab uses.
const rowsPerStatement = 100

// layout is one way to keep events idempotent in SQLite.
type layout struct {
	name   string
	schema string
	// insert returns the statement for n rows and the arguments of one event.
	insert func(n int) string
	args   func(unit, id string, seq int) []any
}

var seed = maphash.MakeSeed()

func keyHash(unit, id string) int64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(unit)
	h.WriteByte(0)
	h.WriteString(id)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], h.Sum64())
	return int64(binary.LittleEndian.Uint64(b[:]))
}

func values(n, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

var layouts = []layout{
	{
		// journeylab's table: the events clustered by (unit, event id).
		name: "clustered-by-unit",
		schema: `CREATE TABLE events (unit_id TEXT NOT NULL, event_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,
			value REAL NOT NULL, ts INTEGER NOT NULL, received INTEGER NOT NULL, attributes TEXT, PRIMARY KEY (unit_id, event_id)) WITHOUT ROWID`,
		insert: func(n int) string {
			return `INSERT OR IGNORE INTO events (unit_id, event_id, seq, event, value, ts, received, attributes) VALUES ` + values(n, 8)
		},
		args: func(unit, id string, seq int) []any {
			return []any{unit, id, seq, "order_completed", 42.5, seq, seq, nil}
		},
	},
	{
		// An append-only log in arrival order plus the smallest possible
		// random-key index: 8 bytes of hash per event.
		name: "log-plus-hash-index",
		schema: `CREATE TABLE events (seq INTEGER PRIMARY KEY, unit_id TEXT NOT NULL, event_id TEXT NOT NULL, event TEXT NOT NULL,
			value REAL NOT NULL, ts INTEGER NOT NULL, received INTEGER NOT NULL, attributes TEXT);
			CREATE TABLE event_keys (h INTEGER PRIMARY KEY)`,
		insert: func(n int) string {
			return `INSERT INTO events (seq, unit_id, event_id, event, value, ts, received, attributes) VALUES ` + values(n, 8)
		},
		args: func(unit, id string, seq int) []any {
			return []any{seq, unit, id, "order_completed", 42.5, seq, seq, nil}
		},
	},
	{
		// The append-only log alone: no durable idempotency at all (it
		// would have to live in memory). The upper bound of any layout.
		name: "log-only",
		schema: `CREATE TABLE events (seq INTEGER PRIMARY KEY, unit_id TEXT NOT NULL, event_id TEXT NOT NULL, event TEXT NOT NULL,
			value REAL NOT NULL, ts INTEGER NOT NULL, received INTEGER NOT NULL, attributes TEXT)`,
		insert: func(n int) string {
			return `INSERT INTO events (seq, unit_id, event_id, event, value, ts, received, attributes) VALUES ` + values(n, 8)
		},
		args: func(unit, id string, seq int) []any {
			return []any{seq, unit, id, "order_completed", 42.5, seq, seq, nil}
		},
	},
}

func storedBefore(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("STORED"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("STORED=%q: %v", s, err)
		}
		n = v
	}
	return n
}

// appendCommit stores one commit of random-key events starting at seq.
func appendCommit(b *testing.B, db *sql.DB, l layout, rng *rand.Rand, seq int) {
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare(l.insert(rowsPerStatement))
	if err != nil {
		b.Fatal(err)
	}
	var keys *sql.Stmt
	if l.name == "log-plus-hash-index" {
		if keys, err = tx.Prepare(`INSERT OR IGNORE INTO event_keys (h) VALUES ` + values(rowsPerStatement, 1)); err != nil {
			b.Fatal(err)
		}
	}
	args := make([]any, 0, rowsPerStatement*8)
	hashes := make([]any, 0, rowsPerStatement)
	for i := 0; i < commitRows; i++ {
		unit := fmt.Sprintf("u-%06d", rng.IntN(200_000))
		id := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		args = append(args, l.args(unit, id, seq+i)...)
		hashes = append(hashes, keyHash(unit, id))
		if len(hashes) == rowsPerStatement {
			if keys != nil {
				if _, err := keys.Exec(hashes...); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := st.Exec(args...); err != nil {
				b.Fatal(err)
			}
			args, hashes = args[:0], hashes[:0]
		}
	}
	st.Close()
	if keys != nil {
		keys.Close()
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkIdempotentAppend(b *testing.B) {
	stored := storedBefore(b)
	for _, d := range drivers(b.TempDir()) {
		for _, l := range layouts {
			b.Run(fmt.Sprintf("%s/%s/stored=%d", d.name, l.name, stored), func(b *testing.B) {
				path := fmt.Sprintf("%s/%s.db", b.TempDir(), l.name)
				d := current(path)
				db, err := sql.Open(d.sqlName, d.dsn)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				db.SetMaxOpenConns(1)
				for _, p := range []string{"PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=10000", l.schema} {
					if _, err := db.Exec(p); err != nil {
						b.Fatal(err)
					}
				}
				rng := rand.New(rand.NewPCG(1, 2))
				seq := 0
				for seq < stored {
					appendCommit(b, db, l, rng, seq)
					seq += commitRows
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					appendCommit(b, db, l, rng, seq)
					seq += commitRows
				}
				b.ReportMetric(float64(b.N*commitRows)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
