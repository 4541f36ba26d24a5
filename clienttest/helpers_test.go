package clienttest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/config"
)

// service is a journeylab listening on a loopback port.
type service struct {
	app  *app.App
	url  string
	keys map[auth.Scope]string
}

// start runs the real app on a temporary store and a free 127.0.0.1 port,
// with one API key per scope.
func start(t *testing.T) *service {
	t.Helper()
	file := filepath.Join(t.TempDir(), "journeylab.yaml")
	if err := os.WriteFile(file, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := config.New(file)
	v.Set("data_dir", t.TempDir())
	v.Set("dev_mode", false)
	v.Set("assign.refresh_interval", "10ms")
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &service{app: a, keys: map[auth.Scope]string{}}
	for _, sc := range []auth.Scope{auth.ScopeAdmin, auth.ScopeRead, auth.ScopeSDK} {
		k, token, err := auth.Generate("clienttest-"+string(sc), sc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		s.keys[sc] = token
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Server.App().Listener(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Server.App().ShutdownWithContext(sctx)
		<-served
		_ = a.Close(sctx)
	})
	s.url = "http://" + ln.Addr().String()
	return s
}

// call sends one request with the key of scope and returns the response
// with its body read.
func (s *service) call(t *testing.T, scope auth.Scope, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if scope != "" {
		req.Header.Set("Authorization", "Bearer "+s.keys[scope])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// mustCall is call that fails the test unless the status is want.
func (s *service) mustCall(t *testing.T, scope auth.Scope, want int, method, path, body string) []byte {
	t.Helper()
	resp, b := s.call(t, scope, method, path, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

// launch creates and launches an experiment and waits until serving has it.
func (s *service) launch(t *testing.T, key, experimentJSON string) {
	t.Helper()
	s.mustCall(t, auth.ScopeAdmin, 201, "POST", "/v1/experiments", experimentJSON)
	s.mustCall(t, auth.ScopeAdmin, 200, "POST", "/v1/experiments/"+key+"/launch", "")
	if _, err := s.app.Serving.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}
