package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

func TestClassifyMapsErrorsToStatusCodes(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		field  string
	}{
		{"a validation error is 400 with its field", fmt.Errorf("create: %w", &experiment.ValidationError{Field: "variants[1].key", Message: "duplicate"}), 400, "invalid", "variants[1].key"},
		{"a body error is 400 with its field", &jsonbody.Error{Field: "colour", Message: "unknown field"}, 400, "invalid_json", "colour"},
		{"not found is 404", fmt.Errorf("get: %w", experiment.ErrNotFound), 404, "not_found", ""},
		{"an existing key is 409", fmt.Errorf("create: %w", experiment.ErrAlreadyExists), 409, "already_exists", ""},
		{"a stale version is 409", fmt.Errorf("update: %w", experiment.ErrVersionConflict), 409, "version_conflict", ""},
		{"an illegal transition is 409", fmt.Errorf("launch: %w", experiment.ErrIllegalTransition), 409, "illegal_transition", ""},
		{"an unavailable store is 503", fmt.Errorf("ping: %w", experiment.ErrUnavailable), 503, "unavailable", ""},
		{"a timeout is 503", context.DeadlineExceeded, 503, "unavailable", ""},
		{"a full disk is 503", fmt.Errorf("append to journal: %w", &os.PathError{Op: "write", Path: "j", Err: syscall.ENOSPC}), 503, "unavailable", ""},
		{"a read-only file system is 503", fmt.Errorf("append: %w", &os.PathError{Op: "open", Path: "j", Err: syscall.EROFS}), 503, "unavailable", ""},
		{"an I/O error is 503", fmt.Errorf("sync: %w", syscall.EIO), 503, "unavailable", ""},
		{"fiber's 413 keeps its status", fiber.ErrRequestEntityTooLarge, 413, "body_too_large", ""},
		{"anything else is a 500 that hides details", fmt.Errorf("disk on fire"), 500, "internal", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := classify(tc.err)
			if e.Status != tc.status || e.Code != tc.code || e.Field != tc.field {
				t.Fatalf("classify = %d %s %q, want %d %s %q", e.Status, e.Code, e.Field, tc.status, tc.code, tc.field)
			}
			if tc.status == 500 && e.Message == tc.err.Error() {
				t.Fatal("internal error text leaked to the client")
			}
		})
	}
}

func TestRateLimitAnswers429InTheErrorFormat(t *testing.T) {
	s := New(Options{BodyLimit: 1 << 20, RateLimit: 2, DevMode: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.V1().Get("/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
	statuses := []int{}
	var last map[string]map[string]any
	for range 3 {
		resp, err := s.App().Test(httptest.NewRequest("GET", "/v1/ping", nil))
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
		body, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(body, &last)
	}
	if fmt.Sprint(statuses) != "[200 200 429]" {
		t.Fatalf("statuses %v, want [200 200 429]", statuses)
	}
	if last["error"]["code"] != "rate_limited" {
		t.Fatalf("429 body %v", last)
	}
}

func TestCORSAllowsOnlyListedOrigins(t *testing.T) {
	s := New(Options{BodyLimit: 1 << 20, CORSOrigins: []string{"https://shop.example"}, DevMode: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s.V1().Get("/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
	for origin, want := range map[string]string{"https://shop.example": "https://shop.example", "https://evil.example": ""} {
		req := httptest.NewRequest("GET", "/v1/ping", nil)
		req.Header.Set("Origin", origin)
		resp, err := s.App().Test(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Allow-Origin %q, want %q", origin, got, want)
		}
	}
}
