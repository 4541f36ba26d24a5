package journeylab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	journeylab "github.com/journeylab/journeylab/sdk/go"
)

// fake is a scripted server: it serves a fixed snapshot and records the
// batches it receives; status decides the answer to each POST.
type fake struct {
	*httptest.Server
	mu        sync.Mutex
	batches   map[string][][]map[string]any // by path
	posts     map[string]int
	notMod    int
	status    func(path string, attempt int) int
	snapshot  string
	snapDown  bool
	holdPosts chan struct{}
}

const oneExperiment = `{"version":3,"experiments":[{"key":"cta","touchpoint":"checkout","coverage":1,
 "variants":[{"key":"control"},{"key":"green","payload":{"color":"green"}}],"allocation":{"ranges":null},
 "overrides":{"qa":"green"}}],"layers":[],"personas":[]}`

func newFake(t *testing.T) *fake {
	f := &fake{batches: map[string][][]map[string]any{}, posts: map[string]int{}, snapshot: oneExperiment}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/v1/sdk/snapshot" {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.snapDown {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("If-None-Match") == `"e1"` {
			f.notMod++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"e1"`)
		_, _ = io.WriteString(w, f.snapshot)
		return
	}
	if f.holdPosts != nil {
		<-f.holdPosts
	}
	var body map[string][]map[string]any
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts[r.URL.Path]++
	status := http.StatusOK
	if f.status != nil {
		status = f.status(r.URL.Path, f.posts[r.URL.Path])
	}
	for _, items := range body {
		if status == http.StatusOK {
			f.batches[r.URL.Path] = append(f.batches[r.URL.Path], items)
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"rejected":0}`)
}

// received returns the items of every accepted batch sent to path.
func (f *fake) received(path string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, b := range f.batches[path] {
		out = append(out, b...)
	}
	return out
}

func newClient(t *testing.T, opts journeylab.Options) *journeylab.Client {
	t.Helper()
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = time.Millisecond
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = time.Hour // only Flush and Close send
	}
	if opts.RefreshInterval == 0 {
		opts.RefreshInterval = -1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c, err := journeylab.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestExposures(t *testing.T) {
	ctx := context.Background()
	t.Run("a variant read many times is reported once, an override never", func(t *testing.T) {
		f := newFake(t)
		c := newClient(t, journeylab.Options{BaseURL: f.URL})
		for range 5 {
			for _, unit := range []string{"u1", "u2", "qa"} {
				if _, ok := c.Variant(ctx, unit, "cta", map[string]any{"device": "mobile"}); !ok {
					t.Fatalf("%s not in cta", unit)
				}
			}
		}
		if _, ok := c.Variant(ctx, "u1", "no-such-experiment", nil); ok {
			t.Error("an unknown experiment gave a variant")
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got := f.received("/v1/exposures")
		if len(got) != 2 || got[0]["unit_id"] != "u1" || got[1]["unit_id"] != "u2" {
			t.Fatalf("exposures sent: %v", got)
		}
		if got[0]["attributes"].(map[string]any)["device"] != "mobile" || got[0]["ts"] == nil {
			t.Errorf("an exposure lacks its attributes or ts: %v", got[0])
		}
	})
	t.Run("a batch answered 503 is retried until it is taken", func(t *testing.T) {
		f := newFake(t)
		f.status = func(_ string, attempt int) int {
			if attempt <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}
		c := newClient(t, journeylab.Options{BaseURL: f.URL})
		c.Variant(ctx, "u1", "cta", nil)
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := f.received("/v1/exposures"); len(got) != 1 || f.posts["/v1/exposures"] != 3 {
			t.Fatalf("%d posts, accepted %v", f.posts["/v1/exposures"], got)
		}
		if st := c.Stats(); st.ExposuresSent != 1 || st.ExposuresDropped != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("an exposure given up on is reported again by the next read", func(t *testing.T) {
		f := newFake(t)
		f.status = func(_ string, attempt int) int {
			if attempt <= 3 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		}
		c := newClient(t, journeylab.Options{BaseURL: f.URL, MaxRetries: 2})
		c.Variant(ctx, "u1", "cta", nil)
		_ = c.Flush(ctx)
		if st := c.Stats(); st.ExposuresDropped != 1 {
			t.Fatalf("stats %+v", st)
		}
		c.Variant(ctx, "u1", "cta", nil)
		_ = c.Flush(ctx)
		if got := f.received("/v1/exposures"); len(got) != 1 {
			t.Fatalf("accepted %v", got)
		}
	})
}

func TestEvents(t *testing.T) {
	ctx := context.Background()
	t.Run("a retried batch carries the same event ids", func(t *testing.T) {
		f := newFake(t)
		f.status = func(_ string, attempt int) int {
			if attempt == 1 {
				return http.StatusTooManyRequests
			}
			return http.StatusOK
		}
		c := newClient(t, journeylab.Options{BaseURL: f.URL})
		v := 42.5
		var ids []string
		for i := range 3 {
			id, ok := c.Track(journeylab.Event{Unit: fmt.Sprint("u", i), Name: "purchase", Value: &v})
			if !ok || len(id) != 32 {
				t.Fatalf("Track = %q, %v", id, ok)
			}
			ids = append(ids, id)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got := f.received("/v1/events")
		if f.posts["/v1/events"] != 2 || len(got) != 3 {
			t.Fatalf("%d posts, accepted %v", f.posts["/v1/events"], got)
		}
		for i, e := range got {
			if e["event_id"] != ids[i] || e["value"] != 42.5 || e["event"] != "purchase" {
				t.Errorf("event %d = %v, want id %s", i, e, ids[i])
			}
		}
	})
	t.Run("a full queue drops instead of blocking the caller", func(t *testing.T) {
		f := newFake(t)
		f.holdPosts = make(chan struct{})
		c := newClient(t, journeylab.Options{BaseURL: f.URL, QueueSize: 10, BatchSize: 5, FlushInterval: time.Millisecond})
		start := time.Now()
		dropped := 0
		for i := range 1000 {
			if _, ok := c.Track(journeylab.Event{Unit: fmt.Sprint("u", i), Name: "view"}); !ok {
				dropped++
			}
		}
		elapsed := time.Since(start)
		close(f.holdPosts)
		if dropped < 1000-10-5-5 || c.Stats().EventsDropped != int64(dropped) {
			t.Errorf("dropped %d of 1000 with room for 20, stats %+v", dropped, c.Stats())
		}
		t.Logf("1000 Track calls against a stalled server took %v", elapsed)
	})
	t.Run("Close sends what is queued", func(t *testing.T) {
		f := newFake(t)
		c := newClient(t, journeylab.Options{BaseURL: f.URL, BatchSize: 7})
		for i := range 50 {
			c.Track(journeylab.Event{Unit: fmt.Sprint("u", i), Name: "view"})
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := f.received("/v1/events"); len(got) != 50 {
			t.Fatalf("%d events sent, want 50", len(got))
		}
		if _, ok := c.Track(journeylab.Event{Unit: "late", Name: "view"}); ok {
			t.Error("Track after Close reported it queued the event")
		}
	})
}

func TestConfiguration(t *testing.T) {
	ctx := context.Background()
	t.Run("an unchanged configuration is answered 304", func(t *testing.T) {
		f := newFake(t)
		c := newClient(t, journeylab.Options{BaseURL: f.URL})
		for range 3 {
			if err := c.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if f.notMod != 3 || c.Stats().Version != 3 {
			t.Errorf("%d answers 304, version %d", f.notMod, c.Stats().Version)
		}
	})
	t.Run("the last good configuration stays when the server fails", func(t *testing.T) {
		f := newFake(t)
		c := newClient(t, journeylab.Options{BaseURL: f.URL})
		f.mu.Lock()
		f.snapDown = true
		f.mu.Unlock()
		if err := c.Refresh(ctx); err == nil {
			t.Fatal("Refresh against a failing server succeeded")
		}
		if a, ok := c.Evaluate("qa", "cta", nil); !ok || a.Variant != "green" || !a.Forced {
			t.Errorf("after a failed refresh: %+v %v", a, ok)
		}
		if c.Stats().RefreshErrors != 1 {
			t.Errorf("stats %+v", c.Stats())
		}
	})
	t.Run("a bootstrap file starts the client without the server", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "snapshot.json")
		if err := os.WriteFile(file, []byte(oneExperiment), 0o600); err != nil {
			t.Fatal(err)
		}
		f := newFake(t)
		f.Close() // nothing listens there any more
		c := newClient(t, journeylab.Options{BaseURL: f.URL, BootstrapFile: file})
		if a, ok := c.Evaluate("qa", "cta", nil); !ok || a.Variant != "green" {
			t.Errorf("from the bootstrap: %+v %v", a, ok)
		}
		if _, err := journeylab.New(ctx, journeylab.Options{BaseURL: f.URL}); err == nil {
			t.Error("New without a server or a bootstrap succeeded")
		}
	})
	t.Run("a downloaded snapshot is saved as the next bootstrap", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "snapshot.json")
		if err := os.WriteFile(file, []byte(`{"version":1,"experiments":[]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		f := newFake(t)
		newClient(t, journeylab.Options{BaseURL: f.URL, BootstrapFile: file, SaveBootstrap: true})
		if b, err := os.ReadFile(file); err != nil || string(b) != oneExperiment {
			t.Errorf("bootstrap file now %q, %v", b, err)
		}
	})
	t.Run("a bad bootstrap file is an error naming it", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "snapshot.json")
		if err := os.WriteFile(file, []byte(`{"experiments":[{"key":"x"}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := journeylab.New(ctx, journeylab.Options{BootstrapFile: file})
		if err == nil {
			t.Fatal("New accepted an experiment without a touchpoint")
		}
		t.Log(err)
	})
}

func TestConcurrentUse(t *testing.T) {
	f := newFake(t)
	c := newClient(t, journeylab.Options{BaseURL: f.URL, FlushInterval: time.Millisecond, BatchSize: 10})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				unit := fmt.Sprint("u", i)
				c.Variant(ctx, unit, "cta", map[string]any{"g": g})
				c.Track(journeylab.Event{Unit: unit, Name: "view"})
				if i%50 == 0 {
					_ = c.Refresh(ctx)
				}
			}
		}()
	}
	wg.Wait()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	// Each (experiment, unit) pair is sent once, though eight goroutines
	// read it; every event is sent.
	if st.ExposuresSent != 200 || st.EventsSent != 1600 || st.ExposuresDropped+st.EventsDropped != 0 {
		t.Errorf("stats %+v", st)
	}
}
