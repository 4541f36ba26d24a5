package events

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journal"
)

// StagingBackend is the store that staged events are merged into.
type StagingBackend interface {
	Store
	// StoredEvents reports, for each key, whether the store holds an event
	// with that unit and event id.
	StoredEvents(ctx context.Context, keys []Key) ([]bool, error)
}

// StagingOptions tune a Staging. Zero values take the defaults.
type StagingOptions struct {
	// MaxBytes bounds the journaled events not yet merged into the store
	// (default 256 MiB); past it AppendEvents answers ErrUnavailable (503
	// with Retry-After) until the merger catches up.
	MaxBytes int64
	// MergeBatch is the most events per store write (default 20000).
	MergeBatch int
	// MergeInterval is the longest an event waits before a merge (default 200 ms).
	MergeInterval time.Duration
	// Logger receives merge problems (default slog.Default()).
	Logger *slog.Logger
}

// Staging is the event write path: it implements Store by deciding, per
// event, whether it is new (not staged and not stored), appending the new
// ones to a journal that is synced to the device before AppendEvents
// returns, and merging the journal into the store in large batches in the
// background. Acknowledged therefore still means durable (power loss
// included), but the cost per event is an append and an index probe that
// runs beside the store's writer, not a random-key insert in the request.
//
// Duplicates: an event id is answered duplicate when the store holds it
// (forever, not only for a window) or when it is staged. The staged set
// holds a 128-bit hash per journaled, unmerged event, so its memory is
// bounded by MaxBytes (about 40 bytes per event). A key is taken out of the
// staged set only after the store committed it, and it is looked up in the
// staged set before the store, so no event is ever in neither. The store's
// unique index is the last guard: an event merged twice counts once.
type Staging struct {
	st     StagingBackend
	j      *journal.Journal
	merger *journal.Merger
	opts   StagingOptions
	seeds  [2]maphash.Seed

	// mu guards staged: the keys journaled or claimed, not yet merged.
	mu     sync.Mutex
	staged map[stagedKey]struct{}

	merged atomic.Int64
}

type stagedKey [2]uint64

// OpenStaging opens (or creates) the staging journal in dir, loads the keys
// of the events it holds unmerged (left by a crash or a shutdown deadline),
// and starts merging them into st.
func OpenStaging(dir string, st StagingBackend, opts StagingOptions) (*Staging, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 256 << 20
	}
	if opts.MergeBatch <= 0 {
		opts.MergeBatch = 20000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	j, err := journal.Open(dir, journal.Options{MaxBytes: opts.MaxBytes, SyncEvery: -1})
	if err != nil {
		return nil, fmt.Errorf("open event staging journal: %w", err)
	}
	s := &Staging{st: st, j: j, opts: opts, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, staged: map[stagedKey]struct{}{}}
	var evs []Event
	_, err = j.Read(j.Committed(), math.MaxInt64, func(rec []byte) bool {
		// A record that does not decode is skipped (and logged) by the merger.
		evs, _ = decodeEvents(evs[:0], rec)
		for i := range evs {
			s.staged[s.key(evs[i].UnitID, evs[i].EventID)] = struct{}{}
		}
		return true
	})
	if err != nil {
		j.Close()
		return nil, fmt.Errorf("replay event staging journal: %w", err)
	}
	s.merger = journal.NewMerger(j, &stagingBatch{s: s}, journal.MergerOptions{
		Interval: opts.MergeInterval, Name: "events", Logger: opts.Logger, WakeEvery: opts.MergeBatch,
	})
	s.merger.Start()
	return s, nil
}

func (s *Staging) key(unit, id string) stagedKey {
	var h [2]uint64
	for i := range h {
		var m maphash.Hash
		m.SetSeed(s.seeds[i])
		m.WriteString(unit)
		m.WriteByte(0)
		m.WriteString(id)
		h[i] = m.Sum64()
	}
	return h
}

// AppendEvents implements Store: evs (Value and TS set) that are new are
// journaled and synced before it returns; stored[i] is false for a
// duplicate. An error means none of evs was recorded.
func (s *Staging) AppendEvents(ctx context.Context, received time.Time, evs []Event) ([]bool, error) {
	stored := make([]bool, len(evs))
	// The keys are hashed before the lock: every batch of every client
	// takes it.
	keys := make([]stagedKey, len(evs))
	for i := range evs {
		if evs[i].Value == nil || evs[i].TS == nil {
			return nil, &experiment.ValidationError{Field: fmt.Sprintf("events[%d]", i), Message: "value and ts must be set (events.Normalize fills them)"}
		}
		keys[i] = s.key(evs[i].UnitID, evs[i].EventID)
	}
	var claimed []int
	s.mu.Lock()
	for i, k := range keys {
		if _, dup := s.staged[k]; dup {
			continue // staged, or earlier in this batch
		}
		s.staged[k] = struct{}{}
		claimed = append(claimed, i)
	}
	s.mu.Unlock()
	if len(claimed) == 0 {
		return stored, nil
	}
	probe := make([]Key, len(claimed))
	for j, i := range claimed {
		probe[j] = Key{Unit: evs[i].UnitID, ID: evs[i].EventID}
	}
	inStore, err := s.st.StoredEvents(ctx, probe)
	if err != nil {
		s.unclaim(keys, claimed)
		return nil, fmt.Errorf("look up stored event ids: %w", err)
	}
	fresh := make([]Event, 0, len(claimed))
	var known []int
	for j, i := range claimed {
		if inStore[j] {
			known = append(known, i)
			continue
		}
		ev := evs[i]
		ev.Received = received
		fresh = append(fresh, ev)
		stored[i] = true
	}
	if len(known) > 0 {
		s.unclaim(keys, known)
	}
	if len(fresh) == 0 {
		return stored, nil
	}
	rec, err := appendEvents(nil, fresh)
	if err == nil {
		_, err = s.j.Append(rec)
	}
	if err != nil {
		var mine []int
		for i := range stored {
			if stored[i] {
				mine = append(mine, i)
			}
		}
		s.unclaim(keys, mine)
		if errors.Is(err, journal.ErrFull) {
			return nil, fmt.Errorf("event staging journal full, the store is behind: %w", experiment.ErrUnavailable)
		}
		return nil, fmt.Errorf("journal %d events: %w", len(fresh), err)
	}
	s.merger.Appended(len(fresh))
	return stored, nil
}

// unclaim takes the keys at the given positions out of the staged set.
func (s *Staging) unclaim(keys []stagedKey, at []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range at {
		delete(s.staged, keys[i])
	}
}

// StagedEvents returns how many events are journaled but not yet merged.
func (s *Staging) StagedEvents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.staged)
}

// StagedBytes returns the journal bytes not yet merged into the store.
func (s *Staging) StagedBytes() int64 { return s.j.Pending() }

// MergedEvents returns how many events the merger handed to the store.
func (s *Staging) MergedEvents() int64 { return s.merged.Load() }

// Flush merges every event staged before the call into the store.
func (s *Staging) Flush(ctx context.Context) error { return s.merger.Flush(ctx) }

// Close merges what it can until ctx ends and closes the journal; events
// not merged by then stay journaled and are merged at the next start.
func (s *Staging) Close(ctx context.Context) error {
	s.merger.Stop(ctx)
	return s.j.Close()
}

// stagingBatch collects journaled events for one store write.
type stagingBatch struct {
	s   *Staging
	evs []Event
}

func (b *stagingBatch) Add(rec []byte) (bool, error) {
	var err error
	b.evs, err = decodeEvents(b.evs, rec)
	return len(b.evs) < b.s.opts.MergeBatch, err
}

func (b *stagingBatch) Len() int { return len(b.evs) }

func (b *stagingBatch) Reset() {
	clear(b.evs)
	b.evs = b.evs[:0]
}

// Write stores the batch sorted by unit and event id, so the store's index
// is written in key order. The order changes only the storage sequence
// within the batch; rollups are folds in storage order and a rebuild
// follows the same order. Then the keys leave the staged set.
func (b *stagingBatch) Write(ctx context.Context) error {
	slices.SortStableFunc(b.evs, func(x, y Event) int {
		return cmp.Or(cmp.Compare(x.UnitID, y.UnitID), cmp.Compare(x.EventID, y.EventID))
	})
	if _, err := b.s.st.AppendEvents(ctx, time.Time{}, b.evs); err != nil {
		return err
	}
	b.s.merged.Add(int64(len(b.evs)))
	b.s.mu.Lock()
	for i := range b.evs {
		delete(b.s.staged, b.s.key(b.evs[i].UnitID, b.evs[i].EventID))
	}
	b.s.mu.Unlock()
	return nil
}

// Journal record of a batch of acknowledged events:
//
//	version byte (1)
//	n       uvarint count, then per event: received and ts (varint Unix ns),
//	        value (8 bytes, IEEE 754), unit, event id, event name and the
//	        attributes as JSON (empty for none), each a uvarint length and bytes.
const eventRecordVersion = 1

var errBadEventRecord = errors.New("malformed event record")

// appendEvents encodes evs (Value, TS and Received set) to b.
func appendEvents(b []byte, evs []Event) ([]byte, error) {
	b = append(b, eventRecordVersion)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for i := range evs {
		ev := &evs[i]
		b = binary.AppendVarint(b, ev.Received.UnixNano())
		b = binary.AppendVarint(b, ev.TS.UnixNano())
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*ev.Value))
		for _, s := range []string{ev.UnitID, ev.EventID, ev.Event} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		var attrs []byte
		if len(ev.Attributes) > 0 {
			var err error
			if attrs, err = json.Marshal(ev.Attributes); err != nil {
				return nil, fmt.Errorf("encode attributes of event %q: %w", ev.EventID, err)
			}
		}
		b = binary.AppendUvarint(b, uint64(len(attrs)))
		b = append(b, attrs...)
	}
	return b, nil
}

// decodeEvents appends the events of record rec to dst; on error dst is
// returned unchanged.
func decodeEvents(dst []Event, rec []byte) ([]Event, error) {
	start := len(dst)
	fail := func(what string) ([]Event, error) {
		clear(dst[start:])
		return dst[:start], fmt.Errorf("%w: %s", errBadEventRecord, what)
	}
	if len(rec) == 0 || rec[0] != eventRecordVersion {
		return fail("version")
	}
	r := rec[1:]
	n, k := binary.Uvarint(r)
	if k <= 0 || n > uint64(len(r)) {
		return fail("count")
	}
	r = r[k:]
	varint := func() (int64, bool) {
		v, k := binary.Varint(r)
		if k <= 0 {
			return 0, false
		}
		r = r[k:]
		return v, true
	}
	bytesField := func() ([]byte, bool) {
		l, k := binary.Uvarint(r)
		if k <= 0 || l > uint64(len(r)-k) {
			return nil, false
		}
		v := r[k : k+int(l)]
		r = r[k+int(l):]
		return v, true
	}
	for range n {
		recv, ok1 := varint()
		ts, ok2 := varint()
		if !ok1 || !ok2 || len(r) < 8 {
			return fail("times")
		}
		value := math.Float64frombits(binary.LittleEndian.Uint64(r))
		r = r[8:]
		unit, ok1 := bytesField()
		id, ok2 := bytesField()
		name, ok3 := bytesField()
		attrs, ok4 := bytesField()
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return fail("fields")
		}
		t := time.Unix(0, ts).UTC()
		ev := Event{UnitID: string(unit), EventID: string(id), Event: string(name), Value: &value, TS: &t, Received: time.Unix(0, recv).UTC()}
		if len(attrs) > 0 {
			d := json.NewDecoder(bytes.NewReader(attrs))
			d.UseNumber()
			if err := d.Decode(&ev.Attributes); err != nil {
				return fail("attributes")
			}
		}
		dst = append(dst, ev)
	}
	if len(r) != 0 {
		return fail("trailing bytes")
	}
	return dst, nil
}
