package health_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeylab/journeylab/health"
)

// memLog is an in-memory delivery log.
type memLog struct {
	mu sync.Mutex
	ds []health.Delivery
}

func (m *memLog) AddDelivery(_ context.Context, d health.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ds = append(m.ds, d)
	return nil
}

func (m *memLog) all() []health.Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]health.Delivery(nil), m.ds...)
}

// receiver is a real HTTP server on 127.0.0.1 that answers with the
// given statuses in turn (the last one repeats) and keeps every request.
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	reqs     []received
}

type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{header: req.Header.Clone(), body: body, at: time.Now()})
		st := r.statuses[min(len(r.reqs), len(r.statuses))-1]
		r.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(r.srv.Close)
	if !strings.HasPrefix(r.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("receiver at %s, want 127.0.0.1", r.srv.URL)
	}
	return r
}

func (r *receiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

var alert = health.Alert{ID: "a1", Experiment: "checkout", Check: health.CheckGuardrail, Subject: "return_rate/onepage",
	Severity: health.Critical, Status: health.Open, Summary: "Guardrail Return rate is harmed by variant onepage.", OpenedAt: t0, LastSeenAt: t0}

const secret = "whsec-test-4f1d9c"

func dispatch(t *testing.T, hooks []health.Webhook, logs *bytes.Buffer, dlog *memLog, reg ...prometheus.Registerer) *health.Dispatcher {
	t.Helper()
	o := health.DispatcherOptions{Secret: secret, Backoff: 20 * time.Millisecond, MaxAttempts: 3,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if len(reg) > 0 {
		o.Registerer = reg[0]
	}
	d, err := health.NewDispatcher(hooks, dlog, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSignedWebhookIsRetriedAfterA500AndVerifies(t *testing.T) {
	rcv := newReceiver(t, 500, 200)
	var logs bytes.Buffer
	dlog := &memLog{}
	hookURL := rcv.srv.URL + "/hooks/secret-path-token?token=query-secret"
	reg := prometheus.NewRegistry()
	d := dispatch(t, []health.Webhook{{URL: hookURL, Format: health.FormatJSON}}, &logs, dlog, reg)
	d.Notify(health.Notification{Action: health.ActionOpened, Alert: alert, Message: alert.Summary})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	t.Run("the receiver got the delivery twice: once failing with 500, then the retry", func(t *testing.T) {
		if len(reqs) != 2 {
			t.Fatalf("%d requests, want 2", len(reqs))
		}
		if gap := reqs[1].at.Sub(reqs[0].at); gap < 20*time.Millisecond {
			t.Errorf("retry after %s, want at least the 20ms backoff", gap)
		}
	})
	t.Run("every attempt carries a valid HMAC-SHA256 signature over its body", func(t *testing.T) {
		for i, r := range reqs {
			sig := r.header.Get(health.SignatureHeader)
			if err := health.VerifySignature([]byte(secret), sig, r.body, time.Now(), 5*time.Minute); err != nil {
				t.Fatalf("attempt %d: %v (header %q)", i+1, err, sig)
			}
			if err := health.VerifySignature([]byte("other secret"), sig, r.body, time.Now(), 5*time.Minute); err == nil {
				t.Fatalf("attempt %d verifies under the wrong secret", i+1)
			}
			tampered := bytes.Replace(r.body, []byte("critical"), []byte("info"), 1)
			if err := health.VerifySignature([]byte(secret), sig, tampered, time.Now(), 5*time.Minute); err == nil {
				t.Fatalf("attempt %d: a tampered body verifies", i+1)
			}
			if err := health.VerifySignature([]byte(secret), sig, r.body, time.Now().Add(time.Hour), 5*time.Minute); err == nil {
				t.Fatalf("attempt %d: a replay an hour later verifies", i+1)
			}
		}
	})
	t.Run("the payload names the event and carries the alert, with one delivery id across retries", func(t *testing.T) {
		var p health.Payload
		if err := json.Unmarshal(reqs[1].body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != "alert.opened" || p.Alert.ID != "a1" || p.Alert.Check != health.CheckGuardrail || p.Message == "" {
			t.Fatalf("payload %+v", p)
		}
		id0, id1 := reqs[0].header.Get(health.DeliveryHeader), reqs[1].header.Get(health.DeliveryHeader)
		if id0 == "" || id0 != id1 || id1 != p.DeliveryID {
			t.Fatalf("delivery ids %q %q %q", id0, id1, p.DeliveryID)
		}
		if reqs[0].header.Get(health.AttemptHeader) != "1" || reqs[1].header.Get(health.AttemptHeader) != "2" || reqs[1].header.Get(health.EventHeader) != "alert.opened" {
			t.Fatalf("headers %v", reqs[1].header)
		}
	})
	t.Run("the delivery log records both attempts", func(t *testing.T) {
		ds := dlog.all()
		if len(ds) != 2 || ds[0].OK || ds[0].Status != 500 || !ds[1].OK || ds[1].Status != 200 || ds[1].Attempt != 2 || ds[0].AlertID != "a1" {
			t.Fatalf("deliveries %+v", ds)
		}
		if ds[0].Webhook != "json "+strings.TrimPrefix(rcv.srv.URL, "http://") {
			t.Fatalf("webhook name %q", ds[0].Webhook)
		}
	})
	t.Run("the attempts are counted by outcome", func(t *testing.T) {
		want := `
# HELP journeylab_webhook_attempts_total Webhook delivery attempts by format and outcome (delivered, retrying, failed, dropped).
# TYPE journeylab_webhook_attempts_total counter
journeylab_webhook_attempts_total{format="json",outcome="delivered"} 1
journeylab_webhook_attempts_total{format="json",outcome="retrying"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "journeylab_webhook_attempts_total"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("neither the logs nor the delivery log hold the secret or the URL's secret parts", func(t *testing.T) {
		all := logs.String()
		for _, d := range dlog.all() {
			b, _ := json.Marshal(d)
			all += string(b)
		}
		for _, s := range []string{secret, "secret-path-token", "query-secret"} {
			if strings.Contains(all, s) {
				t.Fatalf("%q leaked:\n%s", s, all)
			}
		}
		if !strings.Contains(logs.String(), "retrying") {
			t.Fatalf("the retry was not logged:\n%s", logs.String())
		}
	})
}

func TestWebhookDeliveryGivesUp(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int
		attempts int
	}{
		{"a 400 is not retried: the request itself is wrong", []int{400}, 1},
		{"a receiver that keeps failing gets MaxAttempts attempts", []int{503}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.statuses...)
			dlog := &memLog{}
			d := dispatch(t, []health.Webhook{{URL: rcv.srv.URL, Format: health.FormatJSON}}, &bytes.Buffer{}, dlog)
			d.Notify(health.Notification{Action: health.ActionResolved, Alert: alert})
			if err := d.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(rcv.got()); n != tc.attempts || len(dlog.all()) != tc.attempts {
				t.Fatalf("%d requests, %d logged, want %d", n, len(dlog.all()), tc.attempts)
			}
		})
	}
	t.Run("a receiver that is down is logged as an attempt without a status", func(t *testing.T) {
		rcv := newReceiver(t, 200)
		url := rcv.srv.URL
		rcv.srv.Close()
		dlog := &memLog{}
		d := dispatch(t, []health.Webhook{{URL: url + "/p/secret-part", Format: health.FormatSlack}}, &bytes.Buffer{}, dlog)
		d.Notify(health.Notification{Action: health.ActionOpened, Alert: alert})
		_ = d.Close(context.Background())
		ds := dlog.all()
		if len(ds) != 3 || ds[0].Status != 0 || ds[0].Error == "" || strings.Contains(ds[0].Error, "secret-part") {
			t.Fatalf("deliveries %+v", ds)
		}
	})
}

func TestSlackDeliveryIsAnIncomingWebhookMessage(t *testing.T) {
	rcv := newReceiver(t, 200)
	d := dispatch(t, []health.Webhook{{URL: rcv.srv.URL + "/services/T0/B0/xyz", Format: health.FormatSlack}}, &bytes.Buffer{}, &memLog{})
	d.Notify(health.Notification{Action: health.ActionSafeguard, Alert: alert, Message: "safeguard sent all traffic to control (control)"})
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	var msg map[string]string
	if err := json.Unmarshal(reqs[0].body, &msg); err != nil {
		t.Fatal(err)
	}
	want := ":red_circle: *critical* guardrail alert – safeguard acted on experiment `checkout` (return_rate/onepage)\n" +
		"Guardrail Return rate is harmed by variant onepage.\n_safeguard sent all traffic to control (control)_"
	if len(msg) != 1 || msg["text"] != want {
		t.Fatalf("slack body %q\nwant text %q", reqs[0].body, want)
	}
	if reqs[0].header.Get(health.SignatureHeader) != "" {
		t.Fatal("a Slack delivery carries the JSON signature header")
	}
}

func TestSlackMessagesEscapeMarkup(t *testing.T) {
	a := alert
	a.Summary = "Guardrail <!channel> & <https://evil.example|click> is harmed."
	got := health.SlackMessage(health.Notification{Action: health.ActionOpened, Alert: a})["text"].(string)
	if strings.ContainsAny(strings.SplitN(got, "\n", 2)[1], "<>") || !strings.Contains(got, "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;") {
		t.Fatalf("text %q", got)
	}
}

func TestDispatcherRefusesBadWebhooks(t *testing.T) {
	cases := []struct {
		name   string
		hooks  []health.Webhook
		secret string
	}{
		{"a JSON webhook without a secret", []health.Webhook{{URL: "https://example.com/h", Format: health.FormatJSON}}, ""},
		{"a URL that is not http(s)", []health.Webhook{{URL: "ftp://example.com/secret-x", Format: health.FormatSlack}}, "s"},
		{"an unknown format", []health.Webhook{{URL: "https://example.com/h", Format: "xml"}}, "s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := health.NewDispatcher(tc.hooks, &memLog{}, health.DispatcherOptions{Secret: tc.secret})
			if err == nil || strings.Contains(err.Error(), "secret-x") {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestVerifySignatureRejectsMalformedHeaders(t *testing.T) {
	for _, h := range []string{"", "t=abc,v1=00", "t=1700000000", "v1=zz,t=1700000000"} {
		t.Run("header "+h, func(t *testing.T) {
			if err := health.VerifySignature([]byte(secret), h, []byte("{}"), time.Unix(1700000000, 0), time.Minute); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("a known signature matches the independently computed HMAC", func(t *testing.T) {
		// printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec-test-4f1d9c
		got := health.Sign([]byte(secret), time.Unix(1700000000, 0), []byte(`{"a":1}`))
		if got != "t=1700000000,v1="+goldenMAC {
			t.Fatalf("signature %s", got)
		}
	})
}

// goldenMAC was computed with openssl (see the test above).
const goldenMAC = "f63d5b874d9639bc50edde319510bad40b6ef859cc2b85a8b0b0222e10088821"

func FuzzVerifySignature(f *testing.F) {
	f.Add("t=1700000000,v1="+goldenMAC, []byte(`{"a":1}`))
	f.Add("t=,v1=", []byte{})
	f.Add("v1=00,t=-5,t=9", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		now := time.Unix(1700000000, 0)
		err := health.VerifySignature([]byte(secret), header, body, now, time.Minute)
		if err == nil && header != health.Sign([]byte(secret), now, body) {
			// Only a correct MAC of this body verifies; equivalent spellings
			// of the same header (order, spaces) are fine.
			if health.VerifySignature([]byte("other"), header, body, now, time.Minute) == nil {
				t.Fatalf("%q verifies under two secrets", header)
			}
		}
	})
}
