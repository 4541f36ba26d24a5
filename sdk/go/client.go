package journeylab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/journeylab/journeylab/assign"
)

// Options configure a Client. BaseURL and APIKey (of scope sdk) are
// required unless the client runs from a bootstrap file only, which
// evaluates but records nothing.
type Options struct {
	// BaseURL is the server, e.g. "https://ab.example.com" (no trailing /v1).
	BaseURL string
	// APIKey is a key of scope sdk.
	APIKey string
	// HTTPClient sends the requests (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// RefreshInterval is how often the configuration is re-downloaded
	// (default 30 s; a 304 when unchanged). Negative disables the refresher.
	RefreshInterval time.Duration
	// BootstrapFile is a saved GET /v1/sdk/snapshot body. When set, New
	// starts from it and does not fail when the server is unreachable.
	BootstrapFile string
	// SaveBootstrap rewrites BootstrapFile with each downloaded snapshot.
	SaveBootstrap bool
	// FlushInterval is the longest an exposure or event waits before it is
	// sent (default 1 s).
	FlushInterval time.Duration
	// BatchSize is the most exposures or events per request (default 500,
	// at most 1000).
	BatchSize int
	// QueueSize bounds the exposures and the events waiting to be sent
	// (each; default 10000). Past it new ones are dropped and counted.
	QueueSize int
	// DedupeSize is how many (experiment, unit) pairs are remembered as
	// exposed (default 100000); an older pair is reported again, which the
	// server answers as a duplicate.
	DedupeSize int
	// MaxRetries is how often a batch is retried on 429, 503 or a network
	// error, with exponential backoff from RetryBackoff (defaults 5 and
	// 200 ms), before it is dropped and counted.
	MaxRetries   int
	RetryBackoff time.Duration
	// Logger receives refresh and delivery problems (default slog.Default()).
	Logger *slog.Logger
	// Now stamps events and exposures (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = 30 * time.Second
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.BatchSize <= 0 || o.BatchSize > 1000 {
		o.BatchSize = 500
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.DedupeSize <= 0 {
		o.DedupeSize = 100000
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 5
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Client evaluates experiments locally and reports exposures and events.
// It is safe for concurrent use.
type Client struct {
	opts Options
	log  *slog.Logger
	cfg  atomic.Pointer[config]

	// recording is false for an evaluation-only client (no BaseURL).
	recording bool
	seen      *lru.Cache[pair, struct{}]
	exposures *sender[exposure]
	events    *sender[Event]

	refreshErrors atomic.Int64

	stop      context.CancelFunc
	refresher sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// pair is one (experiment, unit) exposure, remembered so it is sent once.
type pair struct{ experiment, unit string }

// exposure is one claim of POST /v1/exposures.
type exposure struct {
	Experiment string         `json:"experiment"`
	Unit       string         `json:"unit_id"`
	Variant    string         `json:"variant"`
	TS         time.Time      `json:"ts"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// New starts a client: from the bootstrap file if one is set, then from the
// server (a download that fails is not an error when the bootstrap
// worked; the refresher tries again). Without a bootstrap the first
// download must succeed within ctx. Call Close to flush and stop.
func New(ctx context.Context, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	if opts.BaseURL == "" && opts.BootstrapFile == "" {
		return nil, errors.New("journeylab: Options.BaseURL: required (or a BootstrapFile)")
	}
	seen, err := lru.New[pair, struct{}](opts.DedupeSize)
	if err != nil {
		return nil, fmt.Errorf("journeylab: %w", err)
	}
	c := &Client{opts: opts, log: opts.Logger, seen: seen}
	var start *config
	if opts.BootstrapFile != "" {
		if start, err = loadBootstrap(opts.BootstrapFile); err != nil {
			return nil, fmt.Errorf("journeylab: %w", err)
		}
	}
	if opts.BaseURL != "" {
		cfg, err := c.fetch(ctx, "")
		switch {
		case err == nil:
			start = cfg
		case start == nil:
			return nil, fmt.Errorf("journeylab: %w", err)
		default:
			c.refreshErrors.Add(1)
			c.log.Warn("journeylab: server unreachable; starting from the bootstrap file", "error", err)
		}
	}
	c.cfg.Store(start)

	c.exposures = newSender(c, "/v1/exposures", "exposures", func(xs []exposure) {
		for _, x := range xs {
			c.seen.Remove(pair{x.Experiment, x.Unit}) // so a later Variant reports it again
		}
	})
	c.events = newSender[Event](c, "/v1/events", "events", nil)
	if opts.BaseURL == "" { // evaluation only: nowhere to report to
		c.exposures.closed.Store(true)
		c.events.closed.Store(true)
	}
	c.recording = opts.BaseURL != ""
	rctx, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	if opts.BaseURL != "" && opts.RefreshInterval > 0 {
		c.refresher.Add(1)
		go c.refreshLoop(rctx)
	}
	return c, nil
}

func (c *Client) refreshLoop(ctx context.Context) {
	defer c.refresher.Done()
	t := time.NewTicker(c.opts.RefreshInterval)
	defer t.Stop()
	var lastLog time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, c.requestTimeout())
		err := c.Refresh(rctx)
		cancel()
		if err != nil && ctx.Err() == nil && time.Since(lastLog) > time.Minute {
			lastLog = time.Now()
			c.log.Warn("journeylab: refreshing the configuration failed; still using the previous one", "error", err)
		}
	}
}

func (c *Client) authorize(r *http.Request) {
	if c.opts.APIKey != "" {
		r.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
	}
}

// Variant returns the unit's assignment in the experiment and whether the
// unit is in it, evaluated locally exactly as the server would, and records
// the exposure (once per experiment and unit, in the background). A QA
// override is returned (Forced) but never recorded. attrs are the
// targeting attributes; they are copied when an exposure is queued. ctx
// is unused today: evaluation never waits for the network.
func (c *Client) Variant(ctx context.Context, unit, experiment string, attrs map[string]any) (assign.Assignment, bool) {
	a, ok := c.Evaluate(unit, experiment, attrs)
	if ok && !a.Forced && c.recording {
		c.expose(unit, &a, attrs)
	}
	return a, ok
}

// Assign appends the unit's assignments on touchpoint ("" means every
// touchpoint) to dst and returns it, as POST /v1/assign answers them (see
// assign.Snapshot.Assign; holdout entries included), and records the
// exposures of the experiment entries that are not QA overrides. It
// evaluates all the touchpoint's experiments in one pass. Reuse dst[:0] to
// avoid allocating.
func (c *Client) Assign(ctx context.Context, unit, touchpoint string, attrs map[string]any, dst []assign.Assignment) []assign.Assignment {
	start := len(dst)
	dst = c.cfg.Load().snap.Assign(unit, touchpoint, attrs, dst)
	if c.recording {
		for i := start; i < len(dst); i++ {
			if a := &dst[i]; !a.Forced && !a.Holdout && !a.Baseline {
				c.expose(unit, a, attrs)
			}
		}
	}
	return dst
}

// Evaluate is Variant without recording the exposure, for code that
// decides whether to show the variant later (report it with Variant then).
func (c *Client) Evaluate(unit, experiment string, attrs map[string]any) (assign.Assignment, bool) {
	cfg := c.cfg.Load()
	in, ok := cfg.experiments[experiment]
	if !ok {
		return assign.Assignment{}, false
	}
	// One experiment and, at most, its layer's holdout entry.
	var buf [2]assign.Assignment
	for _, a := range cfg.single[experiment].Assign(unit, in.Touchpoint, attrs, buf[:0]) {
		if a.Experiment == experiment && !a.Holdout && !a.Baseline {
			return a, true
		}
	}
	return assign.Assignment{}, false
}

// Experiment describes the running experiment key of the configuration in
// use, or reports false when no running experiment has that key.
func (c *Client) Experiment(key string) (Info, bool) {
	in, ok := c.cfg.Load().experiments[key]
	return in, ok
}

func (c *Client) expose(unit string, a *assign.Assignment, attrs map[string]any) {
	if found, _ := c.seen.ContainsOrAdd(pair{a.Experiment, unit}, struct{}{}); found {
		return
	}
	x := exposure{Experiment: a.Experiment, Unit: unit, Variant: a.Variant, TS: c.opts.Now().UTC(), Attributes: maps.Clone(attrs)}
	if !c.exposures.enqueue(x) {
		c.seen.Remove(pair{a.Experiment, unit})
	}
}

// Event is one outcome event of POST /v1/events.
type Event struct {
	// ID makes retries idempotent; Track generates one when empty.
	ID string `json:"event_id"`
	// Unit is the unit id the experiments assigned.
	Unit string `json:"unit_id"`
	// Name is the event (metric) name, e.g. "purchase".
	Name string `json:"event"`
	// Value is the event's value (e.g. revenue); nil counts an occurrence.
	Value *float64 `json:"value,omitempty"`
	// TS is when it happened; Track sets now when zero.
	TS time.Time `json:"ts"`
	// Attributes describe the event.
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Track queues an outcome event and returns its id (generated when e.ID is
// empty; a retried batch carries the same ids, so nothing counts twice).
// It reports false when the queue is full and the event was dropped.
func (c *Client) Track(e Event) (string, bool) {
	if e.ID == "" {
		e.ID = newID()
	}
	if e.TS.IsZero() {
		e.TS = c.opts.Now().UTC()
	}
	return e.ID, c.events.enqueue(e)
}

// Stats counts what the client did not deliver, and what it did.
type Stats struct {
	// Version of the configuration in use.
	Version int64
	// RefreshErrors counts failed downloads of the configuration.
	RefreshErrors int64
	// ExposuresSent, EventsSent count items the server acknowledged.
	ExposuresSent, EventsSent int64
	// ExposuresDropped, EventsDropped count items dropped because the
	// queue was full, the retries ran out or the server refused the batch.
	ExposuresDropped, EventsDropped int64
	// ExposuresRejected, EventsRejected count items the server rejected
	// one by one (207), e.g. a variant it would not give.
	ExposuresRejected, EventsRejected int64
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{
		Version:           c.cfg.Load().version,
		RefreshErrors:     c.refreshErrors.Load(),
		ExposuresSent:     c.exposures.sent.Load(),
		EventsSent:        c.events.sent.Load(),
		ExposuresDropped:  c.exposures.dropped.Load(),
		EventsDropped:     c.events.dropped.Load(),
		ExposuresRejected: c.exposures.rejected.Load(),
		EventsRejected:    c.events.rejected.Load(),
	}
}

// Flush sends every exposure and event queued before the call and waits
// until they are delivered or given up on, or ctx ends.
func (c *Client) Flush(ctx context.Context) error {
	return errors.Join(c.exposures.flush(ctx), c.events.flush(ctx))
}

// Close stops the refresher, flushes the queues until ctx ends and stops
// the senders. Variant keeps answering after Close but records nothing.
func (c *Client) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		c.stop()
		c.refresher.Wait()
		c.closeErr = errors.Join(c.exposures.close(ctx), c.events.close(ctx))
	})
	return c.closeErr
}

// requestTimeout bounds one request of the background goroutines: the HTTP
// client's own timeout with a second to spare, or 30 s when it has none.
func (c *Client) requestTimeout() time.Duration {
	if t := c.opts.HTTPClient.Timeout; t > 0 {
		return t + time.Second
	}
	return 30 * time.Second
}
