package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/auth"
)

// memKeys is an in-memory auth.KeyStore.
type memKeys struct {
	mu   sync.Mutex
	keys map[string]auth.Key
}

func (m *memKeys) CreateKey(_ context.Context, k auth.Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys[k.ID] = k
	return nil
}

func (m *memKeys) GetKey(_ context.Context, id string) (auth.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return auth.Key{}, auth.ErrUnknownKey
	}
	return k, nil
}

func (m *memKeys) ListKeys(context.Context) ([]auth.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []auth.Key
	for _, k := range m.keys {
		out = append(out, k)
	}
	return out, nil
}

func (m *memKeys) RevokeKey(_ context.Context, id string, at time.Time, actor string) (auth.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return auth.Key{}, auth.ErrUnknownKey
	}
	if k.RevokedAt == nil {
		k.RevokedAt, k.RevokedBy = &at, actor
		m.keys[id] = k
	}
	return k, nil
}

// keyedServer returns a server that checks keys, with one key of each
// scope; tokens maps scope to token.
func keyedServer(t *testing.T, opts Options) (*Server, map[auth.Scope]string) {
	t.Helper()
	keys := &memKeys{keys: map[string]auth.Key{}}
	tokens := map[auth.Scope]string{}
	for _, sc := range []auth.Scope{auth.ScopeSDK, auth.ScopeAdmin, auth.ScopeRead} {
		k, tok, err := auth.Generate(string(sc), sc, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		_ = keys.CreateKey(context.Background(), k)
		tokens[sc] = tok
	}
	opts.Verifier = auth.NewVerifier(keys, time.Minute)
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(opts), tokens
}

// listen serves s on a loopback port until the test ends.
func listen(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.App().Listener(ln) }()
	t.Cleanup(func() { _ = s.App().ShutdownWithTimeout(5 * time.Second) })
	return ln.Addr().String()
}

// heapBytes is the live and not-yet-collected heap.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestBodiesInFlightStayUnderTheCap(t *testing.T) {
	const (
		limit    = 1 << 20
		inflight = 4 << 20
		clients  = 128
	)
	s, tokens := keyedServer(t, Options{BodyLimit: limit, MaxInflightBytes: inflight})
	var held, peak atomic.Int64
	s.V1().Post("/sink", s.Require(auth.ScopeSDK), func(c *fiber.Ctx) error {
		n := int64(len(c.Body()))
		now := held.Add(n)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		held.Add(-n)
		return c.SendString(fmt.Sprint(n))
	})
	addr := listen(t, s)

	// One shared body: the clients add no heap of their own per request.
	body := bytes.Repeat([]byte("x"), limit)
	base := heapBytes()
	var heapPeak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				if h := heapBytes(); h > heapPeak.Load() {
					heapPeak.Store(h)
				}
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: clients, MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	statuses := make([]int, clients)
	for i := range clients {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", "http://"+addr+"/v1/sink", bytes.NewReader(body))
			req.Header.Set("X-API-Key", tokens[auth.ScopeSDK])
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	close(stop)
	<-sampled

	t.Run("every body is handled", func(t *testing.T) {
		for i, st := range statuses {
			if st != 200 {
				t.Fatalf("request %d: status %d", i, st)
			}
		}
	})
	t.Run("bodies held by handlers never exceed the cap", func(t *testing.T) {
		if p := peak.Load(); p > inflight || p < limit {
			t.Fatalf("peak %d body bytes in handlers, want between %d and the cap %d", p, limit, inflight)
		}
	})
	t.Run("the heap grows by the cap plus buffers, not by every body", func(t *testing.T) {
		// Without the cap the 128 bodies would be read at once: 128 MiB. The
		// slack covers garbage the collector has not yet reclaimed.
		grew := int64(heapPeak.Load()) - int64(base)
		if bound := int64(inflight + 32<<20); grew > bound {
			t.Fatalf("heap grew %d MiB, bound %d MiB", grew>>20, bound>>20)
		}
		t.Logf("heap grew at most %.1f MiB for %d concurrent 1 MiB bodies (cap %d MiB)", float64(grew)/(1<<20), clients, inflight>>20)
	})
}

// rawRequest writes a request with a large announced body but sends only
// the first 8 KiB and one byte (what the server reads with the headers),
// then reads the answer: the server must answer without waiting for the
// rest, and close the connection.
func rawRequest(t *testing.T, addr, headers string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /v1/sink HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n", 1<<20, headers)
	if _, err := conn.Write(make([]byte, 8<<10+1)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(raw)
}

func TestRequestsAreRefusedBeforeTheirBodyIsRead(t *testing.T) {
	s, tokens := keyedServer(t, Options{BodyLimit: 2 << 20})
	s.V1().Post("/sink", s.Require(auth.ScopeSDK), func(c *fiber.Ctx) error { return c.SendString(fmt.Sprint(len(c.Body()))) })
	addr := listen(t, s)
	cases := []struct {
		name    string
		headers string
		status  int
		code    string
	}{
		{"a request without a key", "", 401, "unauthenticated"},
		{"a request with an unknown key", "X-API-Key: jl_000000000000_" + strings.Repeat("0", 64) + "\r\n", 401, "unauthenticated"},
		{"a request whose key lacks the scope", "X-API-Key: " + tokens[auth.ScopeRead] + "\r\n", 403, "forbidden"},
		{"a compressed body", "X-API-Key: " + tokens[auth.ScopeSDK] + "\r\nContent-Encoding: gzip\r\n", 415, "unsupported_encoding"},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name+" without reading its body", func(t *testing.T) {
			resp, raw := rawRequest(t, addr, tc.headers)
			if resp.StatusCode != tc.status || !strings.Contains(raw, tc.code) {
				t.Fatalf("status %d %s, want %d %s", resp.StatusCode, raw, tc.status, tc.code)
			}
			if !resp.Close {
				t.Fatal("the connection stays open with the unread body on it")
			}
		})
	}
	t.Run("refuses a chunked body with 411", func(t *testing.T) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/sink", io.MultiReader(strings.NewReader("{}")))
		req.Header.Set("X-API-Key", tokens[auth.ScopeSDK])
		req.ContentLength = -1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusLengthRequired {
			t.Fatalf("status %d, want 411", resp.StatusCode)
		}
	})
	t.Run("reads the body of an authenticated request", func(t *testing.T) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/sink", strings.NewReader(strings.Repeat("y", 100_000)))
		req.Header.Set("X-API-Key", tokens[auth.ScopeSDK])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(raw) != "100000" {
			t.Fatalf("status %d body %q, want 200 100000", resp.StatusCode, raw)
		}
	})
}
