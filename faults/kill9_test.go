package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/sqlite"
)

// loadFor is how long the mixed load runs before the kill.
const loadFor = 1500 * time.Millisecond

// child is a `journeylab serve` process this test started.
type child struct {
	cmd  *exec.Cmd
	base string
	out  *bytes.Buffer
}

// start runs `journeylab serve` on dataDir and waits until /readyz is green.
func start(t *testing.T, bin, dataDir, addr string) *child {
	t.Helper()
	s := &child{base: "http://" + addr, out: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, "serve", "--dev-mode", "--data-dir", dataDir, "--listen", addr)
	s.cmd.Dir = t.TempDir() // no journeylab.yaml is picked up
	s.cmd.Env = append(os.Environ(), "JOURNEYLAB_LOG_LEVEL=warn", "JOURNEYLAB_EXPOSURES_FLUSH_INTERVAL=50ms")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("journeylab did not become ready in 30 s:\n%s", s.out)
	return nil
}

func postTo(base, path, body string) (int, []byte, error) {
	resp, err := client.Post(base+path, "application/json", bytes.NewBufferString(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func mustPost(t *testing.T, base, path, body string) {
	t.Helper()
	code, b, err := postTo(base, path, body)
	if err != nil || code >= 300 {
		t.Fatalf("POST %s = %d %s %v", path, code, b, err)
	}
}

// ledger is what the server answered: the exposures and events it owes.
type ledger struct {
	mu sync.Mutex
	// variant by experiment and unit, from answered /v1/assign calls.
	exposed map[[2]string]string
	// value of every acknowledged event, by unit (one order per unit).
	acked map[string]float64
	// sent holds every event sent, acknowledged or not: a batch in flight
	// at the kill may be stored without its answer having arrived.
	sent map[string]float64
	// retried counts events sent again after they were acknowledged.
	retried int
}

func TestAKill9LosesNothingAnsweredAndCountsNothingTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server; skipped in -short mode")
	}
	bin := buildBinary(t)
	dataDir := t.TempDir()
	addr := freePort(t)
	srv := start(t, bin, dataDir, addr)
	for _, k := range []string{"one-page", "express-pay"} {
		mustPost(t, srv.base, "/v1/experiments", fmt.Sprintf(`{"key": %q, "name": %q, "stage": "checkout", "touchpoint": "checkout_flow",
			"variants": [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1}],
			"goal_metrics": ["revenue_per_visitor"], "secondary_metrics": ["conversion"]}`, k, k))
		mustPost(t, srv.base, "/v1/experiments/"+k+"/launch", "")
	}

	l := &ledger{exposed: map[[2]string]string{}, acked: map[string]float64{}, sent: map[string]float64{}}
	units := make(chan string, 100_000)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() { // new visitors, each asking for its variants
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				unit := fmt.Sprintf("visitor-%d-%d", w, n)
				code, b, err := postTo(srv.base, "/v1/assign", fmt.Sprintf(`{"unit_id": %q, "touchpoint": "checkout_flow"}`, unit))
				if err != nil || code != http.StatusOK {
					return // the server is gone
				}
				var resp struct {
					Assignments []struct{ Experiment, Variant string }
				}
				if err := json.Unmarshal(b, &resp); err != nil {
					t.Errorf("assign answer %s: %v", b, err)
					return
				}
				l.mu.Lock()
				for _, a := range resp.Assignments {
					l.exposed[[2]string{a.Experiment, unit}] = a.Variant
				}
				l.mu.Unlock()
				if n%2 == 0 {
					units <- unit // every other visitor orders
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() { // orders of answered visitors, each batch also sent twice
			defer wg.Done()
			for !stop.Load() {
				var batch []string
				vals := map[string]float64{}
				for len(batch) < 50 {
					select {
					case u := <-units:
						v := float64(10 + len(u)%7)
						vals[u] = v
						batch = append(batch, fmt.Sprintf(`{"event_id": "order-%s", "unit_id": %q, "event": "order_completed", "value": %v}`, u, u, v))
						continue
					case <-time.After(20 * time.Millisecond):
					}
					break
				}
				if len(batch) == 0 {
					continue
				}
				body := `{"events": [` + join(batch) + `]}`
				l.mu.Lock()
				for u, v := range vals {
					l.sent[u] = v
				}
				l.mu.Unlock()
				for attempt := range 2 {
					code, _, err := postTo(srv.base, "/v1/events", body)
					if err != nil || code != http.StatusOK {
						return
					}
					l.mu.Lock()
					if attempt == 0 {
						for u, v := range vals {
							l.acked[u] = v
						}
					} else {
						l.retried += len(vals)
					}
					l.mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(loadFor)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	stop.Store(true)
	wg.Wait()
	l.mu.Lock()
	nExposed, nAcked, nRetried := len(l.exposed), len(l.acked), l.retried
	l.mu.Unlock()
	if nExposed < 200 || nAcked < 50 || nRetried < 50 {
		t.Fatalf("only %d exposures answered, %d events acknowledged and %d retried before the kill: too little load to prove anything", nExposed, nAcked, nRetried)
	}
	t.Logf("answered before the kill: %d exposures, %d orders (%d retried)", nExposed, nAcked, nRetried)

	// Restart on the same data: the journals are merged; then a graceful
	// stop, so that the store can be opened here.
	srv2 := start(t, bin, dataDir, addr)
	if err := srv2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv2.cmd.Wait(); err != nil {
		t.Fatalf("restarted server: %v\n%s", err, srv2.out)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := map[[2]string]string{}
	for _, k := range []string{"one-page", "express-pay"} {
		if err := st.ExposureVariants(ctx, k, func(unit, variant string) error {
			stored[[2]string{k, unit}] = variant
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	lost, flipped := 0, 0
	for k, v := range l.exposed {
		got, ok := stored[k]
		switch {
		case !ok:
			lost++
		case got != v:
			flipped++
		}
	}
	if lost > 0 || flipped > 0 {
		t.Errorf("%d of %d answered exposures lost and %d stored with another variant", lost, nExposed, flipped)
	}

	var keys []events.Key
	var sentUnits []string
	for u := range l.sent {
		keys = append(keys, events.Key{Unit: u, ID: "order-" + u})
		sentUnits = append(sentUnits, u)
	}
	have, err := st.StoredEvents(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	storedOrders := map[string]float64{}
	for i, u := range sentUnits {
		if have[i] {
			storedOrders[u] = l.sent[u]
		} else if _, acked := l.acked[u]; acked {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged events lost", missing, nAcked)
	}

	// Revenue per variant must equal the stored orders of its units (every
	// acknowledged one, and those whose answer the kill cut off), each
	// once, however often it was sent; and the incremental rollups must
	// equal a rebuild from raw events.
	for _, k := range []string{"one-page", "express-pay"} {
		want := map[string]float64{}
		for u, v := range storedOrders {
			if variant, ok := stored[[2]string{k, u}]; ok {
				want[variant] += v
			}
		}
		e, err := st.GetExperiment(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.GetMetric(ctx, "revenue_per_visitor")
		if err != nil {
			t.Fatal(err)
		}
		before := cells(t, st, e, m)
		for _, c := range before {
			if c.Stats.Sum != want[c.Variant] {
				t.Errorf("%s/%s: revenue %v, want %v (the stored orders of its units, each once)", k, c.Variant, c.Stats.Sum, want[c.Variant])
			}
		}
		if err := st.Rebuild(ctx, k, nil); err != nil {
			t.Fatal(err)
		}
		if after := cells(t, st, e, m); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: incremental cells %v differ from a rebuild %v", k, before, after)
		}
	}
}

func cells(t *testing.T, st *sqlite.Store, e *experiment.Experiment, m experiment.Metric) []report.Cell {
	t.Helper()
	cs, err := st.MetricCells(context.Background(), e, m, report.CellQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func join(xs []string) string {
	var b bytes.Buffer
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x)
	}
	return b.String()
}
