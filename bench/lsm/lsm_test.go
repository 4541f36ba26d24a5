// Package lsm measures the ingestion ceiling of an LSM engine (Pebble) on
// the shapes bench/sqlitedrivers measures for SQLite: idempotent appends of
// events with random keys, each commit of 4000 events synced, once the store
// already holds STORED events; and the same with a read-modify-write of a
// per-unit rollup for half of the events, as attribution does. It is its own
// module so that Pebble never enters journeylab's dependency graph; nothing
// of journeylab runs here (no HTTP, no JSON, no attribution rules).
//
//	cd bench/lsm && STORED=1000000 go test -run '^$' -bench . -benchtime 50x
package lsm

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

const commitRows = 4000

func storedBefore(b *testing.B) int {
	if s := os.Getenv("STORED"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("STORED=%q: %v", s, err)
		}
		return v
	}
	return 1_000_000
}

func open(b *testing.B) *pebble.DB {
	// A 64 MiB block cache, as journeylab gives SQLite's page cache.
	cache := pebble.NewCache(cacheSize())
	defer cache.Unref()
	// A 64 MiB memtable keeps recent keys (where retries land) in memory
	// and makes fewer, larger L0 files for a look-up to check.
	opts := &pebble.Options{Logger: quiet{}, Cache: cache}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// quiet drops Pebble's informational log lines, which would break the
// benchmark's output lines.
type quiet struct{}

func (quiet) Infof(string, ...any)         {}
func (quiet) Errorf(f string, args ...any) { fmt.Fprintf(os.Stderr, f+"\n", args...) }
func (quiet) Fatalf(f string, args ...any) { fmt.Fprintf(os.Stderr, f+"\n", args...); os.Exit(1) }

// value is an event as journeylab stores it, about 100 bytes.
var value = make([]byte, 100)

// commit stores commitRows random-key events unless their key is stored
// already; with rollups, every other event also reads and rewrites its
// unit's rollup (one of 100k exposed units).
func commit(b *testing.B, db *pebble.DB, rng *rand.Rand, rollups bool) {
	// Keys are looked up in the store; the batch's own duplicates and
	// rollups are tracked in maps, which an indexed batch would do slower.
	batch := db.NewBatch()
	inBatch := map[string]bool{}
	rolls := map[string][]byte{}
	for i := 0; i < commitRows; i++ {
		unit := rng.IntN(200_000)
		key := fmt.Appendf(nil, "e/u-%06d/%016x%016x", unit, rng.Uint64(), rng.Uint64())
		if inBatch[string(key)] {
			continue
		}
		if _, closer, err := db.Get(key); err == nil {
			closer.Close()
			continue
		} else if err != pebble.ErrNotFound {
			b.Fatal(err)
		}
		inBatch[string(key)] = true
		if err := batch.Set(key, value, nil); err != nil {
			b.Fatal(err)
		}
		if !rollups || unit >= 100_000 {
			continue
		}
		rk := fmt.Appendf(nil, "r/exp/u-%06d/m", unit)
		roll, ok := rolls[string(rk)]
		if !ok {
			roll = make([]byte, 64)
			v, closer, err := db.Get(rk)
			switch {
			case err == nil:
				copy(roll, v)
				closer.Close()
			case err != pebble.ErrNotFound:
				b.Fatal(err)
			}
			rolls[string(rk)] = roll
		}
		binary.LittleEndian.PutUint64(roll, binary.LittleEndian.Uint64(roll)+1)
	}
	for k, v := range rolls {
		if err := batch.Set([]byte(k), v, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkIdempotentAppend(b *testing.B) {
	stored := storedBefore(b)
	for _, rollups := range []bool{false, true} {
		b.Run(fmt.Sprintf("pebble/rollups=%v/stored=%d", rollups, stored), func(b *testing.B) {
			db := open(b)
			defer db.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			start := time.Now()
			for n := 0; n < stored; n += commitRows {
				commit(b, db, rng, rollups)
			}
			if stored > 0 {
				b.Logf("filling %d events: %.0f events/s", stored, float64(stored)/time.Since(start).Seconds())
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				commit(b, db, rng, rollups)
			}
			b.ReportMetric(float64(b.N*commitRows)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// cacheSize is the block cache: CACHE_MB, default 64 MiB as journeylab gives SQLite.
func cacheSize() int64 {
	if s := os.Getenv("CACHE_MB"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			return int64(v) << 20
		}
	}
	return 64 << 20
}
