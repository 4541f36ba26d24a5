package app

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/config"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBeaconRoutesTakeAnSDKKeyFromTheURL checks what a browser's
// navigator.sendBeacon needs: it cannot set headers and sends a JSON body
// as text/plain, so POST /v1/events and POST /v1/exposures accept an sdk
// key in ?key= and a text/plain body; no other route takes a key from the
// URL, no key of another scope is accepted there, and the key never
// reaches the access log.
func TestBeaconRoutesTakeAnSDKKeyFromTheURL(t *testing.T) {
	v := config.New("")
	v.Set("data_dir", t.TempDir())
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(context.Background(), cfg, log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	token := map[auth.Scope]string{}
	for _, s := range []auth.Scope{auth.ScopeAdmin, auth.ScopeRead, auth.ScopeSDK} {
		k, tok, err := auth.Generate(string(s), s, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.CreateKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		token[s] = tok
	}
	q := func(s auth.Scope) string { return "?key=" + url.QueryEscape(token[s]) }
	const (
		events    = `{"events":[{"event_id":"beacon-1","unit_id":"visitor-1","event":"add_to_cart"}]}`
		exposures = `{"exposures":[]}`
		textPlain = "text/plain;charset=UTF-8"
	)
	cases := []struct {
		name, method, path, body, contentType string
		status                                int
		code                                  string
	}{
		{"an sdk key in the URL sends events as text/plain", "POST", "/v1/events" + q(auth.ScopeSDK), events, textPlain, 200, ""},
		{"an sdk key in the URL reports exposures as text/plain", "POST", "/v1/exposures" + q(auth.ScopeSDK), exposures, textPlain, 200, ""},
		{"a JSON content type works the same", "POST", "/v1/events" + q(auth.ScopeSDK), events, "application/json", 200, ""},
		{"an admin key in the URL is refused", "POST", "/v1/events" + q(auth.ScopeAdmin), events, textPlain, 403, "key_in_url"},
		{"a read key in the URL is refused", "POST", "/v1/exposures" + q(auth.ScopeRead), exposures, textPlain, 403, "key_in_url"},
		{"a made-up key in the URL is unauthenticated", "POST", "/v1/events?key=jl_000000000000_" + strings.Repeat("0", 64), events, textPlain, 401, "unauthenticated"},
		{"assign takes no key from the URL", "POST", "/v1/assign" + q(auth.ScopeSDK), `{"unit_id":"visitor-1"}`, "application/json", 401, "unauthenticated"},
		{"management routes take no key from the URL", "GET", "/v1/experiments" + q(auth.ScopeAdmin), "", "", 401, "unauthenticated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, a, tc.method, tc.path, tc.body, "Content-Type", tc.contentType)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if e, _ := r.body["error"].(map[string]any); tc.code != "" && (e == nil || e["code"] != tc.code) {
				t.Fatalf("error %s, want code %s", r.raw, tc.code)
			}
		})
	}
	t.Run("the refusal names the key to revoke and says why", func(t *testing.T) {
		r := do(t, a, "POST", "/v1/events"+q(auth.ScopeAdmin), events)
		id, _, _ := auth.Split(token[auth.ScopeAdmin])
		msg := r.raw
		if !strings.Contains(msg, "revoke key "+id) || !strings.Contains(msg, "never be sent in a URL") {
			t.Fatalf("message %s", msg)
		}
		if !strings.Contains(logs.String(), "key_id="+id) {
			t.Fatalf("the exposed admin key is not logged by id:\n%s", logs.String())
		}
	})
	t.Run("a header key wins over the URL", func(t *testing.T) {
		r := do(t, a, "POST", "/v1/events"+q(auth.ScopeAdmin), events, "Authorization", "Bearer "+token[auth.ScopeSDK])
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
	})
	t.Run("the event sent by beacon was stored once", func(t *testing.T) {
		r := do(t, a, "POST", "/v1/events", events, "Authorization", "Bearer "+token[auth.ScopeSDK])
		if r.status != 200 || r.body["duplicates"] != 1.0 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("no secret reaches the logs", func(t *testing.T) {
		out := logs.String()
		if !strings.Contains(out, "path=/v1/events") {
			t.Fatalf("the access log has no request lines at debug level:\n%.2000s", out)
		}
		for s, tok := range token {
			_, secret, _ := auth.Split(tok)
			if strings.Contains(out, secret) {
				t.Fatalf("the %s key's secret is in the log:\n%s", s, out)
			}
		}
	})
}
