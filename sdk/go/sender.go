package journeylab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// maxRetryAfter caps how long a Retry-After from the server is honoured.
const maxRetryAfter = 30 * time.Second

// sender batches items of one kind to one endpoint from a single
// goroutine. enqueue never blocks: a full queue drops the item.
type sender[T any] struct {
	c      *Client
	path   string
	field  string
	onDrop func([]T)

	ch       chan T
	flushReq chan chan struct{}
	quit     chan struct{}
	done     chan struct{}
	closed   atomic.Bool
	// ctx ends when Close's deadline passes, to stop retrying.
	ctx    context.Context
	cancel context.CancelFunc

	sent, dropped, rejected atomic.Int64
}

func newSender[T any](c *Client, path, field string, onDrop func([]T)) *sender[T] {
	s := &sender[T]{
		c: c, path: path, field: field, onDrop: onDrop,
		ch:       make(chan T, c.opts.QueueSize),
		flushReq: make(chan chan struct{}),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s
}

// enqueue queues x and reports whether it was queued.
func (s *sender[T]) enqueue(x T) bool {
	if s.closed.Load() {
		s.dropped.Add(1)
		return false
	}
	select {
	case s.ch <- x:
		return true
	default:
		s.dropped.Add(1)
		return false
	}
}

func (s *sender[T]) run() {
	defer close(s.done)
	t := time.NewTicker(s.c.opts.FlushInterval)
	defer t.Stop()
	batch := make([]T, 0, s.c.opts.BatchSize)
	send := func() {
		if len(batch) > 0 {
			s.send(batch)
			clear(batch)
			batch = batch[:0]
		}
	}
	add := func(x T) {
		batch = append(batch, x)
		if len(batch) == cap(batch) {
			send()
		}
	}
	// drain sends everything queued now.
	drain := func() {
		for {
			select {
			case x := <-s.ch:
				add(x)
			default:
				send()
				return
			}
		}
	}
	for {
		select {
		case x := <-s.ch:
			add(x)
		case <-t.C:
			send()
		case done := <-s.flushReq:
			drain()
			close(done)
		case <-s.quit:
			drain()
			return
		}
	}
}

// flush waits until everything queued before the call was sent.
func (s *sender[T]) flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.flushReq <- done:
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush %s: %w", s.field, ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush %s: %w", s.field, ctx.Err())
	}
}

// close sends what is queued until ctx ends, then stops.
func (s *sender[T]) close(ctx context.Context) error {
	s.closed.Store(true)
	close(s.quit)
	select {
	case <-s.done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel() // stop retrying; the goroutine drops the rest and exits
		<-s.done
		return fmt.Errorf("close: %d %s not delivered: %w", len(s.ch), s.field, ctx.Err())
	}
}

// send posts one batch, retrying on 429, 503 and network errors with
// exponential backoff (or the server's Retry-After); the batch keeps its
// ids across retries, so the server counts it once.
func (s *sender[T]) send(batch []T) {
	body, err := json.Marshal(map[string][]T{s.field: batch})
	if err != nil {
		s.drop(batch, fmt.Errorf("encode: %w", err))
		return
	}
	backoff := s.c.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		wait, err := s.post(body, len(batch))
		if err == nil {
			return
		}
		if wait < 0 || attempt == s.c.opts.MaxRetries {
			s.drop(batch, err)
			return
		}
		if wait == 0 {
			wait = backoff
			backoff *= 2
		}
		select {
		case <-time.After(wait):
		case <-s.ctx.Done():
			s.drop(batch, err)
			return
		}
	}
}

// post sends one request. It returns nil when the batch was taken, else
// the error and how long to wait before a retry: 0 for the backoff,
// negative when retrying cannot help.
func (s *sender[T]) post(body []byte, n int) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.c.requestTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.opts.BaseURL+s.path, bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	s.c.authorize(req)
	resp, err := s.c.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusMultiStatus:
		var r struct{ Rejected int }
		_ = json.Unmarshal(raw, &r)
		s.sent.Add(int64(n - r.Rejected))
		if r.Rejected > 0 {
			s.rejected.Add(int64(r.Rejected))
			s.c.log.Warn("journeylab: the server rejected part of a batch", "endpoint", s.path, "rejected", r.Rejected, "response", truncate(raw))
		}
		return 0, nil
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		err := fmt.Errorf("%s: %s", s.path, resp.Status)
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs > 0 {
			return min(time.Duration(secs)*time.Second, maxRetryAfter), err
		}
		return 0, err
	default:
		return -1, fmt.Errorf("%s: %s: %s", s.path, resp.Status, truncate(raw))
	}
}

func (s *sender[T]) drop(batch []T, err error) {
	s.dropped.Add(int64(len(batch)))
	s.c.log.Error("journeylab: dropped a batch", "endpoint", s.path, "count", len(batch), "error", err)
	if s.onDrop != nil {
		s.onDrop(batch)
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// newID returns 128 random bits in hex: an event id that is unique without
// coordination and stays the same across retries of its batch.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
