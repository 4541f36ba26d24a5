package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, dir string, o Options) *Journal {
	t.Helper()
	j, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// readAll returns every record from the committed position on.
func readAll(t *testing.T, j *Journal) ([]string, Pos) {
	t.Helper()
	var out []string
	end, err := j.Read(j.Committed(), 1<<40, func(rec []byte) bool {
		out = append(out, string(rec))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, end
}

func TestJournal(t *testing.T) {
	t.Run("records read back in order across segments and reopening", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, Options{SegmentBytes: 100})
		var want []string
		for i := range 50 {
			r := fmt.Sprintf("record-%02d", i)
			want = append(want, r)
			if _, err := j.Append([]byte(r)); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := readAll(t, j)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("read %v, want %v", got, want)
		}
		segs, _ := listSegments(dir)
		if len(segs) < 8 {
			t.Errorf("%d segments, want rotation at 100 bytes to give at least 8", len(segs))
		}
		j.Close()
		j2 := open(t, dir, Options{SegmentBytes: 100})
		got, _ = readAll(t, j2)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after reopening read %v, want %v", got, want)
		}
	})

	t.Run("a commit deletes merged segments and survives reopening", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, Options{SegmentBytes: 64})
		for i := range 20 {
			if _, err := j.Append([]byte(fmt.Sprintf("r%02d", i))); err != nil {
				t.Fatal(err)
			}
		}
		var first []string
		p, err := j.Read(j.Committed(), 1<<40, func(rec []byte) bool {
			first = append(first, string(rec))
			return len(first) < 15
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Commit(p); err != nil {
			t.Fatal(err)
		}
		segs, _ := listSegments(dir)
		if segs[0] != p.Seg {
			t.Errorf("oldest segment %d after committing %v: merged segments were kept", segs[0], p)
		}
		j.Close()
		j2 := open(t, dir, Options{SegmentBytes: 64})
		got, _ := readAll(t, j2)
		if len(got) != 5 || got[0] != "r15" || got[4] != "r19" {
			t.Fatalf("after commit and reopen read %v, want r15..r19", got)
		}
		if j2.Pending() != int64(5*(headerSize+3)) {
			t.Errorf("pending %d bytes, want %d", j2.Pending(), 5*(headerSize+3))
		}
	})

	t.Run("a torn tail is cut off at open and appends continue after it", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, Options{})
		for _, r := range []string{"a", "bb", "ccc"} {
			if _, err := j.Append([]byte(r)); err != nil {
				t.Fatal(err)
			}
		}
		j.Close()
		segs, _ := listSegments(dir)
		path := filepath.Join(dir, fmt.Sprintf("%020d%s", segs[0], segmentSuffix))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		// A crash in the middle of a write: a header promising 50 bytes, 3 of them.
		if _, err := f.Write([]byte{50, 0, 0, 0, 1, 2, 3, 4, 'x', 'y', 'z'}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		j2 := open(t, dir, Options{})
		if _, err := j2.Append([]byte("dddd")); err != nil {
			t.Fatal(err)
		}
		got, _ := readAll(t, j2)
		if fmt.Sprint(got) != "[a bb ccc dddd]" {
			t.Fatalf("read %v, want [a bb ccc dddd]", got)
		}
	})

	t.Run("a flipped byte in a record is reported, not read as data", func(t *testing.T) {
		dir := t.TempDir()
		j := open(t, dir, Options{})
		for _, r := range []string{"first", "second", "third"} {
			if _, err := j.Append([]byte(r)); err != nil {
				t.Fatal(err)
			}
		}
		segs, _ := listSegments(dir)
		path := filepath.Join(dir, fmt.Sprintf("%020d%s", segs[0], segmentSuffix))
		b, _ := os.ReadFile(path)
		b[headerSize+1] ^= 0xff // inside "first"
		if err := os.WriteFile(path, b, 0o640); err != nil {
			t.Fatal(err)
		}
		_, err := j.Read(Pos{Seg: segs[0]}, 1<<40, func([]byte) bool { return true })
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})

	t.Run("appends beyond the uncommitted bound are refused until a commit frees room", func(t *testing.T) {
		j := open(t, t.TempDir(), Options{MaxBytes: 3 * (headerSize + 10)})
		rec := []byte("0123456789")
		for i := range 3 {
			if _, err := j.Append(rec); err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
		}
		if _, err := j.Append(rec); !errors.Is(err, ErrFull) {
			t.Fatalf("4th append: err = %v, want ErrFull", err)
		}
		p, err := j.Read(j.Committed(), headerSize+10, func([]byte) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Commit(p); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Append(rec); err != nil {
			t.Fatalf("append after a commit freed one record: %v", err)
		}
	})

	t.Run("concurrent appends all land exactly once", func(t *testing.T) {
		j := open(t, t.TempDir(), Options{SegmentBytes: 4096, SyncEvery: -1})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 200 {
					if _, err := j.Append([]byte(fmt.Sprintf("g%d-%d", g, i))); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		got, _ := readAll(t, j)
		seen := map[string]int{}
		for _, r := range got {
			seen[r]++
		}
		if len(got) != 1600 || len(seen) != 1600 {
			t.Fatalf("read %d records, %d distinct; want 1600 each", len(got), len(seen))
		}
	})

	t.Run("append after close is refused", func(t *testing.T) {
		j := open(t, t.TempDir(), Options{})
		j.Close()
		if _, err := j.Append([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	for _, mode := range []struct {
		name string
		sync time.Duration
	}{{"kernel", time.Second}, {"fsync-each", -1}} {
		b.Run(mode.name, func(b *testing.B) {
			j, err := Open(b.TempDir(), Options{SyncEvery: mode.sync, MaxBytes: 1 << 40})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			rec := make([]byte, 300) // about one request's 10 exposures, encoded
			b.SetBytes(int64(len(rec)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := j.Append(rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
