package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/events"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newApp(t *testing.T, devMode bool) *app.App {
	t.Helper()
	cfg := config.Config{DataDir: t.TempDir(), DevMode: devMode, BodyLimit: 4 << 20, MaxEventBatch: 1000,
		MaxFutureSkew: 5 * time.Minute, ShutdownWait: time.Second}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

func post(t *testing.T, a *app.App, body string) (int, events.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.Server.App().Test(req, 30000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out events.Response
	var generic map[string]any
	_ = json.Unmarshal(raw, &out)
	_ = json.Unmarshal(raw, &generic)
	return resp.StatusCode, out, generic
}

func event(id string, extra string) string {
	return fmt.Sprintf(`{"event_id":%q,"unit_id":"visitor-1","event":"order_completed","value":19.5%s}`, id, extra)
}

func batch(evs ...string) string { return `{"events":[` + strings.Join(evs, ",") + `]}` }

func TestPostEvents(t *testing.T) {
	a := newApp(t, true)
	t.Run("a valid batch is accepted with one result per event", func(t *testing.T) {
		status, resp, _ := post(t, a, batch(event("a1", ""), event("a2", `,"ts":"2026-11-23T11:00:00Z"`)))
		if status != http.StatusOK || resp.Accepted != 2 || len(resp.Results) != 2 || resp.Results[1].Status != events.StatusAccepted {
			t.Fatalf("status %d, response %+v", status, resp)
		}
	})
	t.Run("the same batch again is all duplicates and still 200", func(t *testing.T) {
		status, resp, _ := post(t, a, batch(event("a1", ""), event("a2", `,"ts":"2026-11-23T11:00:00Z"`)))
		if status != http.StatusOK || resp.Duplicates != 2 || resp.Accepted != 0 || resp.Results[0].Status != events.StatusDuplicate {
			t.Fatalf("status %d, response %+v", status, resp)
		}
	})
	t.Run("a partly invalid batch is 207 and keeps the valid events", func(t *testing.T) {
		attrs := make([]string, 51)
		for i := range attrs {
			attrs[i] = fmt.Sprintf(`"k%d":1`, i)
		}
		status, resp, _ := post(t, a, batch(
			event("b1", ""),
			event("b2", `,"ts":"2026-11-23T12:06:00Z"`),
			event("b3", `,"value":1e999`),
			event(strings.Repeat("x", 201), ""),
			event("b5", `,"attributes":{`+strings.Join(attrs, ",")+`}`),
			`{"event_id":"b6","unit_id":"visitor-1","event":"order completed"}`,
		))
		if status != http.StatusMultiStatus || resp.Accepted != 1 || resp.Rejected != 5 {
			t.Fatalf("status %d, response %+v", status, resp)
		}
		wantFields := []string{"", "events[1].ts", "events[2].value", "events[3].event_id", "events[4].attributes", "events[5].event"}
		for i, r := range resp.Results {
			if r.Index != i || r.Field != wantFields[i] {
				t.Errorf("result %d: %+v, want field %q", i, r, wantFields[i])
			}
			if i > 0 && (r.Status != events.StatusRejected || r.Reason == "") {
				t.Errorf("result %d: %+v, want rejected with a reason", i, r)
			}
		}
		if !strings.Contains(resp.Results[1].Reason, "ahead of the server clock") {
			t.Errorf("skew reason %q does not say the clock is ahead", resp.Results[1].Reason)
		}
		_, again, _ := post(t, a, batch(event("b1", "")))
		if again.Duplicates != 1 {
			t.Errorf("the valid event of the 207 batch was not kept: %+v", again)
		}
	})
	t.Run("bad batches are 400 naming the problem", func(t *testing.T) {
		many := make([]string, 1001)
		for i := range many {
			many[i] = event(fmt.Sprintf("m%d", i), "")
		}
		for name, body := range map[string]string{
			"malformed JSON":     `{"events":[`,
			"an empty batch":     `{"events":[]}`,
			"no events field":    `{"evnts":[]}`,
			"too many events":    batch(many...),
			"a body that is not": `[1,2]`,
		} {
			status, _, generic := post(t, a, body)
			errObj, _ := generic["error"].(map[string]any)
			if status != http.StatusBadRequest || errObj["message"] == "" {
				t.Errorf("%s: status %d body %v, want 400 with a message", name, status, generic)
			}
		}
	})
}

func TestPostEventsConcurrentRetriesCountOnce(t *testing.T) {
	a := newApp(t, true)
	evs := make([]string, 300)
	for i := range evs {
		evs[i] = event(fmt.Sprintf("c%d", i), "")
	}
	body := batch(evs...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, duplicates := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, resp, _ := post(t, a, body)
			if status != http.StatusOK {
				t.Errorf("status %d", status)
			}
			mu.Lock()
			accepted += resp.Accepted
			duplicates += resp.Duplicates
			mu.Unlock()
		}()
	}
	wg.Wait()
	if accepted != 300 || duplicates != 7*300 {
		t.Errorf("accepted %d duplicates %d over 8 identical batches, want 300 and 2100", accepted, duplicates)
	}
}

func TestPostEventsNeedsAnSDKKey(t *testing.T) {
	a := newApp(t, false)
	status, _, _ := post(t, a, batch(event("k1", "")))
	if status != http.StatusUnauthorized {
		t.Errorf("status %d without a key, want 401", status)
	}
}
