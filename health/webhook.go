package health

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Format is the payload a webhook receives.
type Format string

// Webhook formats.
const (
	// FormatJSON is the generic JSON payload (Payload), signed with
	// HMAC-SHA256 in the SignatureHeader.
	FormatJSON Format = "json"
	// FormatSlack is a Slack incoming-webhook message ({"text": ...}); the
	// webhook URL itself is the secret, as Slack designs it.
	FormatSlack Format = "slack"
)

// Headers of a generic JSON delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>": the
	// MAC of "<t>.<body>" under the shared secret. Receivers recompute it
	// (VerifySignature) and reject stale timestamps, so a captured request
	// cannot be replayed later.
	SignatureHeader = "X-Journeylab-Signature"
	// EventHeader names the change: "alert.opened", "alert.updated",
	// "alert.resolved" or "alert.safeguard".
	EventHeader = "X-Journeylab-Event"
	// DeliveryHeader is the delivery id, the same on every retry, so a
	// receiver can drop a retry it already processed.
	DeliveryHeader = "X-Journeylab-Delivery"
	// AttemptHeader counts attempts from 1.
	AttemptHeader = "X-Journeylab-Attempt"
)

// Payload is the body of a generic JSON delivery.
type Payload struct {
	// Type is "alert." + the action.
	Type       string    `json:"type"`
	DeliveryID string    `json:"delivery_id"`
	SentAt     time.Time `json:"sent_at"`
	Message    string    `json:"message"`
	Alert      Alert     `json:"alert"`
}

// Webhook is one delivery target.
type Webhook struct {
	URL    string
	Format Format
}

// Name identifies the webhook in logs and the delivery log without its
// secret parts: the format and host only (a Slack URL's path is its secret).
func (w Webhook) Name() string {
	u, err := url.Parse(w.URL)
	if err != nil {
		return string(w.Format) + " (unparsable URL)"
	}
	return string(w.Format) + " " + u.Host
}

// DeliveryLog records delivery attempts; Store implements it.
type DeliveryLog interface {
	AddDelivery(ctx context.Context, d Delivery) error
}

// DispatcherOptions configure a Dispatcher; zero fields take the defaults.
type DispatcherOptions struct {
	// Secret signs generic JSON deliveries; required when a JSON webhook
	// is configured. It is never logged.
	Secret string
	// Client sends the requests; default a client with Timeout.
	Client *http.Client
	// Timeout bounds one attempt; default 10 s.
	Timeout time.Duration
	// MaxAttempts per delivery; default 5.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles
	// after each failure up to MaxBackoff. Defaults 2 s and 5 min.
	Backoff, MaxBackoff time.Duration
	// MaxInFlight bounds concurrent deliveries; more are dropped and
	// logged. Default 1000.
	MaxInFlight int
	Now         func() time.Time
	Log         *slog.Logger
	// Registerer, when set, receives journeylab_webhook_attempts_total.
	Registerer prometheus.Registerer
}

// Dispatcher delivers notifications to webhooks in the background, with
// retries and a delivery log. It implements Notifier.
type Dispatcher struct {
	hooks  []Webhook
	dlog   DeliveryLog
	opts   DispatcherOptions
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	closed bool
	slots  chan struct{}
	// metrics is nil without DispatcherOptions.Registerer.
	metrics *deliveryMetrics
}

// NewDispatcher checks the webhooks and returns a running Dispatcher; call
// Close to drain it.
func NewDispatcher(hooks []Webhook, dlog DeliveryLog, opts DispatcherOptions) (*Dispatcher, error) {
	for i, h := range hooks {
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL is not repeated: it may hold a secret.
			return nil, fmt.Errorf("webhook %d (%s): want an http:// or https:// URL", i+1, h.Format)
		}
		switch h.Format {
		case FormatJSON:
			if opts.Secret == "" {
				return nil, fmt.Errorf("webhook %d (%s): a signing secret is required for JSON webhooks", i+1, h.Name())
			}
		case FormatSlack:
		default:
			return nil, fmt.Errorf("webhook %d: unknown format %q (want json or slack)", i+1, h.Format)
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Timeout}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	var dm *deliveryMetrics
	if opts.Registerer != nil {
		var err error
		if dm, err = newDeliveryMetrics(opts.Registerer); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{hooks: hooks, dlog: dlog, opts: opts, ctx: ctx, cancel: cancel, slots: make(chan struct{}, opts.MaxInFlight), metrics: dm}, nil
}

// Notify queues n for every webhook and returns at once.
func (d *Dispatcher) Notify(n Notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	for _, h := range d.hooks {
		select {
		case d.slots <- struct{}{}:
		default:
			d.opts.Log.Error("webhook delivery dropped: too many in flight", "webhook", h.Name(), "alert", n.Alert.ID, "action", n.Action)
			d.metrics.count(h.Format, "dropped")
			continue
		}
		d.wg.Add(1)
		go func() {
			defer func() { <-d.slots; d.wg.Done() }()
			d.deliver(h, n)
		}()
	}
}

// Close stops accepting notifications and waits for deliveries in flight
// (including their retries) until ctx ends; then it abandons the retries
// still waiting.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return fmt.Errorf("webhook deliveries abandoned at shutdown: %w", ctx.Err())
	}
}

// deliver sends n to h until it succeeds, fails permanently or runs out
// of attempts, logging every attempt.
func (d *Dispatcher) deliver(h Webhook, n Notification) {
	id := newID()
	wait := d.opts.Backoff
	for attempt := 1; attempt <= d.opts.MaxAttempts; attempt++ {
		start := d.opts.Now()
		status, err := d.send(h, n, id, attempt)
		rec := Delivery{ID: id, AlertID: n.Alert.ID, Action: n.Action, Webhook: h.Name(), Attempt: attempt,
			At: start.UTC(), Status: status, OK: err == nil, DurationMS: d.opts.Now().Sub(start).Milliseconds()}
		if err != nil {
			rec.Error = err.Error()
		}
		if lerr := d.dlog.AddDelivery(context.WithoutCancel(d.ctx), rec); lerr != nil {
			d.opts.Log.Error("record webhook delivery", "webhook", h.Name(), "err", lerr)
		}
		if err == nil {
			d.metrics.count(h.Format, "delivered")
			d.opts.Log.Info("webhook delivered", "webhook", h.Name(), "alert", n.Alert.ID, "action", n.Action, "attempt", attempt)
			return
		}
		if !retryable(status) || attempt == d.opts.MaxAttempts {
			d.metrics.count(h.Format, "failed")
			d.opts.Log.Error("webhook delivery failed", "webhook", h.Name(), "alert", n.Alert.ID, "action", n.Action, "attempt", attempt, "status", status, "err", err)
			return
		}
		d.metrics.count(h.Format, "retrying")
		d.opts.Log.Warn("webhook delivery failed; retrying", "webhook", h.Name(), "alert", n.Alert.ID, "attempt", attempt, "status", status, "retry_in", wait, "err", err)
		select {
		case <-time.After(wait):
		case <-d.ctx.Done():
			return
		}
		wait = min(2*wait, d.opts.MaxBackoff)
	}
}

// retryable reports whether a failed attempt may succeed later: no
// response, a server error, 408 or 429. Other 4xx mean the request itself
// is wrong.
func retryable(status int) bool {
	return status == 0 || status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// send makes one attempt and returns the HTTP status.
func (d *Dispatcher) send(h Webhook, n Notification, id string, attempt int) (int, error) {
	now := d.opts.Now().UTC()
	var body []byte
	var err error
	if h.Format == FormatSlack {
		body, err = json.Marshal(SlackMessage(n))
	} else {
		body, err = json.Marshal(Payload{Type: "alert." + string(n.Action), DeliveryID: id, SentAt: now, Message: n.Message, Alert: n.Alert})
	}
	if err != nil {
		return 0, fmt.Errorf("encode payload: %w", err)
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("build request: invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "journeylab-webhook/1")
	if h.Format == FormatJSON {
		req.Header.Set(SignatureHeader, Sign([]byte(d.opts.Secret), now, body))
		req.Header.Set(EventHeader, "alert."+string(n.Action))
		req.Header.Set(DeliveryHeader, id)
		req.Header.Set(AttemptHeader, strconv.Itoa(attempt))
	}
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, whose path or query may be secret.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// ErrBadSignature is returned by VerifySignature for a missing, malformed,
// wrong or stale signature.
var ErrBadSignature = errors.New("bad webhook signature")

// VerifySignature checks a SignatureHeader value against body, accepting
// timestamps at most tolerance away from now. Receivers written in Go can
// use it; the scheme is documented in docs/health.md for other languages.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("%w: want t=<unix seconds>,v1=<hex>", ErrBadSignature)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, ts, body)) {
		return fmt.Errorf("%w: the MAC does not match", ErrBadSignature)
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: timestamp %s is further than %s from now", ErrBadSignature, time.Unix(sec, 0).UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}

// SlackMessage is the Slack incoming-webhook body for n: a one-line
// headline and the summary, in Slack's mrkdwn.
func SlackMessage(n Notification) map[string]any {
	icon := map[Severity]string{Critical: ":red_circle:", Warning: ":large_orange_circle:", Info: ":large_blue_circle:"}[n.Alert.Severity]
	verb := map[Action]string{ActionOpened: "opened on", ActionUpdated: "changed on", ActionResolved: "resolved on", ActionSafeguard: "– safeguard acted on"}[n.Action]
	if n.Action == ActionResolved {
		icon = ":white_check_mark:"
	}
	head := fmt.Sprintf("%s *%s* %s alert %s experiment `%s`", icon, n.Alert.Severity, n.Alert.Check, verb, slackEscape(n.Alert.Experiment))
	if n.Alert.Subject != "" {
		head += " (" + slackEscape(n.Alert.Subject) + ")"
	}
	if n.Alert.Experiment == "" {
		head = fmt.Sprintf("%s *%s* %s alert %s journey KPI `%s`", icon, n.Alert.Severity, n.Alert.Check, verb, slackEscape(n.Alert.Subject))
	}
	text := head + "\n" + slackEscape(n.Alert.Summary)
	if n.Message != "" && n.Message != n.Alert.Summary {
		text += "\n_" + slackEscape(n.Message) + "_"
	}
	return map[string]any{"text": text}
}

// slackEscape escapes the three characters Slack's mrkdwn reads as markup
// (links, mentions), so a metric named "<!channel>" stays text.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
