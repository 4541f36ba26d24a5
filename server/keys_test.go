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

	"journeylab/auth"
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

func TestKeysAreCreatedListedAndRevokedByAdmins(t *testing.T) {
	s, tokens := keyedServer(t, Options{BodyLimit: 1 << 20})
	s.V1().Get("/ping", s.Require(auth.ScopeSDK), func(c *fiber.Ctx) error { return c.SendString("pong") })
	admin := tokens[auth.ScopeAdmin]
	adminID, _, _ := auth.Split(admin)

	status, created := call(t, s, "POST", "/v1/keys", admin, `{"name":"web-shop","scope":"sdk"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, created)
	}
	token, _ := created["token"].(string)
	id, _, err := auth.Split(token)
	if err != nil {
		t.Fatalf("created token %q: %v", token, err)
	}
	if st, _ := call(t, s, "GET", "/v1/ping", token, ""); st != 200 {
		t.Fatalf("a new key is refused: %d", st)
	}

	t.Run("only admins manage keys", func(t *testing.T) {
		for _, sc := range []auth.Scope{auth.ScopeSDK, auth.ScopeRead} {
			if st, _ := call(t, s, "GET", "/v1/keys", tokens[sc], ""); st != 403 {
				t.Errorf("%s key lists keys: %d", sc, st)
			}
			if st, _ := call(t, s, "POST", "/v1/keys/"+id+"/revoke", tokens[sc], ""); st != 403 {
				t.Errorf("%s key revokes keys: %d", sc, st)
			}
		}
	})
	t.Run("a bad scope is refused with the field", func(t *testing.T) {
		st, body := call(t, s, "POST", "/v1/keys", admin, `{"name":"x","scope":"root"}`)
		if e, _ := body["error"].(map[string]any); st != 400 || e["field"] != "scope" {
			t.Fatalf("%d %v", st, body)
		}
	})
	t.Run("a revoked key stops working at once and the revocation names the actor", func(t *testing.T) {
		st, body := call(t, s, "POST", "/v1/keys/"+id+"/revoke", admin, "")
		k, _ := body["key"].(map[string]any)
		if st != 200 || k["revoked_by"] != "key:"+adminID || k["revoked_at"] == nil {
			t.Fatalf("revoke: %d %v", st, body)
		}
		if st, _ := call(t, s, "GET", "/v1/ping", token, ""); st != 401 {
			t.Fatalf("revoked key answered %d, want 401", st)
		}
		st, list := call(t, s, "GET", "/v1/keys", admin, "")
		keys, _ := list["keys"].([]any)
		found := false
		for _, raw := range keys {
			k, _ := raw.(map[string]any)
			found = found || (k["id"] == id && k["revoked_by"] == "key:"+adminID)
		}
		if st != 200 || !found {
			t.Fatalf("list after revoke: %d %v", st, list)
		}
	})
	t.Run("revoking an unknown key is 404", func(t *testing.T) {
		if st, body := call(t, s, "POST", "/v1/keys/000000000000/revoke", admin, ""); st != 404 {
			t.Fatalf("status %d: %v", st, body)
		}
	})
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
