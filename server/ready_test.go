package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/auth"
)

func call(t *testing.T, s *Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.App().Test(req, 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func TestReadinessIsRedWhileDrainingOrWhenWritesFail(t *testing.T) {
	var storeErr error
	s, tokens := keyedServer(t, Options{BodyLimit: 1 << 20, Ready: map[string]func(context.Context) error{
		"store": func(context.Context) error { return storeErr },
	}})
	if st, body := call(t, s, "GET", "/readyz", "", ""); st != 200 || body["status"] != "ready" {
		t.Fatalf("healthy: %d %v", st, body)
	}
	storeErr = errors.New("disk full")
	if st, body := call(t, s, "GET", "/readyz", "", ""); st != 503 || body["failed"] == nil {
		t.Fatalf("store failing: %d %v", st, body)
	}
	storeErr = nil
	s.V1().Post("/fail", s.Require(auth.ScopeSDK), func(*fiber.Ctx) error { return fmt.Errorf("append: %w", syscall.ENOSPC) })
	if st, body := call(t, s, "POST", "/v1/fail", tokens[auth.ScopeSDK], "{}"); st != 503 {
		t.Fatalf("a full disk: %d %v", st, body)
	}
	if st, body := call(t, s, "GET", "/readyz", "", ""); st != 503 || body["failed"].(map[string]any)["writes"] == nil {
		t.Fatalf("readyz just after a failed write: %d %v", st, body)
	}
	s.lastWriteFault.Add(-int64(faultWindow))
	if st, body := call(t, s, "GET", "/readyz", "", ""); st != 200 {
		t.Fatalf("readyz once the fault window has passed: %d %v", st, body)
	}
	s.Drain()
	if st, body := call(t, s, "GET", "/readyz", "", ""); st != 503 || body["status"] != "draining" {
		t.Fatalf("draining: %d %v", st, body)
	}
	if st, body := call(t, s, "GET", "/healthz", "", ""); st != 200 {
		t.Fatalf("liveness must stay green while draining: %d %v", st, body)
	}
}
