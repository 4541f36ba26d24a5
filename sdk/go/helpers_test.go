package journeylab_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/internal/testserver"
)

// server is a journeylab listening on a loopback port.
type server struct {
	app *app.App
	url string
	sdk string // an API key of scope sdk
	adm string // an API key of scope admin
}

// startServer runs the real app on a temporary store and a free 127.0.0.1
// port.
func startServer(t testing.TB) *server {
	t.Helper()
	s := testserver.Start(t, nil)
	return &server{app: s.App, url: s.URL, sdk: s.Keys[auth.ScopeSDK], adm: s.Keys[auth.ScopeAdmin]}
}

// admin sends a request with the admin key and fails the test unless it
// answers want.
func (s *server) admin(t testing.TB, want int, method, path, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.adm)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return raw
}

// refresh makes the server serve its latest configuration now.
func (s *server) refresh(t testing.TB) {
	t.Helper()
	if _, err := s.app.Serving.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// launch creates and launches an experiment from its JSON.
func (s *server) launch(t testing.TB, key, experimentJSON string) {
	t.Helper()
	s.admin(t, 201, "POST", "/v1/experiments", experimentJSON)
	s.admin(t, 200, "POST", "/v1/experiments/"+key+"/launch", "")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func jsonMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
