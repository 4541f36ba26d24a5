// Package journal is an append-only, segmented record log on local disk:
// the first stop of journeylab's write path.
//
// Append hands its records to the kernel with one write(2) per group of
// concurrent callers before it returns, so an appended record survives a
// crash of the process (kill -9, panic, OOM kill). Surviving power loss or
// an OS crash needs the data on the device: Sync, called per append
// (Options.SyncEvery < 0) or on a timer (SyncEvery > 0), bounds what such a
// crash can cost to the records appended since the last sync.
//
// A single consumer reads the records behind its committed position, merges
// them into a store, and commits the new position; segments wholly behind
// it are deleted. Consumers must be idempotent: the committed position is
// written after the store commit and without fsync, so after a crash the
// records since the last persisted position are read again.
package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/journeylab/journeylab/groupcommit"
)

// ErrFull is returned by Append when the records not yet committed by the
// consumer would exceed Options.MaxBytes: the consumer is behind, and the
// caller must say so (backpressure) rather than drop silently.
var ErrFull = errors.New("journal: full (the consumer is behind)")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("journal: closed")

// ErrCorrupt reports a record whose checksum or length is wrong anywhere but
// at the tail of the newest segment (a torn tail is cut off at Open).
var ErrCorrupt = errors.New("journal: corrupt record")

// Pos is a position in the journal: a segment number and a byte offset in it.
type Pos struct {
	Seg uint64
	Off int64
}

// Less reports whether p is before q.
func (p Pos) Less(q Pos) bool { return p.Seg < q.Seg || (p.Seg == q.Seg && p.Off < q.Off) }

// Options tune a Journal. Zero values take the defaults.
type Options struct {
	// SegmentBytes is the size at which a new segment file is started
	// (default 64 MiB); committed segments are deleted whole.
	SegmentBytes int64
	// MaxBytes bounds the bytes appended but not yet committed (default
	// 1 GiB); Append returns ErrFull beyond it.
	MaxBytes int64
	// SyncEvery: < 0 syncs before every Append returns (survives power
	// loss); > 0 syncs on a timer of that period; 0 means 1 s.
	SyncEvery time.Duration
}

func (o Options) withDefaults() Options {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = time.Second
	}
	return o
}

// headerSize is a record's frame: 4 bytes length, 4 bytes CRC-32C of the payload.
const headerSize = 8

// maxRecord bounds one record, so a corrupt length cannot make a reader
// allocate without limit.
const maxRecord = 64 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	segmentSuffix  = ".seg"
	checkpointFile = "checkpoint"
)

// Journal is an open journal directory. Append is safe for concurrent use;
// Read and Commit belong to one consumer.
type Journal struct {
	dir  string
	opts Options

	// mu guards closed and pending.
	mu      sync.Mutex
	closed  bool
	pending int64 // bytes queued or written but not committed

	// group writes concurrent appends with one write(2).
	group groupcommit.Group[*appendReq]
	// wmu is held while writing or syncing; it guards f, end, buf, dirty.
	wmu   sync.Mutex
	f     *os.File
	end   Pos
	buf   []byte
	dirty bool

	// smu guards segs, committed and written; it is held only to read or
	// change them, never across I/O, so that appends never wait for a
	// reader. Segments a Commit deletes may still be read by a reader that
	// opened them (Linux keeps an unlinked file readable while it is open);
	// one not yet opened is skipped, since its records were merged.
	smu       sync.RWMutex
	segs      []uint64
	committed Pos
	// written is the end of the data handed to the kernel, readable.
	written Pos

	stopSync chan struct{}
	syncDone chan struct{}
}

type appendReq struct {
	recs [][]byte
	size int64
	end  Pos
}

// Open opens (or creates) the journal in dir, cuts off a torn record at the
// tail of the newest segment and loads the committed position.
func Open(dir string, opts Options) (*Journal, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create journal directory %s: %w", dir, err)
	}
	j := &Journal{dir: dir, opts: opts, stopSync: make(chan struct{}), syncDone: make(chan struct{})}
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	cp, err := readCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		segs = []uint64{max(1, cp.Seg)}
	}
	if cp.Seg < segs[0] {
		cp = Pos{Seg: segs[0]}
	}
	j.segs, j.committed = segs, cp
	last := segs[len(segs)-1]
	f, err := os.OpenFile(j.segPath(last), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open journal segment: %w", err)
	}
	valid, err := validLength(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(valid); err != nil {
		f.Close()
		return nil, fmt.Errorf("cut torn journal tail: %w", err)
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek journal end: %w", err)
	}
	j.f, j.end = f, Pos{Seg: last, Off: valid}
	j.written = j.end
	if j.end.Less(j.committed) {
		j.committed = j.end
	}
	j.pending, err = j.distance(j.committed, j.end)
	if err != nil {
		f.Close()
		return nil, err
	}
	if opts.SyncEvery > 0 {
		go j.syncLoop()
	} else {
		close(j.syncDone)
	}
	return j, nil
}

func (j *Journal) segPath(seg uint64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%020d%s", seg, segmentSuffix))
}

func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list journal %s: %w", dir, err)
	}
	var segs []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		segs = append(segs, n)
	}
	slices.Sort(segs)
	return segs, nil
}

func readCheckpoint(dir string) (Pos, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return Pos{}, nil
	}
	if err != nil {
		return Pos{}, fmt.Errorf("read journal checkpoint: %w", err)
	}
	var p Pos
	if _, err := fmt.Sscanf(string(b), "%d %d", &p.Seg, &p.Off); err != nil {
		// A checkpoint is only an optimisation (consumers are idempotent):
		// an unreadable one means reading from the oldest segment.
		return Pos{}, nil
	}
	return p, nil
}

// validLength returns the length of f's prefix made of whole, intact records.
func validLength(f *os.File) (int64, error) {
	r := &reader{f: f, limit: -1}
	for {
		_, err := r.next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, ErrCorrupt) {
				return r.off, nil
			}
			return 0, err
		}
	}
}

// distance is the number of bytes from a to b (a <= b).
func (j *Journal) distance(a, b Pos) (int64, error) {
	if a.Seg == b.Seg {
		return b.Off - a.Off, nil
	}
	var n int64
	for _, s := range j.segs {
		if s < a.Seg || s > b.Seg {
			continue
		}
		switch s {
		case a.Seg:
			st, err := os.Stat(j.segPath(s))
			if err != nil {
				return 0, fmt.Errorf("stat journal segment: %w", err)
			}
			n += st.Size() - a.Off
		case b.Seg:
			n += b.Off
		default:
			st, err := os.Stat(j.segPath(s))
			if err != nil {
				return 0, fmt.Errorf("stat journal segment: %w", err)
			}
			n += st.Size()
		}
	}
	return n, nil
}

// Append writes recs as consecutive records and returns once the kernel
// holds them (and, with SyncEvery < 0, the device). Concurrent callers are
// written together with one write(2). It returns ErrFull, writing nothing,
// when the uncommitted bytes would exceed Options.MaxBytes.
func (j *Journal) Append(recs ...[]byte) (Pos, error) {
	var size int64
	for _, r := range recs {
		if len(r) > maxRecord {
			return Pos{}, fmt.Errorf("journal: record of %d bytes is over the %d limit", len(r), maxRecord)
		}
		size += int64(headerSize + len(r))
	}
	req := &appendReq{recs: recs, size: size}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return Pos{}, ErrClosed
	}
	if j.pending+size > j.opts.MaxBytes {
		j.mu.Unlock()
		return Pos{}, ErrFull
	}
	j.pending += size
	j.mu.Unlock()
	err := j.group.Do(req, j.writeGroup)
	if err != nil {
		return Pos{}, err
	}
	return req.end, nil
}

// writeGroup frames and writes the group's records. On error none of them
// is in the journal, and their bytes no longer count as pending.
func (j *Journal) writeGroup(group []*appendReq) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	err := j.writeLocked(group)
	if err != nil {
		var failed int64
		for _, r := range group {
			failed += r.size
		}
		j.mu.Lock()
		j.pending -= failed
		j.mu.Unlock()
	}
	return err
}

func (j *Journal) writeLocked(group []*appendReq) error {
	if j.f == nil {
		return ErrClosed
	}
	if j.end.Off >= j.opts.SegmentBytes {
		if err := j.rotate(); err != nil {
			return err
		}
	}
	j.buf = j.buf[:0]
	off := j.end.Off
	for _, r := range group {
		for _, rec := range r.recs {
			j.buf = binary.LittleEndian.AppendUint32(j.buf, uint32(len(rec)))
			j.buf = binary.LittleEndian.AppendUint32(j.buf, crc32.Checksum(rec, castagnoli))
			j.buf = append(j.buf, rec...)
		}
		r.end = Pos{Seg: j.end.Seg, Off: off + int64(len(j.buf))}
	}
	if _, err := j.f.Write(j.buf); err != nil {
		// Cut whatever part was written so the file stays whole records.
		if terr := j.f.Truncate(j.end.Off); terr == nil {
			_, _ = j.f.Seek(j.end.Off, io.SeekStart)
		}
		return fmt.Errorf("append to journal: %w", err)
	}
	j.end.Off += int64(len(j.buf))
	if cap(j.buf) > 4<<20 {
		j.buf = nil // do not keep a burst's buffer forever
	}
	if j.opts.SyncEvery < 0 {
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("sync journal: %w", err)
		}
	} else {
		j.dirty = true
	}
	j.smu.Lock()
	j.written = j.end
	j.smu.Unlock()
	return nil
}

// rotate closes the current segment (synced) and starts the next one; the
// caller holds wmu.
func (j *Journal) rotate() error {
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal segment: %w", err)
	}
	next := j.end.Seg + 1
	f, err := os.OpenFile(j.segPath(next), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("start journal segment: %w", err)
	}
	if err := j.f.Close(); err != nil {
		f.Close()
		return fmt.Errorf("close journal segment: %w", err)
	}
	j.f, j.end, j.dirty = f, Pos{Seg: next}, false
	j.smu.Lock()
	j.segs = append(j.segs, next)
	j.smu.Unlock()
	return nil
}

// Sync makes every appended record durable on the device.
func (j *Journal) Sync() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if !j.dirty || j.f == nil {
		return nil
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	j.dirty = false
	return nil
}

func (j *Journal) syncLoop() {
	defer close(j.syncDone)
	t := time.NewTicker(j.opts.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = j.Sync() // a failing device shows in the next Append's write
		case <-j.stopSync:
			return
		}
	}
}

// End returns the position after the last record handed to the kernel.
func (j *Journal) End() Pos {
	j.smu.RLock()
	defer j.smu.RUnlock()
	return j.written
}

// Committed returns the consumer's committed position.
func (j *Journal) Committed() Pos {
	j.smu.RLock()
	defer j.smu.RUnlock()
	return j.committed
}

// Pending returns the bytes appended (or being appended) but not committed.
func (j *Journal) Pending() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.pending
}

// Read calls fn with the records from position from up to End, in order,
// until fn returns false or maxBytes of records were read, and returns the
// position after the last record passed to fn. rec is only valid during fn.
func (j *Journal) Read(from Pos, maxBytes int64, fn func(rec []byte) bool) (Pos, error) {
	j.smu.RLock()
	end := j.written
	segs := slices.Clone(j.segs)
	j.smu.RUnlock()
	// The read buffer (readChunk bytes) is reused: a merger reads many
	// times a second, and a fresh megabyte each time is garbage the
	// collector must keep room for.
	bufp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bufp)
	pos := from
	var read int64
	for _, seg := range segs {
		if seg < pos.Seg {
			continue
		}
		if seg > end.Seg {
			break
		}
		if seg > pos.Seg {
			pos = Pos{Seg: seg}
		}
		limit := int64(-1)
		if seg == end.Seg {
			limit = end.Off
		}
		f, err := os.Open(j.segPath(seg))
		if errors.Is(err, os.ErrNotExist) && seg < j.Committed().Seg {
			continue // merged and deleted since the list was taken
		}
		if err != nil {
			return pos, fmt.Errorf("open journal segment: %w", err)
		}
		r := &reader{f: f, off: pos.Off, limit: limit, buf: *bufp}
		for {
			rec, err := r.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return pos, fmt.Errorf("read journal segment %d at %d: %w", seg, r.off, err)
			}
			more := fn(rec)
			pos.Off = r.off
			read += int64(headerSize + len(rec))
			if !more || read >= maxBytes {
				f.Close()
				*bufp = r.buf
				return pos, nil
			}
		}
		*bufp = r.buf
		f.Close()
	}
	return pos, nil
}

// Commit records that every record before p is merged: the position is
// written to the checkpoint file and the segments wholly before it are
// deleted.
func (j *Journal) Commit(p Pos) error {
	j.smu.Lock()
	if !j.committed.Less(p) {
		j.smu.Unlock()
		return nil
	}
	freed, err := j.distance(j.committed, p)
	if err != nil {
		j.smu.Unlock()
		return err
	}
	j.committed = p
	var drop []uint64
	keep := j.segs[:0]
	for _, s := range j.segs {
		if s < p.Seg {
			drop = append(drop, s)
		} else {
			keep = append(keep, s)
		}
	}
	j.segs = keep
	j.smu.Unlock()

	j.mu.Lock()
	j.pending -= freed
	j.mu.Unlock()
	tmp := filepath.Join(j.dir, checkpointFile+".tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", p.Seg, p.Off), 0o640); err != nil {
		return fmt.Errorf("write journal checkpoint: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, checkpointFile)); err != nil {
		return fmt.Errorf("write journal checkpoint: %w", err)
	}
	for _, s := range drop {
		if err := os.Remove(j.segPath(s)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete merged journal segment: %w", err)
		}
	}
	return nil
}

// Close refuses further appends, syncs what was appended and closes the file.
// Records not yet committed stay in the journal for the next Open.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stopSync)
	<-j.syncDone
	j.wmu.Lock()
	defer j.wmu.Unlock()
	err := j.f.Sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	j.f = nil
	if err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

// readChunk is how much a reader reads with one system call.
const readChunk = 1 << 20

var readBuffers = sync.Pool{New: func() any { return new([]byte) }}

// reader walks the records of one segment file from off, up to limit (-1:
// the end of the file), reading the file in large chunks.
type reader struct {
	f     *os.File
	off   int64
	limit int64
	// chunk holds the file's bytes from chunkOff on.
	chunk    []byte
	chunkOff int64
	buf      []byte
}

// fill makes chunk cover [off, off+need) if the file has those bytes and
// returns how many of them it has.
func (r *reader) fill(need int) (int, error) {
	if r.off >= r.chunkOff && r.off+int64(need) <= r.chunkOff+int64(len(r.chunk)) {
		return need, nil
	}
	size := max(need, readChunk)
	if r.limit >= 0 {
		size = int(min(int64(size), r.limit-r.off))
	}
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	n, err := r.f.ReadAt(r.buf[:size], r.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read journal: %w", err)
	}
	r.chunk, r.chunkOff = r.buf[:n], r.off
	return min(n, need), nil
}

// next returns the next record (valid until the next call), io.EOF at the
// end, or ErrCorrupt for a torn or damaged record.
func (r *reader) next() ([]byte, error) {
	if r.limit >= 0 && r.off >= r.limit {
		return nil, io.EOF
	}
	got, err := r.fill(headerSize)
	if err != nil {
		return nil, err
	}
	if got == 0 {
		return nil, io.EOF
	}
	if got < headerSize {
		return nil, ErrCorrupt // a partial header
	}
	at := r.off - r.chunkOff
	n := binary.LittleEndian.Uint32(r.chunk[at:])
	sum := binary.LittleEndian.Uint32(r.chunk[at+4:])
	if n > maxRecord {
		return nil, ErrCorrupt
	}
	total := headerSize + int(n)
	if got, err = r.fill(total); err != nil {
		return nil, err
	}
	if got < total {
		return nil, ErrCorrupt
	}
	at = r.off - r.chunkOff
	rec := r.chunk[at+headerSize : at+int64(total)]
	if crc32.Checksum(rec, castagnoli) != sum {
		return nil, ErrCorrupt
	}
	r.off += int64(total)
	return rec, nil
}
