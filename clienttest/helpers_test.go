package clienttest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/internal/testserver"
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
	s := testserver.Start(t, func(v *viper.Viper) { v.Set("assign.refresh_interval", "10ms") })
	return &service{app: s.App, url: s.URL, keys: s.Keys}
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
