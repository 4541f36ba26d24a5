// Package faults holds fault tests of a whole journeylab service on
// 127.0.0.1: a full disk, a read-only store and SIGTERM under load. Each is
// bounded in time and requests and stops what it started. The disk tests
// mount a small tmpfs, so they need root (they skip otherwise, saying so);
// they are quick and run in `make test`. The SIGTERM test builds and runs
// the binary and runs with `make test-faults` (JOURNEYLAB_FAULT_TESTS=long).
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/config"
)

// mountTmpfs mounts a tmpfs of sizeMB at a temporary directory for the test.
func mountTmpfs(t *testing.T, sizeMB int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs as a full or read-only disk")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", sizeMB), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

func remount(t *testing.T, dir, mode string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+mode, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", dir, mode, err, out)
	}
}

// service is a journeylab app serving on 127.0.0.1 in dev mode (no keys).
type service struct {
	app  *app.App
	base string
}

func startService(t *testing.T, dataDir string) *service {
	t.Helper()
	v := config.New("")
	v.Set("data_dir", dataDir)
	v.Set("dev_mode", true)
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Server.App().Listener(ln) }()
	t.Cleanup(func() {
		_ = a.Server.App().ShutdownWithTimeout(5 * time.Second)
		// Bounded like a real shutdown: with the disk still failing, the
		// journals' merge would otherwise retry until the context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	return &service{app: a, base: "http://" + ln.Addr().String()}
}

var client = &http.Client{Timeout: 20 * time.Second}

// answer is one HTTP answer.
type answer struct {
	status     int
	retryAfter string
	body       string
}

func (s *service) do(t *testing.T, method, path string, body []byte) answer {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(raw)}
}

// batch is a POST /v1/events body of n events with ids prefix-0 .. prefix-(n-1).
func batch(prefix string, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	pad := strings.Repeat("p", 800)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"event_id":"%s-%d","unit_id":"u-%s-%d","event":"page_view","attributes":{"pad":"%s"}}`, prefix, i, prefix, i%50, pad)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// accepted reads the accepted count of a 200 answer to POST /v1/events.
func accepted(t *testing.T, a answer) int {
	t.Helper()
	var r struct {
		Accepted int `json:"accepted"`
	}
	if err := json.Unmarshal([]byte(a.body), &r); err != nil {
		t.Fatalf("events answer %d %q: %v", a.status, a.body, err)
	}
	return r.Accepted
}

// until polls fn every 100 ms for up to limit; it reports whether fn said yes.
func until(limit time.Duration, fn func() bool) bool {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if fn() {
			return true
		}
	}
	return false
}

// checkUnavailable asserts a 503 with Retry-After in the API's error format.
func checkUnavailable(t *testing.T, a answer) {
	t.Helper()
	if a.status != http.StatusServiceUnavailable || a.retryAfter == "" || !strings.Contains(a.body, `"code":"unavailable"`) {
		t.Fatalf("answer %d (Retry-After %q) %s, want 503 unavailable with Retry-After", a.status, a.retryAfter, a.body)
	}
}

func walSize(t *testing.T, dataDir string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dataDir, "journeylab.db-wal"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// walBound is the README's bound on the WAL: 16 MiB after a checkpoint plus
// one transaction (a 1000-event batch is well under 4 MiB).
const walBound = 20 << 20

func TestAFullDiskAnswers503AndTheServiceRecoversWhenSpaceReturns(t *testing.T) {
	// 96 MB with 40 MB taken by another file: 56 MB for the event journal
	// and the store, so that a WAL without a bound would hold everything
	// merged (as it did with a 40 MB checkpoint threshold) and could never
	// be checkpointed; removing the file frees more than the journal's
	// unmerged backlog needs in the store.
	dir := mountTmpfs(t, 96)
	data := filepath.Join(dir, "data")
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 40<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startService(t, data)
	if a := s.do(t, "GET", "/readyz", nil); a.status != 200 {
		t.Fatalf("readyz before the disk is full: %d %s", a.status, a.body)
	}
	stored := 0
	var full answer
	for i := 0; i < 1000; i++ {
		a := s.do(t, "POST", "/v1/events", batch(fmt.Sprintf("fill%d", i), 200))
		if a.status != 200 {
			full = a
			break
		}
		stored += accepted(t, a)
	}
	t.Logf("%d events stored before the disk was full; WAL %.1f MiB", stored, float64(walSize(t, data))/(1<<20))
	t.Run("a write to the full disk answers 503 with Retry-After", func(t *testing.T) {
		checkUnavailable(t, full)
	})
	t.Run("the WAL stayed bounded while the disk filled", func(t *testing.T) {
		if w := walSize(t, data); w > walBound {
			t.Fatalf("WAL %d MiB, bound %d MiB", w>>20, walBound>>20)
		}
	})
	t.Run("readiness is red while the disk is full", func(t *testing.T) {
		if !until(10*time.Second, func() bool { return s.do(t, "GET", "/readyz", nil).status == 503 }) {
			t.Fatal("readyz stayed green on a full disk")
		}
	})
	t.Run("liveness stays green", func(t *testing.T) {
		if a := s.do(t, "GET", "/healthz", nil); a.status != 200 {
			t.Fatalf("healthz %d", a.status)
		}
	})
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	t.Run("writes succeed again once space returns, without a restart", func(t *testing.T) {
		n := 0
		ok := until(30*time.Second, func() bool {
			n++
			a := s.do(t, "POST", "/v1/events", batch(fmt.Sprintf("after%d", n), 200))
			return a.status == 200 && accepted(t, a) == 200
		})
		if !ok {
			t.Fatal("the service did not recover within 30 s of space returning")
		}
		if !until(10*time.Second, func() bool { return s.do(t, "GET", "/readyz", nil).status == 200 }) {
			t.Fatal("readyz stayed red after recovery")
		}
	})
	t.Run("the WAL stays within its bound after recovery", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			if a := s.do(t, "POST", "/v1/events", batch(fmt.Sprintf("more%d", i), 200)); a.status != 200 {
				t.Fatalf("write after recovery: %d %s", a.status, a.body)
			}
		}
		if err := s.app.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if w := walSize(t, data); w > walBound {
			t.Fatalf("WAL %d MiB, bound %d MiB", w>>20, walBound>>20)
		}
	})
}

// mountExt4 mounts a small ext4 image on a loop device with
// errors=remount-ro, the common setting that turns a file system read-only
// under running processes when the kernel meets an error. It returns the
// mount point and the file that triggers such an error.
func mountExt4(t *testing.T) (dir, trigger string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount an ext4 image on a loop device")
	}
	img := filepath.Join(t.TempDir(), "store.img")
	dir = t.TempDir()
	for _, cmd := range [][]string{{"truncate", "-s", "40M", img}, {"mkfs.ext4", "-q", "-F", img}} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Skipf("cannot make an ext4 image here (%s: %v: %s)", cmd[0], err, out)
		}
	}
	if out, err := exec.Command("mount", "-o", "loop,errors=remount-ro", img, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a loop device here (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	src, err := exec.Command("findmnt", "-n", "-o", "SOURCE", dir).Output()
	if err != nil {
		t.Skipf("findmnt: %v", err)
	}
	trigger = filepath.Join("/sys/fs/ext4", filepath.Base(strings.TrimSpace(string(src))), "trigger_fs_error")
	if _, err := os.Stat(trigger); err != nil {
		t.Skipf("this kernel has no %s", trigger)
	}
	return dir, trigger
}

func TestAStoreWhoseFileSystemTurnsReadOnlyAnswers503(t *testing.T) {
	dir, trigger := mountExt4(t)
	s := startService(t, filepath.Join(dir, "data"))
	if a := s.do(t, "POST", "/v1/events", batch("before", 10)); a.status != 200 {
		t.Fatalf("write before: %d %s", a.status, a.body)
	}
	// What the kernel does on a disk error with errors=remount-ro: the file
	// system turns read-only under the open database. (Linux refuses a plain
	// remount,ro while a file is open for writing.)
	if err := os.WriteFile(trigger, []byte("journeylab fault test\n"), 0o200); err != nil {
		t.Fatal(err)
	}
	t.Run("an event write answers 503 with Retry-After", func(t *testing.T) {
		checkUnavailable(t, s.do(t, "POST", "/v1/events", batch("ro", 10)))
	})
	t.Run("a management write answers 503 too", func(t *testing.T) {
		checkUnavailable(t, s.do(t, "POST", "/v1/metrics", []byte(`{"key":"ro_metric","stage":"checkout","kind":"binomial","direction":"up","event":"x"}`)))
	})
	t.Run("readiness is red, naming what cannot write", func(t *testing.T) {
		if a := s.do(t, "GET", "/readyz", nil); a.status != 503 || !strings.Contains(a.body, "journal") {
			t.Fatalf("readyz %d %s", a.status, a.body)
		}
	})
	t.Run("reads and assignment still answer", func(t *testing.T) {
		if a := s.do(t, "GET", "/v1/experiments", nil); a.status != 200 {
			t.Fatalf("list %d %s", a.status, a.body)
		}
		if a := s.do(t, "POST", "/v1/assign", []byte(`{"unit_id":"u-1","touchpoint":"checkout"}`)); a.status != 200 {
			t.Fatalf("assign %d %s", a.status, a.body)
		}
	})
}
