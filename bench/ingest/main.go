// Command ingest measures sustained event ingestion over HTTP: it starts a
// full journeylab (embedded SQLite store, synchronous=FULL) on 127.0.0.1 in a
// temporary directory, exposes units to a running experiment, then posts
// batches of events from concurrent clients until -events or -duration is
// reached, and prints events/s and batch latency percentiles.
//
//	go run ./bench/ingest                      # defaults: 4 clients, batches of 500
//	go run ./bench/ingest -events 2000000 -duration 60s -clients 8
//
// It only ever talks to 127.0.0.1 and is bounded in time and count.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

type options struct {
	events, batch, clients, units, exposed, preload int
	duration                                        time.Duration
	dataDir                                         string
}

func run() error {
	var o options
	flag.IntVar(&o.events, "events", 1_000_000, "stop after this many events")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "stop after this long")
	flag.IntVar(&o.batch, "batch", 500, "events per POST")
	flag.IntVar(&o.clients, "clients", 4, "concurrent HTTP clients")
	flag.IntVar(&o.units, "units", 200_000, "distinct unit ids the events are spread over")
	flag.IntVar(&o.exposed, "exposed", 100_000, "units exposed to the running experiment before the run")
	flag.IntVar(&o.preload, "preload", 0, "events stored directly (not measured) before the run, e.g. 1000000")
	flag.StringVar(&o.dataDir, "data-dir", "", "data directory (default: a fresh temporary one)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if o.duration > 10*time.Minute || o.events > 20_000_000 || o.preload > 20_000_000 {
		return fmt.Errorf("bounded load test: at most 10 minutes and 20M events")
	}
	if o.dataDir == "" {
		dir, err := os.MkdirTemp("", "journeylab-ingest-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dataDir = dir
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	cfg := config.Config{DataDir: o.dataDir, DevMode: true, BodyLimit: 8 << 20, MaxEventBatch: 1000,
		MaxFutureSkew: 5 * time.Minute, ShutdownWait: 5 * time.Second}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := app.New(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = a.Server.App().Listener(ln) }()
	defer a.Server.App().Shutdown()
	url := "http://" + ln.Addr().String() + "/v1/events"

	if err := setUp(ctx, a, o); err != nil {
		return err
	}
	if err := preload(ctx, a, o); err != nil {
		return err
	}
	batches := prepare(o)
	fmt.Printf("workload: %d batches of %d events over %d units (%d exposed to one experiment with 5 metrics), %d clients\n",
		len(batches), o.batch, o.units, o.exposed, o.clients)

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0, wr0 := cpuTime(), writtenBytes()
	var next atomic.Int64
	var latMu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	deadline := time.Now().Add(o.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: time.Minute}
			var mine []time.Duration
			for time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= len(batches) {
					break
				}
				t := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(batches[i]))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			latMu.Lock()
			lat = append(lat, mine...)
			latMu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, written := cpuTime()-cpu0, writtenBytes()-wr0
	if len(lat) == 0 {
		return fmt.Errorf("no batch succeeded (%d failed)", failed.Load())
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	n := len(lat) * o.batch
	fmt.Printf("sent %d events in %d batches in %s (%d failed batches)\n", n, len(lat), elapsed.Round(time.Millisecond), failed.Load())
	fmt.Printf("throughput: %.0f events/s (process CPU %.1f µs per event, server and clients together, %.2f cores busy)\n",
		float64(n)/elapsed.Seconds(), float64(cpu.Microseconds())/float64(n), cpu.Seconds()/elapsed.Seconds())
	if written > 0 {
		fmt.Printf("disk writes: %.0f bytes per event (WAL frames and checkpoints; random-key B-tree pages dominate)\n", float64(written)/float64(n))
	}
	fmt.Printf("batch latency: p50 %s  p90 %s  p99 %s  max %s\n", pct(0.50).Round(time.Microsecond),
		pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	// Acknowledged events are journaled; the merger moves them into the
	// store in the background. Report how far behind it was and how long
	// the rest took, so the sustained rate is visible too.
	staged := a.Events.StagedEvents()
	t := time.Now()
	if err := a.Events.Flush(ctx); err != nil {
		return fmt.Errorf("merge the staged events: %w", err)
	}
	drain := time.Since(t)
	fmt.Printf("merge: %d events still staged at the end, merged in %s more; store rate over the whole run %.0f events/s\n",
		staged, drain.Round(time.Millisecond), float64(n)/(elapsed+drain).Seconds())
	if failed.Load() > 0 {
		return fmt.Errorf("%d batches failed", failed.Load())
	}
	return nil
}

// setUp creates the running experiment and writes the exposures directly
// through the store in bulk (the serving path is not what is measured).
func setUp(ctx context.Context, a *app.App, o options) error {
	e := &experiment.Experiment{
		Key: "bench", Name: "ingestion benchmark", Stage: experiment.StageCheckout, Touchpoint: "checkout-page",
		Variants:         []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}},
		GoalMetrics:      []string{"conversion"},
		SecondaryMetrics: []string{"revenue_per_visitor", "average_order_value", "add_to_cart_rate", "product_views_per_visitor"},
	}
	if _, err := a.Experiment.Create(ctx, "bench", e); err != nil {
		return err
	}
	if _, err := a.Experiment.Transition(ctx, "bench", "bench", experiment.ActionLaunch); err != nil {
		return err
	}
	at := time.Now().Add(-2 * time.Hour)
	var xs []experiment.Exposure
	for u := 0; u < o.exposed; u++ {
		xs = append(xs, experiment.Exposure{Experiment: "bench", Unit: unitID(u), Variant: []string{"control", "treatment"}[u%2], At: at,
			Attributes: map[string]string{"device": []string{"mobile", "desktop", "tablet"}[u%3]}})
		if len(xs) == 5000 || u == o.exposed-1 {
			if _, err := a.Store.InsertExposures(ctx, xs); err != nil {
				return err
			}
			xs = xs[:0]
		}
	}
	return nil
}

// preload stores o.preload events directly through the store (not
// measured), over the same units, so the run starts with that many stored.
func preload(ctx context.Context, a *app.App, o options) error {
	if o.preload == 0 {
		return nil
	}
	t := time.Now()
	rng := rand.New(rand.NewPCG(5, 6))
	ts := time.Now().Add(-3 * time.Hour)
	one := 1.0
	var evs []events.Event
	for i := 0; i < o.preload; i++ {
		evs = append(evs, events.Event{EventID: fmt.Sprintf("pre-%016x", rng.Uint64()), UnitID: unitID(rng.IntN(o.units)),
			Event: "product_view", Value: &one, TS: &ts})
		if len(evs) == 10000 || i == o.preload-1 {
			if _, err := a.Store.AppendEvents(ctx, time.Now(), evs); err != nil {
				return fmt.Errorf("preload: %w", err)
			}
			evs = evs[:0]
		}
	}
	fmt.Printf("preloaded %d events in %s\n", o.preload, time.Since(t).Round(time.Second))
	return nil
}

// cpuTime is the user+system CPU time of this process so far: throughput
// depends on what else the shared machine runs, CPU per event much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writtenBytes is how many bytes this process has caused to be written to
// storage so far (Linux /proc/self/io), 0 where that is not available: with
// synchronous=FULL the disk, not the CPU, bounds a durable commit rate.
func writtenBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func unitID(u int) string { return fmt.Sprintf("visitor-%08d", u) }

type wire struct {
	EventID    string            `json:"event_id"`
	UnitID     string            `json:"unit_id"`
	Event      string            `json:"event"`
	Value      *float64          `json:"value,omitempty"`
	TS         string            `json:"ts"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// prepare encodes every batch up front so the clients spend their CPU on HTTP only.
func prepare(o options) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	nb := (o.events + o.batch - 1) / o.batch
	out := make([][]byte, 0, nb)
	id := 0
	for b := 0; b < nb; b++ {
		evs := make([]wire, o.batch)
		for i := range evs {
			id++
			// Random ids, as clients generating UUIDs send them: sequential
			// ids would flatter any index on the id.
			w := wire{EventID: fmt.Sprintf("%016x%016x", rng.Uint64(), uint64(id)), UnitID: unitID(rng.IntN(o.units)),
				TS: now.Add(-time.Duration(rng.IntN(3600)) * time.Second).UTC().Format(time.RFC3339Nano)}
			switch r := rng.IntN(100); {
			case r < 50:
				w.Event = "product_view"
				w.Attributes = map[string]string{"sku": fmt.Sprintf("sku-%d", rng.IntN(5000))}
			case r < 75:
				w.Event = "add_to_cart"
			case r < 90:
				w.Event = "order_completed"
				v := float64(rng.IntN(30000)) / 100
				w.Value = &v
			default:
				w.Event = "page_time"
				v := float64(rng.IntN(300))
				w.Value = &v
			}
			evs[i] = w
		}
		body, _ := json.Marshal(map[string]any{"events": evs})
		out = append(out, body)
	}
	return out
}
