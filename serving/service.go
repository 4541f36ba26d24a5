package serving

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

// ConfigReader is the part of the store the refresher reads.
type ConfigReader interface {
	// ConfigVersion changes whenever an experiment or layer changes.
	ConfigVersion(ctx context.Context) (int64, error)
	// ListExperiments returns matching experiments ordered by key.
	ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error)
	// ListLayers returns every layer.
	ListLayers(ctx context.Context) ([]experiment.Layer, error)
	// ListAudit returns an experiment's audit entries, oldest first; it
	// tells whether the allocation changed after launch.
	ListAudit(ctx context.Context, key string) ([]experiment.AuditEntry, error)
	// ExposureVariants calls fn with every exposed unit of the experiment
	// and the variant key it was first exposed to.
	ExposureVariants(ctx context.Context, experimentKey string, fn func(unit, variant string) error) error
}

// ExposureWriter persists first exposures.
type ExposureWriter interface {
	// InsertExposures stores xs, keeping the first exposure per
	// (experiment, unit) pair, and returns how many rows it inserted.
	InsertExposures(ctx context.Context, xs []experiment.Exposure) (inserted int, err error)
}

// Store is everything serving needs from a backend; *sqlite.Store
// implements it.
type Store interface {
	ConfigReader
	ExposureWriter
}

// Options tune the runtime. Zero values take the defaults of
// config.Settings.
type Options struct {
	// RefreshInterval is how often the store's config version is polled
	// (default 250 ms).
	RefreshInterval time.Duration
	// FlushInterval is the longest a journaled exposure waits before the
	// merger moves it into the store (default 200 ms).
	FlushInterval time.Duration
	// BatchSize is the most exposures per store write; as many journaled
	// exposures wake the merger at once (default 5000).
	BatchSize int
	// JournalDir is the directory of the exposure journal. Empty means a
	// temporary directory removed at Close: not crash-safe, for tests.
	JournalDir string
	// JournalMaxBytes bounds the journaled exposures not yet in the store
	// (default 1 GiB); past it Assign answers but cannot record, and says so.
	JournalMaxBytes int64
	// MergeShare bounds the merger's share of one core while the journal
	// is less than half full (journal.MergerOptions.Share; default 1, no
	// bound).
	MergeShare float64
	// JournalSync is how often the journal is synced to the device (default
	// 1 s); negative syncs on every request. A process crash loses nothing
	// either way; an OS crash or power loss loses at most this period.
	JournalSync time.Duration
	// StoredAttributes says which request attributes are stored with
	// exposures (nil: all); the others are dropped before the journal.
	StoredAttributes func(name string) bool
	// StoredUnit returns the id an exposure is stored (and deduplicated)
	// under: a pseudonym of the unit id, computed once per request; nil
	// stores the id itself. Assignment always hashes the id itself.
	StoredUnit func(unitID string) string
	// DedupeSize is how many (experiment, unit) pairs the dedupe LRU
	// remembers (default 500000).
	DedupeSize int
	// Logger receives refresh and write problems (default slog.Default()).
	Logger *slog.Logger
	// Registerer receives the Prometheus series; nil registers nothing.
	Registerer prometheus.Registerer
	// Now stamps exposures (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = 250 * time.Millisecond
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.DedupeSize <= 0 {
		o.DedupeSize = 500000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// state is one immutable generation of the served configuration.
type state struct {
	version int64
	snap    *assign.Snapshot
	// variants by experiment key, to re-pin a result to a remembered
	// variant index.
	variants map[string][]assign.Variant
	// flags lists the running experiments as flags (with their
	// touchpoints, to evaluate one experiment), by key and sorted.
	flags    map[string]Flag
	flagList []Flag
	// sdk is the configuration as client SDKs download it.
	sdk *sdkView
	// pins holds the sticky variants by experiment and stored unit id
	// when stored ids are pseudonyms (Options.StoredUnit): the snapshot
	// can only look raw ids up.
	pins map[string]map[string]int
}

// Service assigns units to the running experiments and records first
// exposures. It is safe for concurrent use.
type Service struct {
	store     Store
	opts      Options
	log       *slog.Logger
	m         *metrics
	cur       atomic.Pointer[state]
	dedupe    *dedupe
	exposures *exposureLog
	// touchpoints are those of every experiment that is not archived, as
	// of the last refresh (experiment.KnownTouchpoints).
	touchpoints atomic.Pointer[[]string]

	// refreshMu serialises rebuilds and guards sticky and lastErrLog.
	refreshMu  sync.Mutex
	sticky     map[string]stickyEntry
	lastErrLog time.Time

	// ctx ends when Close is called; it stops the refresher.
	ctx       context.Context
	cancel    context.CancelFunc
	pollDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New loads the running experiments from store, builds the first snapshot
// and starts the refresher and the exposure writer. Call Close to stop them
// and flush the exposures.
func New(ctx context.Context, store Store, opts Options) (*Service, error) {
	opts = opts.withDefaults()
	d, err := newDedupe(opts.DedupeSize)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:    store,
		opts:     opts,
		log:      opts.Logger,
		m:        newMetrics(),
		dedupe:   d,
		pollDone: make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.exposures, err = newExposureLog(store, opts, s.m); err != nil {
		s.cancel()
		return nil, fmt.Errorf("start serving: %w", err)
	}
	v, err := store.ConfigVersion(ctx)
	if err == nil {
		err = s.rebuild(ctx, v)
	}
	if err == nil && opts.Registerer != nil {
		err = s.m.register(opts.Registerer, func() float64 { return float64(s.exposures.unmergedBytes()) })
	}
	if err != nil {
		s.cancel()
		_ = s.exposures.close(ctx)
		return nil, fmt.Errorf("start serving: %w", err)
	}
	s.exposures.start()
	go s.poll()
	return s, nil
}

// Version returns the store config version of the snapshot being served.
func (s *Service) Version() int64 { return s.cur.Load().version }

// Assign appends the assignments of unitID on touchpoint ("" for every
// touchpoint) to dst and returns it; reuse dst[:0] across calls. It never
// reads the store. First exposures are in the journal (the kernel holds
// them, so a process crash cannot lose them) when Assign returns; forced
// assignments and holdout entries are not. A result whose unit the dedupe
// cache remembers with another variant is re-pinned to that variant (and
// flagged Sticky).
//
// unitID and the values in attrs may be retained by the exposure log, so
// they must not be modified afterwards (ordinary Go strings never are).
func (s *Service) Assign(unitID, touchpoint string, attrs map[string]any, dst []assign.Assignment) []assign.Assignment {
	st := s.cur.Load()
	start := len(dst)
	dst = st.snap.Assign(unitID, touchpoint, attrs, dst)
	if len(dst) > start {
		stored := s.storedUnit(unitID)
		st.applyPins(stored, dst[start:])
		s.record(st, stored, attrs, dst[start:])
	}
	return dst
}

// Answer assigns the unit of a parsed request: Assign when the request
// records its exposures (the default with a touchpoint), else Evaluate.
func (s *Service) Answer(r *Request, dst []assign.Assignment) []assign.Assignment {
	if r.records() {
		return s.Assign(r.unit, r.touchpoint, r.attrs, dst)
	}
	return s.Evaluate(r.unit, r.touchpoint, r.attrs, dst)
}

// Evaluate is Assign without recording: the same answer (sticky variants
// included), but no exposure is journaled. Clients that fetch variants
// before showing them use it and report what they showed with
// RecordExposures.
func (s *Service) Evaluate(unitID, touchpoint string, attrs map[string]any, dst []assign.Assignment) []assign.Assignment {
	st := s.cur.Load()
	start := len(dst)
	dst = st.snap.Assign(unitID, touchpoint, attrs, dst)
	if len(dst) > start {
		stored := s.storedUnit(unitID)
		st.applyPins(stored, dst[start:])
		s.dedupe.peek(stored, dst[start:], st.repin)
	}
	return dst
}

// storedUnit is the id exposures of unitID are stored under.
func (s *Service) storedUnit(unitID string) string {
	if s.opts.StoredUnit == nil {
		return unitID
	}
	return s.opts.StoredUnit(unitID)
}

// applyPins re-pins the results of a unit with sticky variants kept by
// stored id (pseudonymised ids; with raw ids the snapshot applies them).
func (st *state) applyPins(stored string, as []assign.Assignment) {
	if len(st.pins) == 0 {
		return
	}
	for i := range as {
		a := &as[i]
		if a.Forced || a.Holdout || a.Baseline {
			continue
		}
		if v, ok := st.pins[a.Experiment][stored]; ok {
			st.repin(a, v)
		}
	}
}

// record dedupes the results of a unit (by its stored id), re-pins
// remembered variants and queues first exposures.
func (s *Service) record(st *state, unitID string, attrs map[string]any, as []assign.Assignment) {
	var buf [16]experiment.Exposure
	fresh := buf[:0]
	var flat map[string]string
	var now time.Time
	s.dedupe.observe(unitID, as, st.repin, func(a *assign.Assignment) {
		if now.IsZero() {
			flat = withPersonas(st.snap, attrs, s.storedAttributes(attrs))
			now = s.opts.Now().UTC()
		}
		fresh = append(fresh, experiment.Exposure{Experiment: a.Experiment, Unit: unitID, Variant: a.Variant, At: now, Attributes: flat})
	})
	if len(fresh) == 0 {
		return
	}
	if err := s.exposures.append(fresh); err != nil {
		// Not recorded: forget them so the unit's next request tries again.
		s.dedupe.forget(fresh)
		s.exposures.dropped(len(fresh), err)
	}
}

// repin replaces a's variant with variant index v of its experiment.
func (st *state) repin(a *assign.Assignment, v int) {
	vs := st.variants[a.Experiment]
	if v < 0 || v >= len(vs) {
		return
	}
	a.VariantIndex, a.Variant, a.Payload, a.Sticky = v, vs[v].Key, vs[v].Payload, true
}

// flattenAttributes turns request attributes into strings for dimension
// breakdowns: numbers in their shortest form, booleans as true/false,
// arrays joined with commas; null is left out. The result is shared by all
// exposures of one request and never modified.
func flattenAttributes(attrs map[string]any) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if v == nil {
			continue
		}
		if list, ok := v.([]any); ok {
			var b []byte
			for i, e := range list {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendScalar(b, e)
			}
			out[k] = string(b)
			continue
		}
		out[k] = string(appendScalar(nil, v))
	}
	return out
}

func appendScalar(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		return appendNumber(b, x)
	case nil:
		return b
	}
	return fmt.Append(b, v)
}

// appendNumber formats f the way JSON (and JavaScript) prints numbers:
// integers without exponent up to 1e21, shortest round-trip digits.
func appendNumber(b []byte, f float64) []byte {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// Flush merges every exposure journaled before the call into the store and
// waits for it.
func (s *Service) Flush(ctx context.Context) error {
	return s.exposures.flush(ctx)
}

// Close stops the refresher and merges the exposure journal into the store
// until ctx ends; what is left stays in the journal for the next start.
// Assign keeps answering after Close but records nothing. Close is
// idempotent.
func (s *Service) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.pollDone
		s.closeErr = s.exposures.close(ctx)
	})
	return s.closeErr
}
