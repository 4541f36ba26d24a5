// Package testserver starts a real journeylab for tests that drive it over
// HTTP: app.New on a temporary store, listening on a free 127.0.0.1 port,
// with one API key per scope. The browser, client, SDK and documentation
// suites share it.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/config"
)

// Server is a journeylab serving on 127.0.0.1 until the test ends.
type Server struct {
	App *app.App
	// Addr is host:port, URL is http://Addr.
	Addr, URL string
	// Keys holds an API key (its token) per scope.
	Keys map[auth.Scope]string
}

// Start runs the server. The defaults suit tests (a temporary data
// directory, dev mode off, the served experiments refreshed and the
// journals merged every 20 ms); configure, if not nil, applies the test's
// own settings after them. The server is shut down and closed when the
// test ends.
func Start(t testing.TB, configure func(*viper.Viper)) *Server {
	t.Helper()
	// An empty config file of its own keeps a journeylab.yaml in the
	// working directory out of the test.
	file := filepath.Join(t.TempDir(), "journeylab.yaml")
	if err := os.WriteFile(file, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := config.New(file)
	v.Set("data_dir", t.TempDir())
	v.Set("listen", "127.0.0.1:0")
	v.Set("dev_mode", false)
	v.Set("assign.refresh_interval", "20ms")
	v.Set("exposures.flush_interval", "20ms")
	if configure != nil {
		configure(v)
	}
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatalf("start journeylab: %v", err)
	}
	s := &Server{App: a, Keys: map[auth.Scope]string{}}
	for _, sc := range []auth.Scope{auth.ScopeAdmin, auth.ScopeRead, auth.ScopeSDK} {
		k, token, err := auth.Generate("test-"+string(sc), sc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.CreateKey(ctx, k); err != nil {
			t.Fatalf("create %s key: %v", sc, err)
		}
		s.Keys[sc] = token
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- a.Server.App().Listener(ln) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Server.App().ShutdownWithContext(sctx)
		<-served
		if err := a.Close(sctx); err != nil {
			t.Errorf("close journeylab: %v", err)
		}
	})
	s.Addr = ln.Addr().String()
	s.URL = "http://" + s.Addr
	// Wait until it answers: a Shutdown that comes before fasthttp starts
	// serving returns at once, and the server would then never stop.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		res, err := http.Get(s.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journeylab on %s does not answer: %v", s.Addr, err)
		}
	}
	return s
}
