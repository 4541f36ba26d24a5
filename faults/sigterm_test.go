package faults

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // reads the stopped service's database
)

// long skips a test unless the long fault tests were asked for.
func long(t *testing.T) {
	t.Helper()
	if os.Getenv("JOURNEYLAB_FAULT_TESTS") != "long" {
		t.Skip("a long fault test: run make test-faults (JOURNEYLAB_FAULT_TESTS=long)")
	}
}

// buildBinary builds cmd/journeylab into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "journeylab")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/journeylab/journeylab/cmd/journeylab")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// readyLog is what a poller of /readyz saw, in order.
type readyLog struct {
	mu      sync.Mutex
	answers []string // "200", "503 draining", "refused"
}

func (l *readyLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.answers); n == 0 || l.answers[n-1] != s {
		l.answers = append(l.answers, s)
	}
}

func TestSIGTERMUnderLoadDrainsThenLosesNoAcknowledgedEvent(t *testing.T) {
	long(t)
	const (
		drain   = 2 * time.Second
		workers = 8
		size    = 100
	)
	bin := buildBinary(t)
	data := t.TempDir()
	addr := freePort(t)
	base := "http://" + addr
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--listen", addr, "--dev-mode",
		"--http-drain-period", drain.String(), "--http-shutdown-timeout", "10s", "--log-level", "warn")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill() // only our own child, by its pid
			<-exited
		}
	})
	if !until(20*time.Second, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}) {
		t.Fatalf("the service did not become ready:\n%s", stderr.String())
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var mu sync.Mutex
	acked := map[string]bool{}
	afterTerm := 0 // batches acknowledged after SIGTERM was sent
	var termSent time.Time
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := &http.Client{Timeout: 15 * time.Second}
			for i := 0; ctx.Err() == nil && i < 2000; i++ {
				prefix := fmt.Sprintf("w%d-b%d", w, i)
				req, _ := http.NewRequest("POST", base+"/v1/events", strings.NewReader(string(batch(prefix, size))))
				req.Header.Set("Content-Type", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					return // the listener has closed
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					continue
				}
				mu.Lock()
				for j := range size {
					acked[fmt.Sprintf("%s-%d", prefix, j)] = true
				}
				if !termSent.IsZero() {
					afterTerm++
				}
				mu.Unlock()
			}
		})
	}
	ready := &readyLog{}
	wg.Go(func() {
		c := &http.Client{Timeout: time.Second}
		for ctx.Err() == nil {
			resp, err := c.Get(base + "/readyz")
			if err != nil {
				ready.add("refused")
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200:
				ready.add("200")
			case strings.Contains(string(body), "draining"):
				ready.add(fmt.Sprintf("%d draining", resp.StatusCode))
			default:
				ready.add(fmt.Sprintf("%d %s", resp.StatusCode, body))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	termSent = time.Now()
	mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(drain + 20*time.Second):
		t.Fatal("the service did not exit within the drain period plus 20 s")
	}
	took := time.Since(termSent)
	stop()
	wg.Wait()

	t.Run("the process exits cleanly after the drain period", func(t *testing.T) {
		if exitErr != nil {
			t.Fatalf("exit: %v\n%s", exitErr, stderr.String())
		}
		if took < drain {
			t.Fatalf("exited %v after SIGTERM, before the %v drain period", took, drain)
		}
	})
	t.Run("readiness turns red, and requests are still answered, before the listener closes", func(t *testing.T) {
		got := strings.Join(ready.answers, " -> ")
		if got != "200 -> 503 draining -> refused" {
			t.Fatalf("readyz answers %s, want 200 -> 503 draining -> refused", got)
		}
		if afterTerm == 0 {
			t.Fatal("no batch was acknowledged during the drain period")
		}
	})
	t.Run("every acknowledged event is stored", func(t *testing.T) {
		// Events are acknowledged once journaled; whatever the shutdown
		// did not merge into the store in time is merged by the next start.
		restart := exec.Command(bin, "serve", "--data-dir", data, "--listen", addr, "--dev-mode", "--http-drain-period", "0s", "--log-level", "warn")
		if err := restart.Start(); err != nil {
			t.Fatal(err)
		}
		if !until(20*time.Second, func() bool {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == 200
		}) {
			_ = restart.Process.Kill()
			_ = restart.Wait()
			t.Fatal("the restarted service did not become ready")
		}
		if err := restart.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := restart.Wait(); err != nil {
			t.Fatalf("restart exit: %v", err)
		}
		db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "journeylab.db")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.Query(`SELECT event_id FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		stored := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			stored[id] = true
		}
		missing := 0
		for id := range acked {
			if !stored[id] {
				missing++
			}
		}
		if missing > 0 || len(acked) == 0 {
			t.Fatalf("%d of %d acknowledged events are missing", missing, len(acked))
		}
		t.Logf("%d events acknowledged (%d batches during the drain), all stored; SIGTERM to exit %v", len(acked), afterTerm, took.Round(time.Millisecond))
	})
}
